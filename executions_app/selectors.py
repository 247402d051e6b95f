"""Reads of executions and of the notifications they produced, scoped to the caller."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet

from executions_app.models import Delivery, Execution, ExecutionStatus
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


# --- Notifications -------------------------------------------------------------------------------

SEND_NOT_FOUND = "Notification send not found"

# What a notification item shows of its run (its large columns are the point of the item).
_NOTIFICATION_FIELDS = (
    "id",
    "task_id",
    "task__name",
    "condition_met",
    "answer",
    "reasoning",
    "grounding_sources",
    "created_at",
)


def _notifications(runs: QuerySet[Execution]) -> QuerySet[Execution]:
    return (
        runs.filter(status=ExecutionStatus.SUCCESS, condition_met=True)
        .select_related("task")
        .only(*_NOTIFICATION_FIELDS)
        .order_by("-created_at", "-id")
    )


def notification_list_for_task(*, task_id, user) -> QuerySet[Execution]:
    """The task's runs whose condition was met, newest first; raises NotFound / Forbidden."""
    task = task_get_for_user(task_id=task_id, user=user)
    return _notifications(Execution.objects.filter(task=task))


def notification_list_for_user(*, user) -> QuerySet[Execution]:
    """The runs whose condition was met across all the user's tasks, newest first."""
    return _notifications(Execution.objects.filter(task__owner=user))


def delivery_list_for_user(
    *,
    user,
    kind: str | None = None,
    status: str | None = None,
    task_id: uuid.UUID | None = None,
) -> QuerySet[Delivery]:
    """The user's deliveries, newest first; a `task_id` filter raises NotFound / Forbidden for
    a task that is not the user's."""
    deliveries = Delivery.objects.filter(owner=user)
    if task_id is not None:
        deliveries = deliveries.filter(task=task_get_for_user(task_id=task_id, user=user))
    if kind:
        deliveries = deliveries.filter(kind=kind)
    if status:
        deliveries = deliveries.filter(status=status)
    return deliveries.order_by("-created_at", "-id")


def delivery_get_for_user(*, delivery_id, user) -> Delivery:
    """The user's delivery with its attempts; someone else's id reads as not found."""
    try:
        pk = uuid.UUID(str(delivery_id))
    except ValueError:
        raise NotFound(SEND_NOT_FOUND) from None
    delivery = Delivery.objects.filter(pk=pk, owner=user).prefetch_related("attempt_log").first()
    if delivery is None:
        raise NotFound(SEND_NOT_FOUND)
    return delivery
