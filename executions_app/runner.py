"""What one run does: claim it, search and evaluate, record the outcome and its effects.

Exactly-once rests on the database, not on the broker:
- a run is claimed by a conditional UPDATE (pending, due retrying, or running with an expired
  lease -> running, attempts + 1); a duplicated or redelivered message claims nothing;
- the attempt number taken by the claim fences every later write: a worker that lost its
  lease (it stalled, another took over) cannot overwrite the newer attempt's outcome.
"""

from __future__ import annotations

import logging
import random
from dataclasses import replace
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from executions_app.models import Execution, ExecutionStatus, ExecutionTrigger
from executions_app.outbox import deliveries_create
from tasks_app.models import NotifyBehavior, Task, TaskState
from tasks_app.scheduling import task_schedule_sync
from torale.errors import ProviderError
from torale.search import Evaluation, get_search_provider
from torale.timeutils import iso_utc

logger = logging.getLogger(__name__)

NOT_ACTIVE_BEFORE_RUN = "Skipped: the task was {state} before this scheduled run started"
UNEXPECTED = "The check failed unexpectedly ({kind}); the operators' logs have the details"
TIME_LIMIT_MESSAGE = "The search took longer than the time limit of {seconds} seconds"
WORKER_STOPPED = "The worker running this attempt stopped before finishing"


def _waiting(now: datetime) -> Q:
    return Q(status=ExecutionStatus.PENDING) | Q(
        status=ExecutionStatus.RETRYING, next_attempt_at__lte=now
    )


def _abandoned(now: datetime) -> Q:
    """Running past its lease: the worker that claimed it is gone."""
    return Q(status=ExecutionStatus.RUNNING, lease_expires_at__lt=now)


def execution_claim(*, execution_id) -> Execution | None:
    """Take the run for this worker; None when it is not ours to run (already running
    elsewhere, finished, cancelled, deleted, or its retry is not due yet). Taking over from
    a worker that died lists the lost attempt among the run's retries."""
    now = timezone.now()
    claim = {
        "status": ExecutionStatus.RUNNING,
        "attempts": F("attempts") + 1,
        "started_at": now,
        "lease_expires_at": now + timedelta(seconds=settings.TORALE_RUN_LEASE_SECONDS),
        "next_attempt_at": None,
        "updated_at": now,
    }
    runs = Execution.objects.filter(pk=execution_id).exclude(
        attempts__gte=settings.TORALE_RUN_MAX_ATTEMPTS
    )
    # Two conditional UPDATEs rather than one, so that a takeover is known as such.
    if runs.filter(_waiting(now)).update(**claim):
        return Execution.objects.select_related("task").get(pk=execution_id)
    abandoned = runs.filter(_abandoned(now))
    # When the lost attempt began: when its worker died is unknown, and the takeover may
    # come a whole lease later.
    lost_started = abandoned.values_list("started_at", flat=True).first()
    if not abandoned.update(**claim):
        return None
    execution = Execution.objects.select_related("task").get(pk=execution_id)
    lost = {
        "attempt": execution.attempts - 1,
        "error": WORKER_STOPPED,
        "at": iso_utc(lost_started or now),
    }
    execution.attempt_errors = [*execution.attempt_errors, lost]
    _mine(execution).update(attempt_errors=execution.attempt_errors)
    return execution


def _mine(execution: Execution):
    """The run's row, as long as this worker's attempt still owns it."""
    return Execution.objects.filter(
        pk=execution.pk, status=ExecutionStatus.RUNNING, attempts=execution.attempts
    )


def execution_finish(*, execution: Execution, status: str, message: str | None) -> bool:
    """End the run as failed or cancelled with a message for the user."""
    now = timezone.now()
    return bool(
        _mine(execution).update(
            status=status,
            error_message=message,
            completed_at=now,
            lease_expires_at=None,
            updated_at=now,
        )
    )


def retry_delay(attempt: int) -> float:
    """Exponential backoff with +-25% jitter, so that runs failed together spread out."""
    base = settings.TORALE_RUN_RETRY_BASE_SECONDS * (2 ** (attempt - 1))
    delay = min(base, settings.TORALE_RUN_RETRY_MAX_SECONDS)
    return delay * random.uniform(0.75, 1.25)  # noqa: S311 (jitter, not security)


def execution_retry_later(*, execution: Execution, error: str) -> float | None:
    """running -> retrying after a transient error; returns the delay, or None when this
    worker no longer owns the run."""
    now = timezone.now()
    delay = retry_delay(execution.attempts)
    log = [
        *execution.attempt_errors,
        {
            "attempt": execution.attempts,
            "error": error,
            "at": iso_utc(now),
        },
    ]
    updated = _mine(execution).update(
        status=ExecutionStatus.RETRYING,
        next_attempt_at=now + timedelta(seconds=delay),
        lease_expires_at=None,
        attempt_errors=log,
        updated_at=now,
    )
    return delay if updated else None


def execution_record_success(*, execution: Execution, evaluation: Evaluation) -> bool:
    """Store the result and apply the decision table to the task, in one transaction:
    last_known_state, for a met condition with notify_behavior=once on an active task,
    active -> completed with its schedule switched off, and for every met condition one
    delivery per channel the task notifies."""
    now = timezone.now()
    with transaction.atomic():
        task = Task.objects.select_for_update().filter(pk=execution.task_id).first()
        if task is None:
            return False
        stored = _mine(execution).update(
            status=ExecutionStatus.SUCCESS,
            condition_met=evaluation.condition_met,
            answer=evaluation.answer,
            reasoning=evaluation.reasoning,
            grounding_sources=evaluation.grounding_sources,
            model_name=evaluation.model[:100],
            prompt_tokens=evaluation.prompt_tokens,
            output_tokens=evaluation.output_tokens,
            total_tokens=evaluation.total_tokens,
            error_message=None,
            completed_at=now,
            lease_expires_at=None,
            updated_at=now,
        )
        if not stored:
            return False
        task.last_known_state = {"answer": evaluation.answer, "timestamp": iso_utc(now)}
        task.updated_at = now
        completes = (
            evaluation.condition_met
            and task.notify_behavior == NotifyBehavior.ONCE
            and task.state == TaskState.ACTIVE
        )
        if completes:
            task.transition_to(TaskState.COMPLETED)
            task_schedule_sync(task=task, now=now)
        task.save()
        if evaluation.condition_met:
            # The outbox rows commit with the result, or not at all.
            deliveries_create(execution=execution, task=task, now=now)
    return True


def execution_run(*, execution_id) -> None:
    """Run one execution: claim, search and evaluate, record. Transient provider errors
    are retried with backoff up to TORALE_RUN_MAX_ATTEMPTS; the rest fail the run with a
    message that says what went wrong."""
    execution = execution_claim(execution_id=execution_id)
    if execution is None:
        return
    task = execution.task
    if execution.trigger == ExecutionTrigger.SCHEDULED and task.state != TaskState.ACTIVE:
        execution_finish(
            execution=execution,
            status=ExecutionStatus.CANCELLED,
            message=NOT_ACTIVE_BEFORE_RUN.format(state=task.state),
        )
        return
    try:
        evaluation = get_search_provider().evaluate(
            search_query=task.search_query,
            condition_description=task.condition_description,
            last_known_state=task.last_known_state,
            today=timezone.now().date(),
        )
    except ProviderError as exc:
        _after_failure(execution, exc.detail, transient=exc.transient)
        return
    except SoftTimeLimitExceeded:
        message = TIME_LIMIT_MESSAGE.format(seconds=settings.CELERY_TASK_SOFT_TIME_LIMIT)
        _after_failure(execution, message, transient=True)
        return
    try:
        execution_record_success(execution=execution, evaluation=_storable(evaluation))
    except Exception as exc:  # never leave a claimed run hanging until its lease expires
        logger.exception("recording run %s failed", execution.pk)
        execution_finish(
            execution=execution,
            status=ExecutionStatus.FAILED,
            message=UNEXPECTED.format(kind=type(exc).__name__),
        )


def _clean_text(value: str) -> str:
    """Text PostgreSQL can store: no NUL characters, no lone surrogates."""
    return value.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")


def _storable(evaluation: Evaluation) -> Evaluation:
    """The model's output is untrusted text: clean what a text column would reject."""
    sources = [
        {key: _clean_text(str(val)) for key, val in source.items()}
        for source in evaluation.grounding_sources
    ]
    return replace(
        evaluation,
        answer=_clean_text(evaluation.answer),
        reasoning=_clean_text(evaluation.reasoning),
        grounding_sources=sources,
    )


def _after_failure(execution: Execution, message: str, *, transient: bool) -> None:
    if transient and execution.attempts < settings.TORALE_RUN_MAX_ATTEMPTS:
        delay = execution_retry_later(execution=execution, error=message)
        if delay is not None:
            from executions_app.tasks import run_execution

            logger.info(
                "run %s attempt %d failed transiently; retry in %.0fs",
                execution.pk,
                execution.attempts,
                delay,
            )
            try:
                run_execution.apply_async(args=[str(execution.pk)], countdown=delay)
            except Exception:  # the reaper publishes due retries whose message was lost
                logger.exception("could not queue the retry of run %s", execution.pk)
        return
    if transient:
        message = f"{message} (gave up after {execution.attempts} attempts)"
    execution_finish(execution=execution, status=ExecutionStatus.FAILED, message=message)
