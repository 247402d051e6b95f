"""Reads of executions, scoped to the caller through their task."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from executions_app.models import Execution
from tasks_app.selectors import task_get_for_user
from torale.errors import NotFound

EXECUTION_NOT_FOUND = "Execution not found"


def execution_list_for_task(*, task_id, user, status: str | None = None) -> QuerySet[Execution]:
    """The task's runs, newest first; raises NotFound / Forbidden for the task."""
    task = task_get_for_user(task_id=task_id, user=user)
    runs = Execution.objects.filter(task=task)
    if status:
        runs = runs.filter(status=status)
    return runs.order_by("-created_at", "-id")


def execution_get_for_task(*, task_id, execution_id, user) -> Execution:
    task = task_get_for_user(task_id=task_id, user=user)
    try:
        pk = uuid.UUID(str(execution_id))
    except ValueError:
        raise NotFound(EXECUTION_NOT_FOUND) from None
    execution = Execution.objects.filter(task=task, pk=pk).first()
    if execution is None:
        raise NotFound(EXECUTION_NOT_FOUND)
    return execution
