"""The reaper's part in the outbox: a delivery whose worker died is published again (or, out
of attempts, failed), and one whose message was lost is published again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from executions_app.channels import task_channels_set
from executions_app.models import Delivery
from executions_app.outbox import delivery_claim, delivery_send
from executions_app.reaper import executions_reap
from tests.factories import make_task
from tests.support.outbox import (
    DELIVER,
    attempts_of,
    expire_lease,
    only_delivery,
    queued,
    record_run,
    webhook_channel,
)
from tests.support.receivers import Reply

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivery(owner, receiver, allow_private, settings) -> Delivery:
    settings.TORALE_DELIVERY_MAX_ATTEMPTS = 3
    channel, _ = webhook_channel(owner, receiver.url())
    task = make_task(owner)
    task_channels_set(task=task, user=owner, channel_ids=[channel.id])
    return only_delivery(record_run(task))


def test_a_delivery_whose_worker_died_is_published_again_and_sent(delivery, receiver):
    assert delivery_claim(delivery_id=delivery.id) is not None  # then the worker died
    expire_lease(delivery)

    report = executions_reap()

    assert (report.deliveries_republished, report.deliveries_failed) == (1, 0)
    assert queued(DELIVER) == [str(delivery.id)]  # in the real broker
    delivery_send(delivery_id=delivery.id)  # what the worker taking the message does
    sent = Delivery.objects.get(pk=delivery.pk)
    assert (sent.status, sent.attempts) == ("sent", 2)
    assert [a.outcome for a in attempts_of(delivery)] == ["interrupted", "sent"]
    assert len(receiver.requests) == 1


def test_a_delivery_that_lost_its_worker_on_every_attempt_fails(delivery, receiver):
    for _ in range(3):
        assert delivery_claim(delivery_id=delivery.id) is not None
        expire_lease(delivery)

    report = executions_reap()

    failed = Delivery.objects.get(pk=delivery.pk)
    assert (report.deliveries_republished, report.deliveries_failed) == (0, 1)
    assert (failed.status, failed.attempts) == ("failed", 3)
    assert failed.error_message == "The worker stopped while sending, 3 times; giving up"
    assert failed.lease_expires_at is None and failed.sent_at is None
    assert [a.outcome for a in attempts_of(delivery)] == ["interrupted"] * 3
    assert queued(DELIVER) == []
    delivery_send(delivery_id=delivery.id)  # a late message sends nothing
    assert receiver.requests == []


def test_a_pending_delivery_whose_message_was_lost_is_published_again(delivery, receiver):
    Delivery.objects.filter(pk=delivery.pk).update(
        updated_at=timezone.now() - timedelta(minutes=10)
    )

    assert executions_reap().deliveries_republished == 1
    assert executions_reap().deliveries_republished == 0  # not again before the next interval

    assert queued(DELIVER) == [str(delivery.id)]


def test_a_due_retry_whose_message_was_lost_is_published_again(delivery, receiver, settings):
    settings.TORALE_DELIVERY_RETRY_BASE_SECONDS = 0.01
    receiver.script(Reply(503))
    delivery_send(delivery_id=delivery.id)
    Delivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - timedelta(minutes=10)
    )

    report = executions_reap()

    assert report.deliveries_republished == 1
    assert str(delivery.id) in queued(DELIVER)


def test_healthy_and_finished_deliveries_are_left_alone(delivery, owner, receiver):
    assert delivery_claim(delivery_id=delivery.id) is not None  # a live worker is sending
    sent_one = only_delivery(record_run(make_task(owner)))  # account email, default channel
    Delivery.objects.filter(pk=sent_one.pk).update(
        status="sent", updated_at=timezone.now() - timedelta(hours=1)
    )

    report = executions_reap()

    assert (report.deliveries_republished, report.deliveries_failed) == (0, 0)
    assert Delivery.objects.get(pk=delivery.pk).status == "sending"
    assert queued(DELIVER) == []
