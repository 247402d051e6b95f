"""A met condition puts one delivery per channel into the outbox, in the transaction that
records the result; other outcomes put none."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from executions_app.channels import task_channels_set
from executions_app.models import (
    Channel,
    ChannelRole,
    Delivery,
    DeliveryStatus,
    Execution,
    ExecutionStatus,
)
from executions_app.runner import execution_claim, execution_record_success, execution_run
from executions_app.services import execution_request_manual
from tests.factories import make_task, make_user
from tests.support.outbox import (
    DELIVER,
    email_channel,
    queued,
    record_run,
    webhook_channel,
)
from torale.search import Evaluation

pytestmark = pytest.mark.django_db

MET = "Apple has officially announced a specific release date"
NOT_MET = "PS5 Pro is available for purchase at Best Buy"  # the stand-in's "not met" rule
WEBHOOK_URL = "https://hooks.example.com/torale"


def manual_run(task) -> Execution:
    return execution_request_manual(task_id=task.id, user=task.owner)


def test_a_met_condition_creates_one_delivery_to_the_account_email(owner, gemini):
    task = make_task(owner, condition_description=MET)
    assert not Channel.objects.filter(owner=owner).exists()

    run = manual_run(task)
    execution_run(execution_id=run.id)

    account_email = Channel.objects.get(owner=owner)  # a default channel, made on first use
    assert (account_email.role, account_email.is_default) == (ChannelRole.ACCOUNT_EMAIL, True)
    [delivery] = Delivery.objects.filter(execution=run)
    assert delivery.channel == account_email
    assert (delivery.kind, delivery.recipient) == ("email", "owner@example.com")
    assert (delivery.status, delivery.attempts, delivery.error_message) == ("pending", 0, None)
    assert (delivery.owner, delivery.task) == (owner, task)
    run.refresh_from_db()
    assert delivery.created_at == run.completed_at  # recorded together, with the result
    assert run.notified is False  # nothing was sent yet


def test_a_redelivered_run_message_creates_no_second_delivery(owner, gemini):
    run = manual_run(make_task(owner, condition_description=MET))
    execution_run(execution_id=run.id)

    execution_run(execution_id=run.id)  # the broker hands the same message out again

    assert Delivery.objects.filter(execution=run).count() == 1


def test_an_unmet_condition_creates_no_delivery(owner, gemini):
    run = manual_run(make_task(owner, condition_description=NOT_MET))

    execution_run(execution_id=run.id)

    assert Execution.objects.get(pk=run.pk).condition_met is False
    assert not Delivery.objects.exists()


def test_a_failed_run_creates_no_delivery(owner, gemini):
    gemini.script({"status": 403})
    run = manual_run(make_task(owner, condition_description=MET))

    execution_run(execution_id=run.id)

    assert Execution.objects.get(pk=run.pk).status == ExecutionStatus.FAILED
    assert not Delivery.objects.exists()


def test_every_enabled_default_channel_gets_one_delivery(owner):
    webhook, _ = webhook_channel(owner, WEBHOOK_URL, is_default=True)
    email_channel(owner, "not-default@example.com")  # the user's, not a default
    task = make_task(owner)

    run = record_run(task)

    deliveries = Delivery.objects.filter(execution=run).order_by("created_at", "kind")
    assert sorted((d.kind, d.recipient) for d in deliveries) == [
        ("email", "owner@example.com"),
        ("webhook", "https://hooks.example.com/torale"),
    ]
    assert {d.channel_id for d in deliveries} == {
        Channel.objects.get(owner=owner, role=ChannelRole.ACCOUNT_EMAIL).id,
        webhook.id,
    }


def test_a_task_with_chosen_channels_notifies_only_those(owner):
    webhook_channel(owner, WEBHOOK_URL, is_default=True)
    chosen = email_channel(owner, "team@example.com")
    task = make_task(owner)
    task_channels_set(task=task, user=owner, channel_ids=[chosen.id])

    run = record_run(task)

    assert [(d.channel_id, d.recipient) for d in Delivery.objects.filter(execution=run)] == [
        (chosen.id, "team@example.com")
    ]


def test_disabled_channels_are_skipped(owner):
    webhook_channel(owner, WEBHOOK_URL, is_default=True, enabled=False)
    task = make_task(owner)

    run = record_run(task)

    assert [d.kind for d in Delivery.objects.filter(execution=run)] == ["email"]


def test_a_task_whose_chosen_channels_are_all_disabled_notifies_nobody(owner):
    chosen = email_channel(owner, "team@example.com", enabled=False)
    task = make_task(owner)
    task_channels_set(task=task, user=owner, channel_ids=[chosen.id])

    run = record_run(task)

    assert not Delivery.objects.filter(execution=run).exists()  # not the defaults either


def test_another_users_channels_are_not_used(owner):
    stranger = make_user("stranger")
    webhook_channel(stranger, WEBHOOK_URL, is_default=True)

    run = record_run(make_task(owner))

    assert [d.owner_id for d in Delivery.objects.filter(execution=run)] == [owner.id]


def test_each_met_run_gets_its_own_deliveries(owner):
    task = make_task(owner, notify_behavior="always")

    first, second = record_run(task), record_run(task)

    assert Delivery.objects.filter(execution=first).count() == 1
    assert Delivery.objects.filter(execution=second).count() == 1


def test_a_result_that_is_not_stored_creates_no_delivery(owner):
    """A worker whose lease was taken over stores nothing, so it queues nothing to send."""
    run = manual_run(make_task(owner))
    stale = execution_claim(execution_id=run.id)
    Execution.objects.filter(pk=run.pk).update(lease_expires_at=timezone.now() - timedelta(1))
    assert execution_claim(execution_id=run.id) is not None  # another worker took over

    stored = execution_record_success(
        execution=stale, evaluation=Evaluation(condition_met=True, answer="a", reasoning="r")
    )

    assert stored is False
    assert not Delivery.objects.exists()


def test_deliveries_roll_back_with_the_result(owner):
    run = manual_run(make_task(owner))
    claimed = execution_claim(execution_id=run.id)

    with pytest.raises(RuntimeError), transaction.atomic():
        execution_record_success(
            execution=claimed, evaluation=Evaluation(condition_met=True, answer="a", reasoning="r")
        )
        raise RuntimeError("the transaction recording the result failed")

    assert Execution.objects.get(pk=run.pk).status == ExecutionStatus.RUNNING
    assert not Delivery.objects.exists()


def test_deliveries_are_queued_only_after_the_result_commits(
    owner, django_capture_on_commit_callbacks
):
    task = make_task(owner)
    webhook_channel(owner, WEBHOOK_URL, is_default=True)

    with django_capture_on_commit_callbacks() as callbacks:
        run = record_run(task)
        assert queued(DELIVER) == []  # nothing published inside the transaction

    assert len(callbacks) >= 1
    for callback in callbacks:
        callback()
    ids = {str(pk) for pk in Delivery.objects.filter(execution=run).values_list("pk", flat=True)}
    assert len(ids) == 2
    assert sorted(queued(DELIVER)) == sorted(ids)
    assert all(d.status == DeliveryStatus.PENDING for d in Delivery.objects.all())
