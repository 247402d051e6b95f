"""Reads of tasks, always scoped to the caller."""

from __future__ import annotations

import uuid
from functools import cache

from django.db import connection
from django.db.models import Count, QuerySet

from executions_app.models import Execution
from tasks_app.models import Task, TaskState
from torale.errors import Forbidden, NotFound
from torale.services import model_from_row

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
    return _check_owner(_task_with_last_execution(_parse_id(task_id)), user)


def _task_with_last_execution(pk: uuid.UUID) -> Task | None:
    """Task.objects.select_related("last_execution").filter(pk=pk).first(), written out by
    hand: GET /tasks/{id} is one of the hottest API paths, and the ORM took longer to compile
    this query than the database took to answer it."""
    with connection.cursor() as cursor:
        cursor.execute(
            _task_with_last_execution_sql(), [Task._meta.pk.get_db_prep_value(pk, connection)]
        )
        row = cursor.fetchone()
    if row is None:
        return None
    split = len(Task._meta.concrete_fields)
    task = model_from_row(Task, row[:split])
    execution = row[split:]
    if execution[Execution._meta.concrete_fields.index(Execution._meta.pk)] is not None:
        task.last_execution = model_from_row(Execution, execution)
    return task


@cache
def _task_with_last_execution_sql() -> str:
    qn = connection.ops.quote_name
    columns = [f"t.{qn(f.column)}" for f in Task._meta.concrete_fields]
    columns += [f"e.{qn(f.column)}" for f in Execution._meta.concrete_fields]
    last_execution = qn(Task._meta.get_field("last_execution").column)
    # Only names from the models' metadata are interpolated; the value is a parameter.
    return (
        f"SELECT {', '.join(columns)} FROM {qn(Task._meta.db_table)} t"  # noqa: S608
        f" LEFT JOIN {qn(Execution._meta.db_table)} e"
        f" ON e.{qn(Execution._meta.pk.column)} = t.{last_execution}"
        f" WHERE t.{qn(Task._meta.pk.column)} = %s"
    )


def task_get_for_update(*, task_id, user) -> Task:
    """Like task_get_for_user, with the row locked; call inside transaction.atomic()."""
    task = Task.objects.select_for_update().filter(pk=_parse_id(task_id)).first()
    return _check_owner(task, user)


# A list shows only the summary of each task's last run: leave its large columns behind.
_LAST_EXECUTION_BULK = [
    f"last_execution__{name}"
    for name in ("answer", "reasoning", "grounding_sources", "attempt_errors", "error_message")
]


def task_list_for_user(
    *, user, active: bool | None = None, state: str | None = None
) -> QuerySet[Task]:
    """The user's tasks, newest first; `active` filters on state == active, `state` on one
    state (the dashboard's filter)."""
    tasks = (
        Task.objects.filter(owner=user)
        .select_related("last_execution")
        .defer(*_LAST_EXECUTION_BULK)
    )
    if active is True:
        tasks = tasks.filter(state=TaskState.ACTIVE)
    elif active is False:
        tasks = tasks.exclude(state=TaskState.ACTIVE)
    if state is not None:
        tasks = tasks.filter(state=state)
    return tasks.order_by("-created_at", "-id")


def task_state_counts(*, user) -> dict[str, int]:
    """How many tasks the user has in each state (every state present, zeros included)."""
    counts = dict.fromkeys(TaskState.values, 0)
    rows = Task.objects.filter(owner=user).values_list("state").annotate(n=Count("id"))
    for state, n in rows.order_by():
        counts[state] = n
    return counts
