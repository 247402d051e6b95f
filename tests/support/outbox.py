"""Helpers for the notification outbox tests: met runs recorded the way a worker records them,
channels made through the channel services, and a look into the real Celery broker."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from executions_app.channels import channel_create
from executions_app.models import Channel, Delivery, DeliveryAttempt, Execution
from executions_app.runner import execution_claim, execution_record_success
from executions_app.services import execution_request_manual
from torale.search import Evaluation

DELIVER = "torale.notifications.deliver"

SOURCES = [
    {"uri": "https://www.apple.com/newsroom/iphone", "title": "Apple Newsroom"},
    {"uri": "https://www.theverge.com/apple", "title": "The Verge"},
]


def record_run(
    task, *, condition_met: bool = True, answer: str = "It is out on 19 Sept."
) -> Execution:
    """A manual run of `task`, claimed and recorded as a worker does (execution_record_success
    with the outcome a provider would have returned)."""
    run = execution_request_manual(task_id=task.id, user=task.owner)
    claimed = execution_claim(execution_id=run.id)
    assert claimed is not None
    recorded = execution_record_success(
        execution=claimed,
        evaluation=Evaluation(
            condition_met=condition_met,
            answer=answer,
            reasoning="Apple's newsroom names the date.",
            grounding_sources=SOURCES,
            model="gemini-2.5-flash",
        ),
    )
    assert recorded
    return Execution.objects.get(pk=run.pk)


def webhook_channel(owner, url: str, **extra) -> tuple[Channel, str]:
    """A webhook channel made by channel_create (its target checked): (channel, secret)."""
    channel, secret = channel_create(user=owner, kind="webhook", target=url, **extra)
    assert secret is not None
    return channel, secret


def email_channel(owner, address: str, **extra) -> Channel:
    channel, _ = channel_create(user=owner, kind="email", target=address, **extra)
    return channel


def only_delivery(execution: Execution) -> Delivery:
    [delivery] = Delivery.objects.filter(execution=execution)
    return delivery


def attempts_of(delivery: Delivery) -> list[DeliveryAttempt]:
    return list(DeliveryAttempt.objects.filter(delivery=delivery).order_by("number"))


def make_due(delivery: Delivery) -> None:
    """What the passing of its backoff does to a retrying delivery."""
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def expire_lease(delivery: Delivery) -> None:
    """What the passing of time does to the lease of a worker that stopped mid-send."""
    Delivery.objects.filter(pk=delivery.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )


def queued(task_name: str = DELIVER) -> list[str]:
    """The first argument of every `task_name` message waiting in the (real) Redis broker."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        found = []
        for key in client.scan_iter():
            if client.type(key) != b"list":
                continue
            for raw in client.lrange(key, 0, -1):
                message = json.loads(raw)
                if message.get("headers", {}).get("task") != task_name:
                    continue
                args = json.loads(base64.b64decode(message["body"]))[0]
                found.append(args[0])
        return found
    finally:
        client.close()


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll a condition another thread makes true (a request reaching a receiver)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.005)


def waiting_for_locks() -> int:
    """Statements of this test database waiting for a lock (other tests' databases share the
    PostgreSQL server, so they are not counted)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return cursor.fetchone()[0]


class Worker(threading.Thread):
    """A worker thread with its own database connection, as a Celery worker process has."""

    def __init__(self, target: Callable[[], object]):
        super().__init__(daemon=True)
        self._target_call = target
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._target_call()
        except BaseException as exc:  # reported by join_ok()
            self.error = exc
        finally:
            connection.close()

    def join_ok(self, timeout: float = 10.0) -> None:
        self.join(timeout)
        assert not self.is_alive(), "worker did not finish"
        if self.error is not None:
            raise self.error
