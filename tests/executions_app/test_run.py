"""A run's lifecycle: claim, outcome, and the guards that make it happen once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from executions_app.models import Execution, ExecutionStatus
from executions_app.runner import execution_claim, execution_run
from executions_app.services import executions_create_scheduled
from tasks_app.services import task_update
from tests.factories import make_task
from torale.timeutils import iso_utc

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending_run(owner):
    task = make_task(owner)
    [run_id] = executions_create_scheduled(slots=[(str(task.id), timezone.now().isoformat())])
    return Execution.objects.get(pk=run_id)


def test_without_a_provider_a_run_fails_with_a_clear_message(pending_run, settings):
    settings.GEMINI_API_KEY = ""

    execution_run(execution_id=pending_run.id)

    run = Execution.objects.get(pk=pending_run.pk)
    assert run.status == ExecutionStatus.FAILED
    assert run.error_message == "No search provider configured: set GEMINI_API_KEY"
    assert run.condition_met is None and run.completed_at is not None
    assert run.attempts == 1


def test_a_redelivered_message_does_not_run_again(pending_run, settings):
    settings.GEMINI_API_KEY = ""
    execution_run(execution_id=pending_run.id)
    finished = Execution.objects.get(pk=pending_run.pk)

    execution_run(execution_id=pending_run.id)

    again = Execution.objects.get(pk=pending_run.pk)
    assert (again.status, again.attempts, again.completed_at) == (
        finished.status,
        finished.attempts,
        finished.completed_at,
    )


def test_only_one_worker_can_claim_a_run(pending_run):
    first = execution_claim(execution_id=pending_run.id)
    second = execution_claim(execution_id=pending_run.id)

    assert first is not None and first.status == ExecutionStatus.RUNNING
    assert second is None


def test_a_run_whose_lease_expired_can_be_taken_over(pending_run):
    first = execution_claim(execution_id=pending_run.id)
    began = timezone.now() - timedelta(minutes=7)
    Execution.objects.filter(pk=first.pk).update(
        started_at=began, lease_expires_at=timezone.now() - timedelta(seconds=1)
    )

    second = execution_claim(execution_id=pending_run.id)

    assert second is not None and second.attempts == 2
    stored = Execution.objects.get(pk=pending_run.pk)
    # The lost attempt is dated when it began, not when it was found abandoned.
    assert [(r["attempt"], r["error"], r["at"]) for r in stored.attempt_errors] == [
        (1, "The worker running this attempt stopped before finishing", iso_utc(began))
    ]


def test_a_run_that_is_still_leased_is_not_taken_over(pending_run):
    execution_claim(execution_id=pending_run.id)

    assert execution_claim(execution_id=pending_run.id) is None
    assert Execution.objects.get(pk=pending_run.pk).attempt_errors == []


def test_a_first_claim_records_no_lost_attempt(pending_run):
    execution_claim(execution_id=pending_run.id)

    assert Execution.objects.get(pk=pending_run.pk).attempt_errors == []


def test_a_scheduled_run_of_a_task_paused_meanwhile_is_skipped(pending_run, owner):
    task_update(task_id=pending_run.task_id, user=owner, changes={"state": "paused"})

    execution_run(execution_id=pending_run.id)

    run = Execution.objects.get(pk=pending_run.pk)
    assert run.status == ExecutionStatus.CANCELLED
    assert "paused" in run.error_message


def test_a_run_of_a_deleted_task_is_a_no_op(pending_run):
    pending_run.task.delete()

    execution_run(execution_id=pending_run.id)  # must not raise

    assert not Execution.objects.filter(pk=pending_run.pk).exists()
