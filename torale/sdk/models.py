"""The API's objects as typed, read-only dataclasses.

Ids stay strings (they go straight back into paths); times become timezone-aware datetimes.
Fields the server adds later are ignored, so an older SDK keeps working against a newer
server. The test suite checks these fields against the server's OpenAPI schema.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from torale.exceptions import ResponseError

__all__ = [
    "Attempt",
    "ExecuteResult",
    "Execution",
    "ExecutionList",
    "ExecutionResult",
    "GroundingSource",
    "LastExecution",
    "LastKnownState",
    "Notification",
    "NotificationList",
    "Preview",
    "Retry",
    "Send",
    "SendDetail",
    "SendList",
    "Suggestion",
    "Task",
    "TaskList",
    "from_json",
]

M = TypeVar("M")


@dataclass(frozen=True)
class GroundingSource:
    uri: str
    title: str


@dataclass(frozen=True)
class LastKnownState:
    """The newest successful run's answer, which the evaluator compares against."""

    answer: str
    timestamp: datetime


@dataclass(frozen=True)
class LastExecution:
    """The summary of a task's newest run embedded in the task."""

    id: str
    condition_met: bool | None
    status: str
    started_at: datetime | None
    completed_at: datetime | None


@dataclass(frozen=True)
class Task:
    id: str
    user_id: str
    name: str
    search_query: str
    condition_description: str
    schedule: str
    timezone: str
    notify_behavior: str
    state: str
    last_known_state: LastKnownState | None
    last_execution_id: str | None
    last_execution: LastExecution | None
    created_at: datetime
    updated_at: datetime


class _Page(Generic[M]):
    """A page of a list answer: iterate it, take its len(), index it."""

    def _items(self) -> list[M]:
        raise NotImplementedError

    def __iter__(self) -> Iterator[M]:
        return iter(self._items())

    def __len__(self) -> int:
        return len(self._items())

    def __getitem__(self, index: int) -> M:
        return self._items()[index]


@dataclass(frozen=True)
class TaskList(_Page[Task]):
    """One page of `GET /api/v1/tasks`; iterating it yields its tasks."""

    tasks: list[Task]
    total: int
    page: int
    limit: int

    def _items(self) -> list[Task]:
        return self.tasks


@dataclass(frozen=True)
class Preview:
    condition_met: bool
    answer: str
    reasoning: str
    grounding_sources: list[GroundingSource]


@dataclass(frozen=True)
class Suggestion:
    """A task configuration: pass its fields to `tasks.create(**asdict(suggestion))`."""

    name: str
    search_query: str
    condition_description: str
    schedule: str
    notify_behavior: str


@dataclass(frozen=True)
class ExecuteResult:
    message: str
    execution_id: str


@dataclass(frozen=True)
class ExecutionResult:
    answer: str
    reasoning: str
    condition_met: bool


@dataclass(frozen=True)
class Retry:
    """A failed attempt of a run that was tried again."""

    attempt: int
    error: str
    at: datetime


@dataclass(frozen=True)
class Execution:
    id: str
    task_id: str
    status: str
    trigger: str
    scheduled_for: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    condition_met: bool | None
    result: ExecutionResult | None
    grounding_sources: list[GroundingSource]
    notified: bool
    error_message: str | None
    attempts: int
    retries: list[Retry]
    created_at: datetime


@dataclass(frozen=True)
class ExecutionList(_Page[Execution]):
    executions: list[Execution]
    total: int
    page: int
    limit: int

    def _items(self) -> list[Execution]:
        return self.executions


@dataclass(frozen=True)
class Notification:
    """A run whose condition was met; `id` is the execution's id."""

    id: str
    task_id: str
    task_name: str
    condition_met: bool
    answer: str
    reasoning: str
    grounding_sources: list[GroundingSource]
    created_at: datetime


@dataclass(frozen=True)
class NotificationList(_Page[Notification]):
    notifications: list[Notification]
    total: int
    page: int
    limit: int

    def _items(self) -> list[Notification]:
        return self.notifications


@dataclass(frozen=True)
class Send:
    """One delivery of a notification to one channel."""

    id: str
    user_id: str
    task_id: str
    execution_id: str
    recipient: str
    notification_type: str
    status: str
    attempts: int
    error_message: str | None
    created_at: datetime


@dataclass(frozen=True)
class Attempt:
    number: int
    started_at: datetime
    duration_ms: int | None
    outcome: str
    status_code: int | None
    error: str | None


@dataclass(frozen=True)
class SendDetail(Send):
    channel_id: str | None
    sent_at: datetime | None
    next_attempt_at: datetime | None
    attempt_log: list[Attempt]


@dataclass(frozen=True)
class SendList(_Page[Send]):
    """`limit`/`offset` paging: `total` counts every matching send."""

    sends: list[Send]
    total: int

    def _items(self) -> list[Send]:
        return self.sends


# --- Building models from JSON -------------------------------------------------------------


@functools.cache
def _field_types(cls: type) -> dict[str, tuple[Any, bool]]:
    """Each field's type and whether it may be null (its type includes None)."""
    hints = typing.get_type_hints(cls)
    fields: dict[str, tuple[Any, bool]] = {}
    for f in dataclasses.fields(cls):
        tp = hints[f.name]
        args = typing.get_args(tp)
        nullable = typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in args
        if nullable:
            (tp,) = [arg for arg in args if arg is not type(None)]
        fields[f.name] = (tp, nullable)
    return fields


def _convert(tp: Any, value: Any, where: str) -> Any:
    if typing.get_origin(tp) is list:
        if not isinstance(value, list):
            raise ResponseError(f"{where} is not a list")
        (item,) = typing.get_args(tp)
        return [_convert(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, where)
    if tp is datetime:
        try:
            return datetime.fromisoformat(value)
        except (TypeError, ValueError):
            raise ResponseError(f"{where} is not a date-time") from None
    # bool is an int in Python: an int field must not take true/false, nor a bool field 1/0.
    if tp is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise ResponseError(f"{where} is not an integer")
    if tp in (str, bool) and not isinstance(value, tp):
        raise ResponseError(f"{where} is not a {tp.__name__}")
    return value


def _build(cls: type[M], data: Any, where: str) -> M:
    if not isinstance(data, dict):
        raise ResponseError(f"{where} is not a JSON object")
    values: dict[str, Any] = {}
    for name, (tp, nullable) in _field_types(cls).items():
        value = data.get(name)
        if value is None:
            if not nullable:
                state = "null" if name in data else "missing"
                raise ResponseError(f"{where}.{name} is {state}")
            values[name] = None
        else:
            values[name] = _convert(tp, value, f"{where}.{name}")
    return cls(**values)


def from_json(cls: type[M], data: Any) -> M:
    """An instance of the dataclass `cls` from an API object. Unknown keys are ignored and a
    nullable field may be left out; a missing or null required field, or a value of the
    wrong type, raises ResponseError."""
    return _build(cls, data, cls.__name__)
