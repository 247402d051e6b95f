"""TORALE_NOTIFICATIONS_PER_DAY: past the owner's limit over the last 24 hours, deliveries are
recorded as skipped, with a message saying why, and never sent."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from executions_app.channels import channel_account_email
from executions_app.models import Delivery, Execution
from executions_app.outbox import delivery_retry, delivery_send
from executions_app.runner import execution_claim, execution_record_success
from executions_app.services import execution_request_manual
from tests.factories import make_task, make_user
from tests.support.outbox import (
    Worker,
    email_channel,
    record_run,
    wait_until,
    waiting_for_locks,
    webhook_channel,
)
from torale.errors import Conflict
from torale.search import Evaluation

pytestmark = pytest.mark.django_db


LIMIT_REACHED = "Not sent: the daily limit of 2 notifications for this account was reached"


@pytest.fixture
def three_channels(owner, settings):
    """The owner's defaults: account email, a webhook and a second email (in that order)."""
    settings.TORALE_NOTIFICATIONS_PER_DAY = 2
    channel_account_email(user=owner)
    webhook_channel(owner, "https://hooks.example.com/a", is_default=True)
    email_channel(owner, "team@example.com", is_default=True)


def statuses(execution: Execution) -> list[tuple[str, str, str | None]]:
    rows = Delivery.objects.filter(execution=execution).order_by("channel__created_at")
    return [(d.kind, d.status, d.error_message) for d in rows]


def test_the_delivery_past_the_daily_limit_is_skipped(owner, three_channels):
    run = record_run(make_task(owner))

    assert statuses(run) == [
        ("email", "pending", None),
        ("webhook", "pending", None),
        ("email", "skipped", LIMIT_REACHED),
    ]


def test_later_runs_that_day_are_all_skipped(owner, three_channels):
    task = make_task(owner, notify_behavior="always")
    record_run(task)

    later = record_run(task)

    assert [status for _, status, _ in statuses(later)] == ["skipped"] * 3
    assert {message for _, _, message in statuses(later)} == {LIMIT_REACHED}


def test_a_skipped_delivery_is_never_sent(owner, three_channels, smtp_settings, smtp):
    run = record_run(make_task(owner))
    skipped = Delivery.objects.get(execution=run, status="skipped")

    delivery_send(delivery_id=skipped.id)

    skipped.refresh_from_db()
    assert (skipped.status, skipped.attempts) == ("skipped", 0)
    assert smtp.messages == []


def test_deliveries_older_than_a_day_do_not_count(owner, three_channels):
    task = make_task(owner, notify_behavior="always")
    with time_machine.travel(timezone.now() - timedelta(hours=25), tick=False):
        yesterday = record_run(task)

    today = record_run(task)

    assert [status for _, status, _ in statuses(yesterday)] == ["pending", "pending", "skipped"]
    assert [status for _, status, _ in statuses(today)] == ["pending", "pending", "skipped"]


def test_deliveries_within_the_last_day_count(owner, three_channels):
    task = make_task(owner, notify_behavior="always")
    with time_machine.travel(timezone.now() - timedelta(hours=23), tick=False):
        record_run(task)

    later = record_run(task)

    assert [status for _, status, _ in statuses(later)] == ["skipped"] * 3


def test_skipped_deliveries_do_not_use_up_the_limit(owner, three_channels, settings):
    task = make_task(owner, notify_behavior="always")
    record_run(task)  # two pending, one skipped
    settings.TORALE_NOTIFICATIONS_PER_DAY = 3

    later = record_run(task)

    assert [status for _, status, _ in statuses(later)] == ["pending", "skipped", "skipped"]


def test_the_limit_is_per_account(owner, three_channels):
    record_run(make_task(owner, notify_behavior="always"))
    other = make_user("neighbour")

    run = record_run(make_task(other))

    assert [status for _, status, _ in statuses(run)] == ["pending"]


def claimed_run(task):
    run = execution_request_manual(task_id=task.id, user=task.owner)
    return execution_claim(execution_id=run.id)


@pytest.mark.django_db(transaction=True)
def test_two_runs_finishing_together_cannot_both_take_the_last_notification(owner, settings):
    settings.TORALE_NOTIFICATIONS_PER_DAY = 1
    channel_account_email(user=owner)
    runs = [claimed_run(make_task(owner, name=f"Task {i}")) for i in range(2)]
    holding, release = threading.Event(), threading.Event()

    def hold_the_owner():  # both runs reach the count while the owner's row is held
        with transaction.atomic():
            get_user_model().objects.select_for_update().get(pk=owner.pk)
            holding.set()
            release.wait(timeout=10)

    def finish(run):
        evaluation = Evaluation(condition_met=True, answer="Out on Friday.", reasoning="r")
        assert execution_record_success(execution=run, evaluation=evaluation)

    holder = Worker(hold_the_owner)
    holder.start()
    holding.wait(timeout=5)
    workers = [Worker(lambda run=run: finish(run)) for run in runs]
    for worker in workers:
        worker.start()
    wait_until(lambda: waiting_for_locks() >= 2)
    release.set()
    for worker in (holder, *workers):
        worker.join_ok()

    assert sorted(Delivery.objects.values_list("status", flat=True)) == ["pending", "skipped"]


def test_a_skipped_delivery_cannot_be_retried_while_the_limit_is_still_reached(
    owner, three_channels
):
    run = record_run(make_task(owner))
    skipped = Delivery.objects.get(execution=run, status="skipped")

    with pytest.raises(Conflict) as caught:
        delivery_retry(delivery=skipped)

    assert caught.value.detail == (
        "The daily limit of 2 notifications for this account is still reached; "
        "retry once older notifications are a day old"
    )
    skipped.refresh_from_db()
    assert skipped.status == "skipped"


def test_a_skipped_delivery_can_be_retried_and_sent_once_under_the_limit(
    owner, three_channels, smtp_settings, smtp
):
    # A `once` task completes with its run: the notice it skipped must not be lost for good.
    run = record_run(make_task(owner))
    skipped = Delivery.objects.get(execution=run, status="skipped")

    with time_machine.travel(timezone.now() + timedelta(days=1, minutes=1)):
        assert delivery_retry(delivery=skipped).status == "pending"
        delivery_send(delivery_id=skipped.id)

    skipped.refresh_from_db()
    assert (skipped.status, skipped.attempts, skipped.error_message) == ("sent", 1, None)
    assert len(smtp.messages) == 1
