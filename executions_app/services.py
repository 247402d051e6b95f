"""Creating runs: manual and immediate ones from the API, scheduled ones from beat's slots."""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django_celery_beat.models import PeriodicTask

from executions_app.models import IN_FLIGHT_STATUSES, Execution, ExecutionStatus, ExecutionTrigger
from tasks_app.cron import previous_fire_time
from tasks_app.models import Task, TaskState
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
            lease_expires_at=None,
            error_message=SUPERSEDED,
        )
    execution = Execution.objects.create(task=task, trigger=trigger)
    task.last_execution = execution
    task.save(update_fields=["last_execution"])
    transaction.on_commit(lambda: publish_runs([execution.pk]))
    return execution


def execution_request_manual(*, task_id, user, force: bool = False) -> Execution:
    """POST /tasks/{id}/execute: a manual run of one of the user's tasks."""
    from tasks_app.selectors import task_get_for_update

    with transaction.atomic():
        task = task_get_for_update(task_id=task_id, user=user)
        return execution_request(task=task, trigger=ExecutionTrigger.MANUAL, force=force)


def _parse_slot(value) -> datetime | None:
    if isinstance(value, datetime):
        return value
    parsed = parse_datetime(str(value)) if value else None
    return parsed if parsed and parsed.tzinfo else None


def executions_create_scheduled(*, slots: list[tuple[str, object]]) -> list[str]:
    """Create the runs of scheduled slots [(task_id, scheduled_for), ...] and queue them.

    A slot whose run exists already (a duplicated beat message) creates nothing, nor does
    a slot of a task that was paused or deleted in the meantime. A slot given without a
    time (a message from the stock django-celery-beat scheduler) is the task's latest cron
    instant. Returns the ids of the runs created.
    """
    wanted: dict[str, datetime | None] = {}
    for task_id, scheduled_for in slots:
        wanted[str(task_id)] = _parse_slot(scheduled_for)
    now = timezone.now()
    created: list[str] = []
    with transaction.atomic():
        tasks = Task.objects.filter(pk__in=list(wanted), state=TaskState.ACTIVE).only(
            "id", "schedule", "timezone"
        )
        rows = []
        for task in tasks:
            slot = wanted[str(task.pk)] or previous_fire_time(task.schedule, task.timezone, now)
            rows.append(
                Execution(task=task, trigger=ExecutionTrigger.SCHEDULED, scheduled_for=slot)
            )
        if not rows:
            return []
        created = _insert_new_runs(rows)
        if created:
            _point_tasks_at(created)
            _count_on_mirrors(created, now)
        transaction.on_commit(lambda: publish_runs(created))
    return created


def _insert_new_runs(rows: list[Execution]) -> list[str]:
    """Insert the rows, skipping slots that have a run already; returns the new ids.

    The ids are made here, so after an INSERT ... ON CONFLICT DO NOTHING the rows that
    exist with those ids are exactly the ones this call inserted.
    """
    Execution.objects.bulk_create(rows, ignore_conflicts=True)
    ids = [row.id for row in rows]
    return [str(pk) for pk in Execution.objects.filter(pk__in=ids).values_list("pk", flat=True)]


def _point_tasks_at(execution_ids: list[str]) -> None:
    """Make each new run its task's last_execution (one UPDATE for the batch)."""
    runs = Execution.objects.filter(pk__in=execution_ids)
    newest = runs.filter(task_id=OuterRef("pk")).order_by("-created_at").values("pk")[:1]
    Task.objects.filter(pk__in=runs.values("task_id")).update(last_execution_id=Subquery(newest))


def _count_on_mirrors(execution_ids: list[str], now: datetime) -> None:
    """Keep the PeriodicTask mirrors' run bookkeeping (last_run_at, total_run_count) for
    operators. Done here, off beat's hot path."""
    task_ids = Execution.objects.filter(pk__in=execution_ids).values("task_id")
    PeriodicTask.objects.filter(torale_task__in=task_ids).update(
        last_run_at=now, total_run_count=F("total_run_count") + 1
    )


def publish_runs(execution_ids: list) -> None:
    """Hand runs to the workers. A broker outage is logged, not raised: the rows stay
    pending and the reaper publishes them again."""
    from torale.celery import app

    try:
        with app.producer_or_acquire() as producer, producer.batch(max_size=1000):
            for execution_id in execution_ids:
                app.send_task("torale.executions.run", args=[str(execution_id)], producer=producer)
    except Exception:
        logger.exception("could not publish %d runs; the reaper will retry", len(execution_ids))
