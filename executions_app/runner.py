"""What one run does: claim it, search and evaluate, record the outcome."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from executions_app.models import Execution, ExecutionStatus
from torale.errors import DomainError
from torale.search import get_search_provider

logger = logging.getLogger(__name__)


def execution_claim(*, execution_id) -> Execution | None:
    """pending -> running by a conditional UPDATE; None when another worker has it or it is
    no longer pending (so a redelivered message does nothing)."""
    now = timezone.now()
    claimed = Execution.objects.filter(pk=execution_id, status=ExecutionStatus.PENDING).update(
        status=ExecutionStatus.RUNNING, started_at=now, updated_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    return Execution.objects.select_related("task").get(pk=execution_id)


def execution_fail(*, execution: Execution, message: str) -> None:
    now = timezone.now()
    Execution.objects.filter(pk=execution.pk, status=ExecutionStatus.RUNNING).update(
        status=ExecutionStatus.FAILED, error_message=message, completed_at=now, updated_at=now
    )


def execution_run(*, execution_id) -> None:
    """Run one pending execution to its end."""
    execution = execution_claim(execution_id=execution_id)
    if execution is None:
        return
    try:
        provider = get_search_provider()
        evaluation = provider.evaluate(
            search_query=execution.task.search_query,
            condition_description=execution.task.condition_description,
            last_known_state=execution.task.last_known_state,
        )
    except DomainError as exc:
        execution_fail(execution=execution, message=exc.detail)
        return
    now = timezone.now()
    with transaction.atomic():
        Execution.objects.filter(pk=execution.pk, status=ExecutionStatus.RUNNING).update(
            status=ExecutionStatus.SUCCESS,
            condition_met=evaluation.condition_met,
            answer=evaluation.answer,
            reasoning=evaluation.reasoning,
            grounding_sources=evaluation.grounding_sources,
            model_name=evaluation.model,
            completed_at=now,
            updated_at=now,
        )
