"""Transient failures (5xx, 429, network) retry with backoff, every attempt recorded; other
4xx fail at once; retries end after TORALE_DELIVERY_MAX_ATTEMPTS; an operator can retry."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from executions_app.models import Delivery, Execution
from executions_app.outbox import delivery_retry, delivery_send, retry_delay
from tests.factories import make_task
from tests.support.outbox import (
    DELIVER,
    attempts_of,
    make_due,
    only_delivery,
    queued,
    record_run,
    webhook_channel,
)
from tests.support.receivers import Reply, free_port
from torale.errors import Conflict

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivery(owner, receiver, allow_private, fast_retries):
    """A pending webhook delivery of a met run: the task notifies only the local receiver."""
    channel, _ = webhook_channel(owner, receiver.url())
    task = make_task(owner)
    from executions_app.channels import task_channels_set

    task_channels_set(task=task, user=owner, channel_ids=[channel.id])
    return only_delivery(record_run(task))


def send_when_due(delivery: Delivery) -> Delivery:
    """Send again as the retry message would, once its backoff has passed."""
    make_due(delivery)
    delivery_send(delivery_id=delivery.id)
    return Delivery.objects.get(pk=delivery.pk)


def test_500_500_200_is_sent_once_with_three_recorded_attempts(delivery, receiver):
    receiver.script(Reply(500, body=b"oops"), Reply(500, body=b"oops again"), Reply(200))

    delivery_send(delivery_id=delivery.id)
    first = Delivery.objects.get(pk=delivery.pk)
    second = send_when_due(delivery)
    third = send_when_due(delivery)

    assert (first.status, second.status) == ("retrying", "retrying")
    assert first.error_message == "Receiver answered 500: oops"
    assert first.next_attempt_at is not None and first.lease_expires_at is None
    assert (third.status, third.attempts, third.error_message) == ("sent", 3, None)
    attempts = attempts_of(delivery)
    assert [(a.number, a.outcome, a.status_code) for a in attempts] == [
        (1, "retry", 500),
        (2, "retry", 500),
        (3, "sent", 200),
    ]
    assert [a.error for a in attempts] == [
        "Receiver answered 500: oops",
        "Receiver answered 500: oops again",
        None,
    ]
    assert all(a.duration_ms is not None and a.duration_ms >= 0 for a in attempts)
    # One event, sent three times: the receiver accepted only the last, and can tell they are one.
    assert len(receiver.requests) == 3
    assert {r.headers["webhook-id"] for r in receiver.requests} == {str(delivery.id)}
    assert Execution.objects.get(pk=delivery.execution_id).notified is True


def test_a_transient_failure_queues_its_retry_in_the_broker(delivery, receiver):
    receiver.script(Reply(503))

    delivery_send(delivery_id=delivery.id)

    assert queued(DELIVER) == [str(delivery.id)]


def test_a_retry_is_not_sent_before_it_is_due(delivery, receiver, settings):
    settings.TORALE_DELIVERY_RETRY_BASE_SECONDS = 60
    receiver.script(Reply(500))
    delivery_send(delivery_id=delivery.id)

    delivery_send(delivery_id=delivery.id)  # an early duplicate of the retry message

    assert len(receiver.requests) == 1
    assert Delivery.objects.get(pk=delivery.pk).attempts == 1


def test_a_retry_is_sent_once_its_backoff_has_passed(delivery, receiver, settings):
    settings.TORALE_DELIVERY_RETRY_BASE_SECONDS = 60
    receiver.script(Reply(503), Reply(200))
    delivery_send(delivery_id=delivery.id)
    due_at = Delivery.objects.get(pk=delivery.pk).next_attempt_at
    assert due_at >= timezone.now() + timedelta(seconds=44)  # 60s, minus at most 25% jitter

    with time_machine.travel(due_at - timedelta(seconds=1), tick=False):
        delivery_send(delivery_id=delivery.id)
        assert len(receiver.requests) == 1  # not yet
    with time_machine.travel(due_at, tick=False):
        delivery_send(delivery_id=delivery.id)

    assert len(receiver.requests) == 2
    assert Delivery.objects.get(pk=delivery.pk).status == "sent"


def test_429_with_retry_after_waits_as_long_as_the_receiver_asked(delivery, receiver):
    receiver.script(Reply(429, headers={"Retry-After": "120"}))
    before = timezone.now()

    delivery_send(delivery_id=delivery.id)

    retrying = Delivery.objects.get(pk=delivery.pk)
    assert retrying.status == "retrying"
    assert retrying.next_attempt_at >= before + timedelta(seconds=120)
    assert retrying.next_attempt_at <= timezone.now() + timedelta(seconds=121)
    assert attempts_of(delivery)[0].status_code == 429


def test_a_retry_after_longer_than_the_cap_is_capped(settings):
    settings.TORALE_DELIVERY_RETRY_BASE_SECONDS = 1
    settings.TORALE_DELIVERY_RETRY_MAX_SECONDS = 600

    assert retry_delay(1, retry_after=86400) == 600
    assert 0.75 <= retry_delay(1) <= 1.25
    assert 600 * 0.75 <= retry_delay(30) <= 600 * 1.25


def test_a_network_error_is_retried(owner, allow_private, fast_retries):
    closed_port = free_port()
    channel, _ = webhook_channel(owner, f"http://127.0.0.1:{closed_port}/hook", is_default=True)
    delivery = Delivery.objects.get(execution=record_run(make_task(owner)), channel=channel)

    delivery_send(delivery_id=delivery.id)

    retrying = Delivery.objects.get(pk=delivery.pk)
    assert retrying.status == "retrying"
    assert "127.0.0.1" in retrying.error_message
    assert attempts_of(delivery)[0].status_code is None


def test_transient_failures_give_up_after_the_last_attempt(
    owner, receiver, allow_private, settings
):
    settings.TORALE_DELIVERY_RETRY_BASE_SECONDS = 0.01
    settings.TORALE_DELIVERY_MAX_ATTEMPTS = 3
    receiver.default = Reply(502, body=b"bad gateway")
    webhook_channel(owner, receiver.url(), is_default=True)
    run = record_run(make_task(owner))
    delivery = Delivery.objects.get(execution=run, kind="webhook")

    delivery_send(delivery_id=delivery.id)
    send_when_due(delivery)
    last = send_when_due(delivery)
    after = send_when_due(delivery)  # a late duplicate message changes nothing

    assert (last.status, last.attempts) == ("failed", 3)
    assert last.error_message == "Receiver answered 502: bad gateway (gave up after 3 attempts)"
    assert last.sent_at is None and last.next_attempt_at is None
    assert (after.status, after.attempts) == ("failed", 3)
    assert [a.outcome for a in attempts_of(delivery)] == ["retry", "retry", "failed"]
    assert len(receiver.requests) == 3
    assert Execution.objects.get(pk=run.pk).notified is False


# --- An operator's retry -----------------------------------------------------------------------


def test_retrying_a_failed_delivery_sends_it_again(delivery, receiver):
    receiver.script(Reply(404), Reply(200))
    delivery_send(delivery_id=delivery.id)
    failed = Delivery.objects.get(pk=delivery.pk)
    assert failed.status == "failed"

    retried = delivery_retry(delivery=failed)
    assert (retried.status, retried.error_message) == ("pending", None)
    delivery_send(delivery_id=delivery.id)

    sent = Delivery.objects.get(pk=delivery.pk)
    assert (sent.status, sent.attempts) == ("sent", 2)
    assert [(a.number, a.outcome) for a in attempts_of(delivery)] == [(1, "failed"), (2, "sent")]
    assert [r.headers["webhook-id"] for r in receiver.requests] == [str(delivery.id)] * 2
    assert Execution.objects.get(pk=delivery.execution_id).notified is True


def test_a_retried_delivery_gets_a_fresh_allowance_of_attempts(
    owner, receiver, allow_private, settings
):
    settings.TORALE_DELIVERY_RETRY_BASE_SECONDS = 0.01
    settings.TORALE_DELIVERY_MAX_ATTEMPTS = 2
    receiver.default = Reply(500)
    webhook_channel(owner, receiver.url(), is_default=True)
    delivery = Delivery.objects.get(execution=record_run(make_task(owner)), kind="webhook")
    delivery_send(delivery_id=delivery.id)
    assert send_when_due(delivery).status == "failed"

    delivery_retry(delivery=delivery)
    delivery_send(delivery_id=delivery.id)
    receiver.default = Reply(200)
    sent = send_when_due(delivery)

    assert (sent.status, sent.attempts) == ("sent", 4)
    assert [a.number for a in attempts_of(delivery)] == [1, 2, 3, 4]


def test_a_sent_delivery_cannot_be_retried(delivery, receiver):
    delivery_send(delivery_id=delivery.id)

    with pytest.raises(Conflict, match="Only a failed or skipped notification can be retried"):
        delivery_retry(delivery=Delivery.objects.get(pk=delivery.pk))

    assert len(receiver.requests) == 1


def test_a_pending_delivery_cannot_be_retried(delivery):
    with pytest.raises(Conflict):
        delivery_retry(delivery=delivery)


def test_a_retry_is_queued_after_it_commits(delivery, receiver, django_capture_on_commit_callbacks):
    receiver.script(Reply(400))
    delivery_send(delivery_id=delivery.id)

    with django_capture_on_commit_callbacks(execute=True):
        delivery_retry(delivery=delivery)

    assert queued(DELIVER) == [str(delivery.id)]
