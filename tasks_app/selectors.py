"""Reads of tasks, always scoped to the caller."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from tasks_app.models import Task, TaskState
from torale.errors import Forbidden, NotFound

TASK_NOT_FOUND = "Task not found"
NOT_YOUR_TASK = "Not authorized to access this task"


def _parse_id(task_id) -> uuid.UUID:
    try:
        return task_id if isinstance(task_id, uuid.UUID) else uuid.UUID(str(task_id))
    except (ValueError, AttributeError, TypeError):
        raise NotFound(TASK_NOT_FOUND) from None


def _check_owner(task: Task | None, user) -> Task:
    if task is None:
        raise NotFound(TASK_NOT_FOUND)
    if task.owner_id != user.pk:
        raise Forbidden(NOT_YOUR_TASK)
    return task


def task_get_for_user(*, task_id, user) -> Task:
    """The task with its last execution; NotFound if missing, Forbidden if not the user's."""
    task = Task.objects.select_related("last_execution").filter(pk=_parse_id(task_id)).first()
    return _check_owner(task, user)


def task_get_for_update(*, task_id, user) -> Task:
    """Like task_get_for_user, with the row locked; call inside transaction.atomic()."""
    task = Task.objects.select_for_update().filter(pk=_parse_id(task_id)).first()
    return _check_owner(task, user)


def task_list_for_user(*, user, active: bool | None = None) -> QuerySet[Task]:
    """The user's tasks, newest first; `active` filters on state == active."""
    tasks = Task.objects.filter(owner=user).select_related("last_execution")
    if active is True:
        tasks = tasks.filter(state=TaskState.ACTIVE)
    elif active is False:
        tasks = tasks.exclude(state=TaskState.ACTIVE)
    return tasks.order_by("-created_at", "-id")
