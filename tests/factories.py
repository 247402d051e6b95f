"""Test data: users, API keys, tasks and runs made the way the product makes them."""

from __future__ import annotations

import itertools
from datetime import timedelta

from django.utils import timezone

from executions_app.models import (
    Channel,
    ChannelKind,
    Delivery,
    DeliveryStatus,
    Execution,
    ExecutionStatus,
    ExecutionTrigger,
)
from tasks_app.models import Task
from tasks_app.services import task_create, task_update
from torale.models import User
from torale.services import api_key_create

_seq = itertools.count(1)

# The fields of the reference's Task object.
REFERENCE_TASK_FIELDS = frozenset(
    {
        "id",
        "user_id",
        "name",
        "search_query",
        "condition_description",
        "schedule",
        "notify_behavior",
        "state",
        "last_known_state",
        "last_execution_id",
        "last_execution",
        "created_at",
        "updated_at",
    }
)

VALID_TASK = {
    "search_query": "When is the next iPhone being released?",
    "condition_description": "Apple has officially announced a specific release date",
    "schedule": "0 9 * * *",
}


def make_user(username: str | None = None, **extra) -> User:
    username = username or f"user{next(_seq)}"
    extra.setdefault("email", f"{username}@example.com")
    return User.objects.create_user(username=username, password="pw-for-tests-1", **extra)


def make_api_key(user: User, name: str = "tests") -> str:
    """The raw key (sk_...) of a new key for `user`."""
    _, raw = api_key_create(user=user, name=name)
    return raw


def make_task(owner: User, *, state: str | None = None, **overrides) -> Task:
    """A task made by task_create; `state` then moves it through task_update."""
    data = {**VALID_TASK, **overrides}
    task = task_create(owner=owner, **data)
    if state is not None:
        task = task_update(task_id=task.id, user=owner, changes={"state": state})
    return task


def make_execution(
    task: Task,
    *,
    status: str = ExecutionStatus.SUCCESS,
    trigger: str = ExecutionTrigger.MANUAL,
    condition_met: bool | None = None,
) -> Execution:
    """A run of `task` in `status`, recorded as the task's last execution.

    Finished runs get started_at/completed_at and, for `success`, an answer; in-flight runs
    look like a worker holds them. (Runs are normally made by executions_app.services and
    finished by the runner; tests need them in any state without a worker.)
    """
    now = timezone.now()
    finished = status in (ExecutionStatus.SUCCESS, ExecutionStatus.FAILED)
    success = status == ExecutionStatus.SUCCESS
    execution = Execution.objects.create(
        task=task,
        trigger=trigger,
        status=status,
        started_at=None if status == ExecutionStatus.PENDING else now - timedelta(seconds=5),
        completed_at=now if finished else None,
        condition_met=(bool(condition_met) if success else None),
        answer="Apple announced the date." if success else "",
        reasoning="The press release names a date." if success else "",
        error_message="Provider error" if status == ExecutionStatus.FAILED else None,
    )
    task.last_execution = execution
    task.save(update_fields=["last_execution"])
    return execution


def make_delivery(
    execution: Execution,
    *,
    channel: Channel | None = None,
    status: str = DeliveryStatus.SENT,
    recipient: str = "owner@example.com",
    **fields,
) -> Delivery:
    """A send of `execution` in `status`, to `channel` when given (its kind and recipient).

    (Deliveries are normally made by outbox.deliveries_create and finished by a worker; list
    and detail tests need them in any state, at chosen times, without one.)
    """
    task = execution.task
    if channel is not None:
        fields.setdefault("kind", channel.kind)
        recipient = channel.recipient
    fields.setdefault("kind", ChannelKind.EMAIL)
    return Delivery.objects.create(
        execution=execution,
        channel=channel,
        owner_id=task.owner_id,
        task=task,
        recipient=recipient,
        status=status,
        **fields,
    )
