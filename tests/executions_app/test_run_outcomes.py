"""Runs through the real google-genai SDK against the local Gemini stand-in: results, the
decision table (once/always), retries of transient errors and permanent failures."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from executions_app.models import Execution, ExecutionStatus
from executions_app.runner import execution_run
from executions_app.services import execution_request_manual, executions_create_scheduled
from tasks_app.models import Task
from tasks_app.scheduling import periodic_task_name
from tests.factories import make_task

pytestmark = pytest.mark.django_db

MET = "Apple has officially announced a specific release date"
NOT_MET = "PS5 Pro is available for purchase at Best Buy"  # the stand-in's "not met" rule


def scheduled_run(task) -> Execution:
    [run_id] = executions_create_scheduled(slots=[(str(task.id), timezone.now().isoformat())])
    return Execution.objects.get(pk=run_id)


def rerun_when_due(run) -> Execution:
    """Run it again as its retry message would, once its backoff has passed."""
    Execution.objects.filter(pk=run.pk).update(next_attempt_at=timezone.now())
    execution_run(execution_id=run.pk)
    return Execution.objects.get(pk=run.pk)


def test_a_met_condition_with_once_completes_the_task(owner, gemini):
    task = make_task(owner, condition_description=MET, notify_behavior="once")
    run = scheduled_run(task)

    execution_run(execution_id=run.id)

    run = Execution.objects.get(pk=run.pk)
    assert run.status == ExecutionStatus.SUCCESS and run.condition_met is True
    assert run.answer and run.reasoning
    assert [set(s) for s in run.grounding_sources] == [{"uri", "title"}] * 2
    assert run.model_name and run.total_tokens and run.prompt_tokens
    task = Task.objects.get(pk=task.pk)
    assert task.state == "completed" and task.next_run_at is None
    assert not PeriodicTask.objects.get(name=periodic_task_name(task.id)).enabled
    assert task.last_known_state["answer"] == run.answer
    assert task.last_known_state["timestamp"].endswith("Z")
    assert task.last_execution_id == run.id


def test_a_met_condition_with_always_keeps_the_task_active(owner, gemini):
    task = make_task(owner, condition_description=MET, notify_behavior="always")

    execution_run(execution_id=scheduled_run(task).id)

    assert Task.objects.get(pk=task.pk).state == "active"


def test_an_unmet_condition_keeps_the_task_active(owner, gemini):
    task = make_task(owner, condition_description=NOT_MET)
    run = scheduled_run(task)

    execution_run(execution_id=run.id)

    run = Execution.objects.get(pk=run.pk)
    assert run.status == ExecutionStatus.SUCCESS and run.condition_met is False
    assert Task.objects.get(pk=task.pk).state == "active"


def test_a_manual_run_of_a_paused_task_leaves_it_paused(owner, gemini):
    task = make_task(owner, condition_description=MET, state="paused")
    run = execution_request_manual(task_id=task.id, user=owner)

    execution_run(execution_id=run.id)

    assert Execution.objects.get(pk=run.pk).condition_met is True
    assert Task.objects.get(pk=task.pk).state == "paused"


def test_the_evaluator_hears_what_was_seen_last_time(owner, gemini):
    task = make_task(owner, condition_description=NOT_MET)
    execution_run(execution_id=scheduled_run(task).id)
    first_answer = Task.objects.get(pk=task.pk).last_known_state["answer"]
    gemini.reset()

    execution_run(execution_id=scheduled_run(task).id)

    evaluation_prompt = str(gemini.requests[-1]["body"])
    assert first_answer[:40] in evaluation_prompt


def test_503_twice_then_200_ends_in_success_with_the_retries_recorded(owner, gemini, settings):
    settings.TORALE_RUN_RETRY_BASE_SECONDS = 0.01
    gemini.script({"status": 503}, {"status": 503})
    task = make_task(owner, condition_description=NOT_MET)
    run = scheduled_run(task)

    execution_run(execution_id=run.id)
    first = Execution.objects.get(pk=run.pk)
    second = rerun_when_due(run)
    third = rerun_when_due(run)

    assert first.status == second.status == ExecutionStatus.RETRYING
    assert first.next_attempt_at > first.updated_at - timedelta(seconds=1)
    assert third.status == ExecutionStatus.SUCCESS and third.attempts == 3
    assert [entry["attempt"] for entry in third.attempt_errors] == [1, 2]
    assert all("503" in entry["error"] for entry in third.attempt_errors)
    assert third.error_message is None


def test_a_retry_is_not_taken_before_its_backoff(owner, gemini, settings):
    settings.TORALE_RUN_RETRY_BASE_SECONDS = 60
    gemini.script({"status": 429})
    run = scheduled_run(make_task(owner))
    execution_run(execution_id=run.id)

    execution_run(execution_id=run.id)  # an early duplicate of the retry message

    assert Execution.objects.get(pk=run.pk).attempts == 1


def test_transient_errors_give_up_after_the_last_attempt(owner, gemini, settings):
    settings.TORALE_RUN_RETRY_BASE_SECONDS = 0.01
    settings.TORALE_RUN_MAX_ATTEMPTS = 3
    gemini.script(*[{"status": 503}] * 3)
    run = scheduled_run(make_task(owner))

    execution_run(execution_id=run.id)
    rerun_when_due(run)
    last = rerun_when_due(run)

    assert last.status == ExecutionStatus.FAILED and last.attempts == 3
    assert "503" in last.error_message and "gave up after 3 attempts" in last.error_message


@pytest.mark.parametrize(
    ("status", "words"),
    [(403, "GEMINI_API_KEY"), (404, "GEMINI_MODEL"), (400, "400")],
)
def test_permanent_errors_fail_at_once_saying_what_to_fix(owner, gemini, status, words):
    gemini.script({"status": status})
    run = scheduled_run(make_task(owner))

    execution_run(execution_id=run.id)

    failed = Execution.objects.get(pk=run.pk)
    assert failed.status == ExecutionStatus.FAILED and failed.attempts == 1
    assert words in failed.error_message


def test_model_text_postgresql_cannot_store_is_cleaned_not_fatal(owner, gemini):
    gemini.script(
        {},
        {"json": {"condition_met": False, "reasoning": "r\u0000x", "answer": "a\u0000b"}},
    )
    run = scheduled_run(make_task(owner, condition_description=NOT_MET))

    execution_run(execution_id=run.id)

    stored = Execution.objects.get(pk=run.pk)
    assert stored.status == ExecutionStatus.SUCCESS
    assert (stored.answer, stored.reasoning) == ("ab", "rx")
