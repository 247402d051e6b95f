"""Every API call the SDK makes, described once as data.

The sync and async clients are thin wrappers that hand these `Call`s to their transport, so
both send exactly the same requests; the test suite checks each one (method, path template,
query parameters, body fields, answer model) against the server's OpenAPI schema.

Arguments are checked here, before anything is sent: a wrong type raises TypeError, a bad
value (an empty or "." id, text with a lone surrogate) ValueError.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, is_dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import quote
from uuid import UUID

from torale.sdk import models as m

T = TypeVar("T")

TASKS = "/api/v1/tasks"
TASK = "/api/v1/tasks/{id}"
SUGGEST_CONTEXT_FIELDS = ("name", "search_query", "condition_description", "schedule")
MAX_ID_LENGTH = 200  # ids are UUIDs; this only keeps a runaway value out of the URL


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request and how to read its answer.

    `path` is the OpenAPI path template (`/api/v1/tasks/{id}`); `model` the dataclass the
    answer is read into (None for 204), and `result` turns that model into what the method
    returns. Only `idempotent` calls are retried after a transport failure.
    """

    method: str
    path: str
    path_params: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    json: Mapping[str, Any] | None = None
    model: type | None = None
    result: Callable[[Any], T] | None = None

    def __post_init__(self) -> None:
        _check_text("the query", self.params)
        if self.json is not None:
            _check_text("the body", self.json)

    @property
    def idempotent(self) -> bool:
        return self.method in ("GET", "PUT", "DELETE")

    @property
    def url_path(self) -> str:
        """The path with its parameters filled in (percent-encoded: ids come from users)."""
        return self.path.format(**{k: quote(str(v), safe="") for k, v in self.path_params.items()})

    def read(self, body: Any) -> T:
        """The method's return value from the decoded JSON answer (None when no model)."""
        value = m.from_json(self.model, body) if self.model is not None else None
        return self.result(value) if self.result is not None else value


def _check_text(where: str, value: Any) -> None:
    """ValueError for a string that cannot be sent as UTF-8 (a lone surrogate)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"{where} holds text with a lone surrogate") from None
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _check_text(f"{key!r}", item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check_text(where, item)


def _id(name: str, value: Any) -> str:
    """An id for a path or query: a non-empty str (or UUID) that cannot name another path."""
    if isinstance(value, UUID):
        return str(value)
    if not isinstance(value, str):
        hint = " (pass its .id)" if hasattr(value, "id") else ""
        raise TypeError(f"{name} must be a str or uuid.UUID, not {type(value).__name__}{hint}")
    if (
        value in ("", ".", "..")
        or len(value) > MAX_ID_LENGTH
        or value != value.strip()
        or not value.isprintable()
    ):
        raise ValueError(f"{name} is not an id: {value[:40]!r}")
    return value


def _typed(name: str, value: Any, kind: type, *, optional: bool = True) -> Any:
    """`value` if it is a `kind` (or None when optional); TypeError otherwise. A bool is
    never taken for an int."""
    if value is None and optional:
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise TypeError(f"{name} must be a {kind.__name__}, not {type(value).__name__}")
    return value


def _texts(**values: Any) -> dict[str, Any]:
    """The string arguments the caller gave (None means "not given"), type-checked."""
    return {k: _typed(k, v, str) for k, v in values.items() if v is not None}


def _ints(**values: Any) -> dict[str, Any]:
    """The integer arguments (page, limit, offset) the caller gave, type-checked."""
    return {k: _typed(k, v, int) for k, v in values.items() if v is not None}


def _query_bool(name: str, value: bool | None) -> str | None:
    _typed(name, value, bool)
    return None if value is None else ("true" if value else "false")


# --- Tasks ---------------------------------------------------------------------------------


def tasks_create(
    *,
    search_query: str,
    condition_description: str,
    schedule: str,
    name: str | None = None,
    notify_behavior: str | None = None,
    timezone: str | None = None,
    run_immediately: bool | None = None,
) -> Call[m.Task]:
    body = _texts(
        name=name,
        search_query=_typed("search_query", search_query, str, optional=False),
        condition_description=_typed(
            "condition_description", condition_description, str, optional=False
        ),
        schedule=_typed("schedule", schedule, str, optional=False),
        notify_behavior=notify_behavior,
        timezone=timezone,
    )
    if _typed("run_immediately", run_immediately, bool) is not None:
        body["run_immediately"] = run_immediately
    return Call("POST", TASKS, json=body, model=m.Task)


def tasks_preview(*, search_query: str, condition_description: str) -> Call[m.Preview]:
    body = {
        "search_query": _typed("search_query", search_query, str, optional=False),
        "condition_description": _typed(
            "condition_description", condition_description, str, optional=False
        ),
    }
    return Call("POST", f"{TASKS}/preview", json=body, model=m.Preview)


def tasks_suggest(
    prompt: str, current_task: m.Task | m.Suggestion | Mapping[str, Any] | None = None
) -> Call[m.Suggestion]:
    body: dict[str, Any] = {"prompt": _typed("prompt", prompt, str, optional=False)}
    if current_task is not None:
        body["current_task"] = _suggest_context(current_task)
    return Call("POST", f"{TASKS}/suggest", json=body, model=m.Suggestion)


def _suggest_context(task: m.Task | m.Suggestion | Mapping[str, Any]) -> dict[str, Any]:
    """The fields suggest takes as context, from a Task, a Suggestion or a dict."""
    if is_dataclass(task) and not isinstance(task, type):
        data = asdict(task)
    elif isinstance(task, Mapping):
        data = dict(task)
    else:
        raise TypeError(f"current_task must be a Task, a Suggestion or a dict, not {task!r:.60}")
    fields = (*SUGGEST_CONTEXT_FIELDS, "notify_behavior")
    return {k: data[k] for k in fields if data.get(k) is not None}


def tasks_list(
    *, active: bool | None = None, page: int | None = None, limit: int | None = None
) -> Call[m.TaskList]:
    params = _ints(page=page, limit=limit)
    if active is not None:
        params["active"] = _query_bool("active", active)
    return Call("GET", TASKS, params=params, model=m.TaskList)


def tasks_get(task_id: str) -> Call[m.Task]:
    return Call("GET", TASK, {"id": _id("task_id", task_id)}, model=m.Task)


def tasks_update(
    task_id: str,
    *,
    name: str | None = None,
    search_query: str | None = None,
    condition_description: str | None = None,
    schedule: str | None = None,
    notify_behavior: str | None = None,
    timezone: str | None = None,
    state: str | None = None,
    is_active: bool | None = None,
) -> Call[m.Task]:
    body = _texts(
        name=name,
        search_query=search_query,
        condition_description=condition_description,
        schedule=schedule,
        notify_behavior=notify_behavior,
        timezone=timezone,
        state=state,
    )
    if _typed("is_active", is_active, bool) is not None:
        body["is_active"] = is_active
    return Call("PUT", TASK, {"id": _id("task_id", task_id)}, json=body, model=m.Task)


def tasks_delete(task_id: str) -> Call[None]:
    return Call("DELETE", TASK, {"id": _id("task_id", task_id)})


def tasks_execute(task_id: str, *, force: bool = False) -> Call[str]:
    params = {"force": "true"} if _typed("force", force, bool, optional=False) else {}
    return Call(
        "POST",
        f"{TASK}/execute",
        {"id": _id("task_id", task_id)},
        params=params,
        model=m.ExecuteResult,
        result=lambda executed: executed.execution_id,
    )


# --- Executions ----------------------------------------------------------------------------


def executions_list(
    task_id: str,
    *,
    status: str | None = None,
    page: int | None = None,
    limit: int | None = None,
) -> Call[m.ExecutionList]:
    params = {**_texts(status=status), **_ints(page=page, limit=limit)}
    return Call(
        "GET",
        f"{TASKS}/{{task_id}}/executions",
        {"task_id": _id("task_id", task_id)},
        params=params,
        model=m.ExecutionList,
    )


def executions_get(task_id: str, execution_id: str) -> Call[m.Execution]:
    return Call(
        "GET",
        f"{TASKS}/{{task_id}}/executions/{{id}}",
        {"task_id": _id("task_id", task_id), "id": _id("execution_id", execution_id)},
        model=m.Execution,
    )


# --- Notifications -------------------------------------------------------------------------


def notifications_list(
    *, task_id: str | None = None, page: int | None = None, limit: int | None = None
) -> Call[m.NotificationList]:
    params = _ints(page=page, limit=limit)
    if task_id is None:
        return Call("GET", "/api/v1/notifications", params=params, model=m.NotificationList)
    return Call(
        "GET",
        f"{TASKS}/{{task_id}}/notifications",
        {"task_id": _id("task_id", task_id)},
        params=params,
        model=m.NotificationList,
    )


def notifications_sends(
    *,
    notification_type: str | None = None,
    status: str | None = None,
    task_id: str | None = None,
    limit: int | None = None,
    offset: int | None = None,
) -> Call[m.SendList]:
    params = {
        **_texts(notification_type=notification_type, status=status),
        **_ints(limit=limit, offset=offset),
    }
    if task_id is not None:
        params["task_id"] = _id("task_id", task_id)
    return Call("GET", "/api/v1/notifications/sends", params=params, model=m.SendList)


def notifications_get_send(send_id: str) -> Call[m.SendDetail]:
    return Call(
        "GET",
        "/api/v1/notifications/sends/{id}",
        {"id": _id("send_id", send_id)},
        model=m.SendDetail,
    )
