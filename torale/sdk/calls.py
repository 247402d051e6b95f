"""Every API call the SDK makes, described once as data.

The sync and async clients are thin wrappers that hand these `Call`s to their transport, so
both send exactly the same requests; the test suite checks each one (method, path template,
query parameters, body fields, answer model) against the server's OpenAPI schema.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, is_dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import quote

from torale.sdk import models as m

T = TypeVar("T")

TASKS = "/api/v1/tasks"
TASK = "/api/v1/tasks/{id}"
SUGGEST_CONTEXT_FIELDS = ("name", "search_query", "condition_description", "schedule")


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


def _present(**values: Any) -> dict[str, Any]:
    """Only the arguments the caller gave: the server applies its defaults to the rest."""
    return {k: v for k, v in values.items() if v is not None}


def _query_bool(value: bool | None) -> str | None:
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
    body = _present(
        name=name,
        search_query=search_query,
        condition_description=condition_description,
        schedule=schedule,
        notify_behavior=notify_behavior,
        timezone=timezone,
        run_immediately=run_immediately,
    )
    return Call("POST", TASKS, json=body, model=m.Task)


def tasks_preview(*, search_query: str, condition_description: str) -> Call[m.Preview]:
    body = {"search_query": search_query, "condition_description": condition_description}
    return Call("POST", f"{TASKS}/preview", json=body, model=m.Preview)


def tasks_suggest(
    prompt: str, current_task: m.Task | m.Suggestion | Mapping[str, Any] | None = None
) -> Call[m.Suggestion]:
    body: dict[str, Any] = {"prompt": prompt}
    if current_task is not None:
        body["current_task"] = _suggest_context(current_task)
    return Call("POST", f"{TASKS}/suggest", json=body, model=m.Suggestion)


def _suggest_context(task: m.Task | m.Suggestion | Mapping[str, Any]) -> dict[str, Any]:
    """The fields suggest takes as context, from a Task, a Suggestion or a dict."""
    data = asdict(task) if is_dataclass(task) else dict(task)  # type: ignore[arg-type]
    fields = (*SUGGEST_CONTEXT_FIELDS, "notify_behavior")
    return {k: data[k] for k in fields if data.get(k) is not None}


def tasks_list(
    *, active: bool | None = None, page: int | None = None, limit: int | None = None
) -> Call[m.TaskList]:
    params = _present(active=_query_bool(active), page=page, limit=limit)
    return Call("GET", TASKS, params=params, model=m.TaskList)


def tasks_get(task_id: str) -> Call[m.Task]:
    return Call("GET", TASK, {"id": task_id}, model=m.Task)


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
    body = _present(
        name=name,
        search_query=search_query,
        condition_description=condition_description,
        schedule=schedule,
        notify_behavior=notify_behavior,
        timezone=timezone,
        state=state,
        is_active=is_active,
    )
    return Call("PUT", TASK, {"id": task_id}, json=body, model=m.Task)


def tasks_delete(task_id: str) -> Call[None]:
    return Call("DELETE", TASK, {"id": task_id})


def tasks_execute(task_id: str, *, force: bool = False) -> Call[str]:
    params = {"force": "true"} if force else {}
    return Call(
        "POST",
        f"{TASK}/execute",
        {"id": task_id},
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
    params = _present(status=status, page=page, limit=limit)
    return Call(
        "GET",
        f"{TASKS}/{{task_id}}/executions",
        {"task_id": task_id},
        params=params,
        model=m.ExecutionList,
    )


def executions_get(task_id: str, execution_id: str) -> Call[m.Execution]:
    return Call(
        "GET",
        f"{TASKS}/{{task_id}}/executions/{{id}}",
        {"task_id": task_id, "id": execution_id},
        model=m.Execution,
    )


# --- Notifications -------------------------------------------------------------------------


def notifications_list(
    *, task_id: str | None = None, page: int | None = None, limit: int | None = None
) -> Call[m.NotificationList]:
    params = _present(page=page, limit=limit)
    if task_id is None:
        return Call("GET", "/api/v1/notifications", params=params, model=m.NotificationList)
    return Call(
        "GET",
        f"{TASKS}/{{task_id}}/notifications",
        {"task_id": task_id},
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
    params = _present(
        notification_type=notification_type,
        status=status,
        task_id=task_id,
        limit=limit,
        offset=offset,
    )
    return Call("GET", "/api/v1/notifications/sends", params=params, model=m.SendList)


def notifications_get_send(send_id: str) -> Call[m.SendDetail]:
    return Call("GET", "/api/v1/notifications/sends/{id}", {"id": send_id}, model=m.SendDetail)
