"""Exactly once per (execution, channel): duplicated messages and concurrent workers send one
request; a worker that lost its lease cannot overwrite the newer attempt; a worker that died
mid-send leaves an interrupted attempt and the resend carries the same event id."""

from __future__ import annotations

import threading

import pytest
from django.db import transaction

from executions_app.channels import task_channels_set
from executions_app.models import Delivery, DeliveryAttempt, Execution
from executions_app.notifiers.base import DeliveryError, SendResult
from executions_app.outbox import _record_failure, _record_sent, delivery_claim, delivery_send
from tests.factories import make_task
from tests.support.outbox import (
    Worker,
    attempts_of,
    expire_lease,
    only_delivery,
    record_run,
    wait_until,
    waiting_for_locks,
    webhook_channel,
)
from tests.support.receivers import Reply

pytestmark = pytest.mark.django_db


def webhook_delivery(owner, receiver) -> Delivery:
    channel, _ = webhook_channel(owner, receiver.url())
    task = make_task(owner)
    task_channels_set(task=task, user=owner, channel_ids=[channel.id])
    return only_delivery(record_run(task))


@pytest.fixture
def delivery(owner, receiver, allow_private) -> Delivery:
    return webhook_delivery(owner, receiver)


def test_a_sent_delivery_is_not_sent_again(delivery, receiver):
    delivery_send(delivery_id=delivery.id)
    sent = Delivery.objects.get(pk=delivery.pk)

    delivery_send(delivery_id=delivery.id)  # a duplicated or redelivered message

    again = Delivery.objects.get(pk=delivery.pk)
    assert len(receiver.requests) == 1
    assert (again.status, again.attempts, again.sent_at) == ("sent", 1, sent.sent_at)
    assert DeliveryAttempt.objects.filter(delivery=delivery).count() == 1


def test_only_one_worker_can_claim_a_delivery(delivery):
    first = delivery_claim(delivery_id=delivery.id)
    second = delivery_claim(delivery_id=delivery.id)

    assert first is not None and first.status == "sending" and first.attempts == 1
    assert second is None


def test_a_deleted_delivery_is_a_no_op(delivery, receiver):
    Execution.objects.filter(pk=delivery.execution_id).delete()

    delivery_send(delivery_id=delivery.id)  # must not raise

    assert receiver.requests == []


@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_at_once_make_one_request(owner, receiver, allow_private):
    delivery = webhook_delivery(owner, receiver)
    start = threading.Barrier(2)

    def worker():
        start.wait(timeout=5)
        delivery_send(delivery_id=delivery.id)

    workers = [Worker(worker), Worker(worker)]
    for w in workers:
        w.start()
    for w in workers:
        w.join_ok()

    assert len(receiver.requests) == 1
    sent = Delivery.objects.get(pk=delivery.pk)
    assert (sent.status, sent.attempts) == ("sent", 1)
    assert [a.outcome for a in attempts_of(delivery)] == ["sent"]


@pytest.mark.django_db(transaction=True)
def test_a_stale_worker_cannot_overwrite_the_newer_attempt(owner, receiver, allow_private):
    """Worker A stalls mid-request past its lease; worker B takes over and delivers; A's late
    500 must not turn the sent delivery back into a retry."""
    delivery = webhook_delivery(owner, receiver)
    release = threading.Event()
    receiver.script(Reply(500, hold=release), Reply(200))
    stale = Worker(lambda: delivery_send(delivery_id=delivery.id))
    stale.start()
    wait_until(lambda: len(receiver.requests) == 1)  # A's request is at the receiver, held

    expire_lease(delivery)
    delivery_send(delivery_id=delivery.id)  # worker B
    release.set()
    stale.join_ok()

    sent = Delivery.objects.get(pk=delivery.pk)
    assert (sent.status, sent.attempts, sent.error_message) == ("sent", 2, None)
    assert sent.next_attempt_at is None
    attempts = attempts_of(delivery)
    assert [(a.number, a.outcome) for a in attempts] == [(1, "interrupted"), (2, "sent")]
    assert Execution.objects.get(pk=delivery.execution_id).notified is True
    assert [r.headers["webhook-id"] for r in receiver.requests] == [str(delivery.id)] * 2


def test_a_worker_that_died_mid_send_leaves_an_interrupted_attempt(delivery, receiver):
    dead = delivery_claim(delivery_id=delivery.id)  # claimed, then the worker vanished
    assert dead is not None
    assert delivery_claim(delivery_id=delivery.id) is None  # its lease still holds

    expire_lease(delivery)
    delivery_send(delivery_id=delivery.id)

    sent = Delivery.objects.get(pk=delivery.pk)
    assert (sent.status, sent.attempts) == ("sent", 2)
    first, second = attempts_of(delivery)
    assert (first.number, first.outcome) == (1, "interrupted")
    assert "whether it arrived is unknown" in first.error
    assert (second.number, second.outcome, second.status_code) == (2, "sent", 200)
    [received] = receiver.requests
    assert received.headers["webhook-id"] == str(delivery.id)


def test_the_resend_after_a_lost_worker_is_the_same_event(delivery, receiver):
    """The first worker got its request out and died before recording it: the receiver sees
    the same id twice and can drop the repeat."""
    delivery_send(delivery_id=delivery.id)
    first_body = receiver.requests[0].body
    # As if that worker had died before recording the outcome.
    Delivery.objects.filter(pk=delivery.pk).update(status="sending", sent_at=None)
    DeliveryAttempt.objects.filter(delivery=delivery).update(outcome="in_progress")
    expire_lease(delivery)

    delivery_send(delivery_id=delivery.id)

    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == str(delivery.id)
    assert second.body == first_body  # same event: same id and created_at
    assert [a.outcome for a in attempts_of(delivery)] == ["interrupted", "sent"]


def record_sent(stale: Delivery) -> None:
    _record_sent(stale, SendResult(status_code=200), 5)


def record_retry(stale: Delivery) -> None:
    _record_failure(stale, DeliveryError("Receiver answered 500", False, status_code=500), 5)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("record", [record_sent, record_retry], ids=["sent", "retry"])
def test_a_takeover_while_the_old_worker_records_its_outcome_does_not_deadlock(
    owner, receiver, allow_private, record
):
    """Worker A finishes its send just as worker B claims the delivery after A's lease ran out.
    Both touch the delivery row and A's attempt row: they must take them in the same order, or
    PostgreSQL aborts one of them as a deadlock."""
    delivery = webhook_delivery(owner, receiver)
    stale = delivery_claim(delivery_id=delivery.id)
    expire_lease(delivery)
    holding, release = threading.Event(), threading.Event()

    def hold_the_row():  # lines A and B up behind one lock, B first
        with transaction.atomic():
            Delivery.objects.select_for_update().get(pk=delivery.pk)
            holding.set()
            release.wait(timeout=10)

    holder = Worker(hold_the_row)
    holder.start()
    holding.wait(timeout=5)
    claims = []
    taker = Worker(lambda: claims.append(delivery_claim(delivery_id=delivery.id)))
    taker.start()
    wait_until(lambda: waiting_for_locks() >= 1)
    recorder = Worker(lambda: record(stale))
    recorder.start()
    wait_until(lambda: waiting_for_locks() >= 2)
    release.set()

    for worker in (holder, taker, recorder):
        worker.join_ok()  # a deadlock would raise here

    [claimed] = claims
    assert claimed is not None and claimed.attempts == 2  # B took over first...
    row = Delivery.objects.get(pk=delivery.pk)
    assert (row.status, row.attempts) == ("sending", 2)  # ...so A's late outcome is fenced off
    assert [(a.number, a.outcome) for a in attempts_of(delivery)] == [
        (1, "interrupted"),
        (2, "in_progress"),
    ]
