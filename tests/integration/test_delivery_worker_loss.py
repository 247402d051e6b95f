"""Real workers, beat and broker against a Standard Webhooks consumer: a worker killed with
kill -9 in the middle of a webhook delivery, and deliver messages that arrive twice, never
make the consumer act on one event twice."""

import json
import re

import pytest
import redis
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from executions_app.channels import task_channels_set, webhook_config_put
from executions_app.models import AttemptOutcome, Delivery, DeliveryStatus, Execution
from executions_app.outbox import INTERRUPTED, deliveries_create
from tests.factories import make_execution, make_task
from tests.support.processes import Proc, process_env, start_beat, start_worker, wait_until
from tests.support.receivers import Reply
from tests.support.webhook_consumer import StandardWebhooksConsumer
from torale.celery import app

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

DELIVER = "torale.notifications.deliver"
# Short limits for a test, in the order production keeps them: webhook timeouts < soft time
# limit (limit - 2) < hard time limit < lease, and a reaper that looks every second.
FAST_DELIVERIES = {
    "TORALE_DELIVERY_TIME_LIMIT_SECONDS": "5",
    "TORALE_DELIVERY_LEASE_SECONDS": "6",
    "TORALE_REAPER_INTERVAL_SECONDS": "1",
    "TORALE_WEBHOOK_CONNECT_TIMEOUT_SECONDS": "2",
    "TORALE_WEBHOOK_READ_TIMEOUT_SECONDS": "3",
    "TORALE_WEBHOOK_TOTAL_TIMEOUT_SECONDS": "3",
    "TORALE_ALLOW_PRIVATE_WEBHOOKS": "true",
}
TASK_LINE = re.compile(rf"Task {re.escape(DELIVER)}\[([0-9a-f-]+)\] (received|succeeded|raised)")


@pytest.fixture
def consumer(settings):
    settings.TORALE_ALLOW_PRIVATE_WEBHOOKS = True  # so that a loopback URL can be saved
    with StandardWebhooksConsumer("127.0.0.1") as server:
        yield server


@pytest.fixture
def env(settings):
    # The channel's URL and secret are encrypted here under a key derived from SECRET_KEY;
    # the workers must derive the same key to read them.
    return process_env(SECRET_KEY=settings.SECRET_KEY, **FAST_DELIVERIES)


def met_condition(owner, consumer: StandardWebhooksConsumer) -> Delivery:
    """A run whose condition was met, notifying only the account webhook. As in the runner,
    the delivery is created in the transaction that records the result, and its message is
    published to the broker when that commits."""
    channel, secret = webhook_config_put(user=owner, url=consumer.url())
    consumer.secret = secret
    task = make_task(owner)
    task_channels_set(task=task, user=owner, channel_ids=[channel.id])  # not the email too
    with transaction.atomic():
        execution = make_execution(task, condition_met=True)
        [delivery_id] = deliveries_create(execution=execution, task=task, now=timezone.now())
    return Delivery.objects.get(pk=delivery_id)


def sent(delivery: Delivery, timeout: float) -> Delivery:
    return wait_until(
        lambda: Delivery.objects.filter(pk=delivery.pk, status=DeliveryStatus.SENT).first(),
        timeout=timeout,
        message="the delivery to be sent",
    )


def outcomes(delivery: Delivery) -> list[tuple[int, str, int | None]]:
    return [(a.number, a.outcome, a.status_code) for a in delivery.attempt_log.order_by("number")]


def queued_deliver_messages() -> int:
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        messages = [json.loads(raw) for raw in client.lrange("celery", 0, -1)]
    finally:
        client.close()
    return sum(1 for m in messages if m.get("headers", {}).get("task") == DELIVER)


def deliver_messages_settled(worker: Proc) -> bool:
    """No deliver message waits in the broker, and the worker finished every one it took."""
    received, finished = set(), set()
    for task_id, event in TASK_LINE.findall(worker.output()):
        (received if event == "received" else finished).add(task_id)
    return queued_deliver_messages() == 0 and received <= finished


def test_a_worker_killed_mid_send_makes_one_accepted_delivery(owner, consumer, env, log_dir):
    # The consumer acts on the first request at once but answers only 3 s later; the worker
    # that sent it is killed meanwhile, so it never learns that the event arrived.
    consumer.script(Reply(200, delay=3))
    procs = []
    try:
        doomed = start_worker("doomed", env, log_dir)
        procs.append(doomed)
        delivery = met_condition(owner, consumer)
        wait_until(lambda: consumer.requests, 15, interval=0.05, message="the first send")
        doomed.kill()  # kill -9 of the worker and its pool, while the request is held

        held = Delivery.objects.get(pk=delivery.pk)
        assert (held.status, held.attempts) == (DeliveryStatus.SENDING, 1)
        assert outcomes(held) == [(1, AttemptOutcome.IN_PROGRESS, None)]
        assert consumer.accepted == [str(delivery.pk)]

        # Redis would give the unacknowledged message back only after its visibility timeout
        # (minutes): it is the reaper that hands the delivery on once the lease expires.
        survivor = start_worker("survivor", env, log_dir)
        procs += [survivor, start_beat("beat", env, log_dir)]
        done = sent(delivery, timeout=30)
        # Let every message the reaper published meanwhile reach the worker: none sends again.
        wait_until(lambda: deliver_messages_settled(survivor), 15, message="the queue to drain")

        assert consumer.accepted == [str(delivery.pk)]
        assert consumer.duplicates == [str(delivery.pk)]
        assert consumer.rejected == []
        assert len(consumer.requests) == done.attempts == 2
        assert consumer.webhook_ids == [str(delivery.pk)] * 2
        first, second = consumer.requests
        assert first.body == second.body  # the same event, not a new one
        assert json.loads(first.body)["id"] == str(delivery.pk)

        assert outcomes(done) == [
            (1, AttemptOutcome.INTERRUPTED, None),
            (2, AttemptOutcome.SENT, 200),
        ]
        assert done.attempt_log.get(number=1).error == INTERRUPTED
        assert done.error_message is None and done.sent_at is not None
        assert done.lease_expires_at is None
        assert Execution.objects.get(pk=done.execution_id).notified is True
        assert re.search(r"reaper: republished [1-9]\d* deliveries", survivor.output())
        assert f"delivery {delivery.pk} sent (webhook, attempt 2)" in survivor.output()
    finally:
        for proc in procs:
            proc.stop()


def test_deliver_messages_repeated_during_and_after_the_send_send_nothing_more(
    owner, consumer, env, log_dir
):
    consumer.script(Reply(200, delay=2))  # keeps the first send in flight for a while
    worker = start_worker("worker", env, log_dir, concurrency=2)
    try:
        delivery = met_condition(owner, consumer)
        wait_until(lambda: consumer.requests, 15, interval=0.05, message="the first send")
        # A copy while the send is in flight: the other pool process claims nothing.
        repeats = [app.send_task(DELIVER, args=[str(delivery.pk)])]
        sent(delivery, timeout=15)
        # Copies of a sent delivery's message (a redelivery, a late reaper publication).
        repeats += [app.send_task(DELIVER, args=[str(delivery.pk)]) for _ in range(2)]

        wait_until(
            lambda: all(f"{DELIVER}[{r.id}] succeeded" in worker.output() for r in repeats),
            15,
            message="the worker to handle every repeated message",
        )
        assert len(consumer.requests) == 1
        assert consumer.accepted == [str(delivery.pk)]
        assert consumer.duplicates == consumer.rejected == []
        done = Delivery.objects.get(pk=delivery.pk)
        assert (done.status, done.attempts) == (DeliveryStatus.SENT, 1)
        assert outcomes(done) == [(1, AttemptOutcome.SENT, 200)]
        assert Execution.objects.get(pk=done.execution_id).notified is True
    finally:
        worker.stop()
