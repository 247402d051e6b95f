"""Writes to tasks: create, update (including state changes), delete."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.utils.timezone import now as utc_now

from executions_app.models import ExecutionTrigger
from tasks_app.models import NAME_MAX_LENGTH, NotifyBehavior, Task, TaskState
from tasks_app.scheduling import task_schedule_remove, task_schedule_sync
from tasks_app.selectors import task_get_for_update

NAME_FROM_QUERY_LENGTH = 80
EDITABLE_FIELDS = (
    "name",
    "search_query",
    "condition_description",
    "schedule",
    "timezone",
    "notify_behavior",
)
# Changes that move the task's next cron instant or its PeriodicTask mirror.
SCHEDULE_FIELDS = {"schedule", "timezone", "state", "name"}


def task_name_from_query(search_query: str) -> str:
    """A readable name made from the query: its first words, without trailing punctuation."""
    text = re.sub(r"\s+", " ", search_query).strip()
    if len(text) > NAME_FROM_QUERY_LENGTH:
        cut = text[:NAME_FROM_QUERY_LENGTH]
        space = cut.rfind(" ")
        text = (cut[:space] if space > NAME_FROM_QUERY_LENGTH // 2 else cut).rstrip() + "…"
    else:
        text = text.rstrip(" ?!.,;:")
    text = text[:1].upper() + text[1:]
    return (text or "Untitled task")[:NAME_MAX_LENGTH]


def task_create(
    *,
    owner,
    search_query: str,
    condition_description: str,
    schedule: str,
    name: str | None = None,
    notify_behavior: str = NotifyBehavior.ONCE,
    timezone: str = "UTC",
    run_immediately: bool = False,
) -> Task:
    """Create an active task for `owner` with its schedule; with run_immediately, also
    queue its first run."""
    from executions_app.services import execution_request

    with transaction.atomic():
        task = Task(
            owner=owner,
            name=name or task_name_from_query(search_query),
            search_query=search_query,
            condition_description=condition_description,
            schedule=schedule,
            timezone=timezone,
            notify_behavior=notify_behavior,
            state=TaskState.ACTIVE,
        )
        task_schedule_sync(task=task)
        task.save(force_insert=True)
        if run_immediately:
            execution_request(task=task, trigger=ExecutionTrigger.IMMEDIATE)
    return task


def task_update(*, task_id, user, changes: dict[str, Any]) -> Task:
    """Apply a partial update. A state change is checked first: an invalid transition
    raises InvalidStateTransition and nothing else in the request is applied."""
    with transaction.atomic():
        task = task_get_for_update(task_id=task_id, user=user)
        if "state" in changes:
            task.transition_to(changes["state"])
        for field in EDITABLE_FIELDS:
            if field in changes:
                setattr(task, field, changes[field])
        if SCHEDULE_FIELDS & changes.keys():
            task_schedule_sync(task=task)
        task.updated_at = utc_now()
        task.save()
    return Task.objects.select_related("last_execution").get(pk=task.pk)


def task_delete(*, task_id, user) -> None:
    """Delete the task with its executions."""
    with transaction.atomic():
        task = task_get_for_update(task_id=task_id, user=user)
        task_schedule_remove(task=task)
        task.delete()
