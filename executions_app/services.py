"""Starting runs of a task. (What a run does lives in executions_app.runner.)"""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone

from executions_app.models import IN_FLIGHT_STATUSES, Execution, ExecutionStatus, ExecutionTrigger
from tasks_app.models import Task
from torale.errors import Conflict

logger = logging.getLogger(__name__)

ALREADY_RUNNING = "Task is already running or pending. Use force=true to override."
SUPERSEDED = "Cancelled: superseded by a forced run"


def execution_request(*, task: Task, trigger: str, force: bool = False) -> Execution:
    """Create a pending run of `task` and queue it once the transaction commits.

    Raises Conflict while another run of the task is pending, running or retrying, unless
    `force`, which cancels those runs first. Must be called inside transaction.atomic() with
    the task row locked (select_for_update), which serialises concurrent requests.
    """
    in_flight = Execution.objects.filter(task=task, status__in=IN_FLIGHT_STATUSES)
    if in_flight.exists():
        if not force:
            raise Conflict(ALREADY_RUNNING)
        now = timezone.now()
        in_flight.update(
            status=ExecutionStatus.CANCELLED,
            completed_at=now,
            updated_at=now,
            error_message=SUPERSEDED,
        )
    execution = Execution.objects.create(task=task, trigger=trigger)
    task.last_execution = execution
    task.save(update_fields=["last_execution"])
    transaction.on_commit(lambda: publish_run(execution.pk))
    return execution


def execution_request_manual(*, task_id, user, force: bool = False) -> Execution:
    """POST /tasks/{id}/execute: a manual run of one of the user's tasks."""
    from tasks_app.selectors import task_get_for_update

    with transaction.atomic():
        task = task_get_for_update(task_id=task_id, user=user)
        return execution_request(task=task, trigger=ExecutionTrigger.MANUAL, force=force)


def publish_run(execution_id) -> None:
    """Hand the run to a worker. A broker outage is logged, not raised: the row stays
    pending and the reaper queues it again."""
    from executions_app.tasks import run_execution

    try:
        run_execution.delay(str(execution_id))
    except Exception:
        logger.exception("could not publish run %s; the reaper will retry it", execution_id)
