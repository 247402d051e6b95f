"""Each task's schedule: its next cron instant, its django-celery-beat mirror, and the
dispatch of due slots to the workers.

The Task row is the source of truth. `Task.next_run_at` (indexed for active tasks) is what
the scheduler reads, so a tick costs work in proportion to what is due, not to how many
tasks exist. The PeriodicTask `torale-task:<uuid>` mirrors the task for operators and for
Celery tooling: its crontab holds the expression, its kwargs the task id, `enabled` the
state. It is written with queryset calls rather than PeriodicTask.save(): save() bumps the
single `PeriodicTasks` row that the stock scheduler polls, which would serialise every task
write in the service on one row lock; our scheduler does not read it.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from tasks_app.cron import next_fire_time, previous_fire_time
from tasks_app.models import Task, TaskState

logger = logging.getLogger(__name__)

RUN_SCHEDULED_TASK = "torale.executions.run_scheduled"


def periodic_task_name(task_id) -> str:
    return f"torale-task:{task_id}"


@dataclass(frozen=True)
class DueSlot:
    task_id: str
    scheduled_for: datetime


def _crontab_for(task: Task) -> CrontabSchedule:
    minute, hour, day_of_month, month_of_year, day_of_week = task.schedule.split()
    fields = {
        "minute": minute,
        "hour": hour,
        "day_of_month": day_of_month,
        "month_of_year": month_of_year,
        "day_of_week": day_of_week,
        "timezone": task.timezone,
    }
    # Crontab rows are shared by every task with the same expression and zone; never
    # deleted from task code (a delete cascades to every PeriodicTask using the row).
    crontab = CrontabSchedule.objects.filter(**fields).order_by("pk").first()
    return crontab or CrontabSchedule.objects.create(**fields)


def task_schedule_sync(*, task: Task, now: datetime | None = None) -> None:
    """Set task.next_run_at from its state and cron, and write its PeriodicTask mirror.

    Call inside the transaction that writes the task, before saving it; the caller saves
    the task (next_run_at and periodic_task change here).
    """
    now = now or timezone.now()
    task.next_run_at = next_fire_time(task.schedule, task.timezone, now) if task.is_active else None
    values = {
        "task": RUN_SCHEDULED_TASK,
        "crontab": _crontab_for(task),
        "interval": None,
        "solar": None,
        "clocked": None,
        "kwargs": json.dumps({"task_id": str(task.pk)}),
        "enabled": task.is_active,
        "description": task.name[:200],
        "date_changed": now,
    }
    if not task.is_active:
        values["last_run_at"] = None
    name = periodic_task_name(task.pk)
    # A task being created has no mirror yet: go straight to the INSERT.
    if not task._state.adding and PeriodicTask.objects.filter(name=name).update(**values):
        if task.periodic_task_id is None:
            task.periodic_task = PeriodicTask.objects.only("pk").get(name=name)
        return
    periodic = PeriodicTask(name=name, **values)
    PeriodicTask.objects.bulk_create([periodic])
    task.periodic_task = periodic


def task_schedule_remove(*, task: Task) -> None:
    """Delete the task's PeriodicTask (the task itself is deleted by the caller)."""
    PeriodicTask.objects.filter(name=periodic_task_name(task.pk)).delete()


def schedule_dispatch_due(
    *, now: datetime, limit: int, publish: Callable[[list[DueSlot]], None]
) -> list[DueSlot]:
    """Advance up to `limit` active tasks whose next_run_at has passed and publish one slot
    for each; returns the slots published.

    When several instants of a task have passed (beat was down), only the latest runs:
    a restart never replays a backlog. Publishing happens inside the transaction: if it
    fails nothing advances and the next tick tries again; if the commit fails after
    publishing, the next tick publishes again and the unique (task, scheduled_for) key of
    executions absorbs the duplicate. SKIP LOCKED lets a second scheduler (which the leader
    lock should prevent anyway) never block on or double-advance the same rows.
    """
    with transaction.atomic():
        rows = list(
            Task.objects.select_for_update(skip_locked=True)
            .filter(state=TaskState.ACTIVE, next_run_at__lte=now)
            .order_by("next_run_at")
            .values_list("id", "schedule", "timezone", "next_run_at")[:limit]
        )
        if not rows:
            return []
        # Many tasks share an expression and a slot: compute each instant once per batch.
        cache: dict[tuple, datetime] = {}

        def next_after(expression: str, zone: str, after: datetime) -> datetime:
            key = (expression, zone, after)
            if key not in cache:
                cache[key] = next_fire_time(expression, zone, after)
            return cache[key]

        slots: list[DueSlot] = []
        advance_to: dict[datetime, list] = defaultdict(list)
        for task_id, expression, zone, slot in rows:
            following = next_after(expression, zone, slot)
            if following <= now:
                slot = previous_fire_time(expression, zone, now)
                following = next_after(expression, zone, now)
            slots.append(DueSlot(task_id=str(task_id), scheduled_for=slot))
            advance_to[following].append(task_id)
        # Publish first: the slots reach the broker before the slower row updates, and the
        # guarantees hold either way (see above).
        publish(slots)
        # Tasks due together mostly share their next instant: one UPDATE per distinct value.
        for following, task_ids in advance_to.items():
            Task.objects.filter(pk__in=task_ids).update(next_run_at=following)
    return slots


def schedule_next_due_at() -> datetime | None:
    """The earliest next_run_at among active tasks (one index probe)."""
    return (
        Task.objects.filter(state=TaskState.ACTIVE, next_run_at__isnull=False)
        .order_by("next_run_at")
        .values_list("next_run_at", flat=True)
        .first()
    )
