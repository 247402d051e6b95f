"""ToraleClient: the synchronous Python client of the Torale API."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import httpx

from torale.sdk import calls
from torale.sdk import models as m
from torale.sdk.transport import DEFAULT_TIMEOUT, Settings, SyncTransport


class Tasks:
    """`client.tasks`: create, preview, suggest, list, get, update, delete and execute."""

    def __init__(self, transport: SyncTransport):
        self._transport = transport

    def create(
        self,
        *,
        search_query: str,
        condition_description: str,
        schedule: str,
        name: str | None = None,
        notify_behavior: str | None = None,
        timezone: str | None = None,
        run_immediately: bool | None = None,
    ) -> m.Task:
        """Create a task (the server names it from the query when `name` is omitted)."""
        return self._transport.send(
            calls.tasks_create(
                search_query=search_query,
                condition_description=condition_description,
                schedule=schedule,
                name=name,
                notify_behavior=notify_behavior,
                timezone=timezone,
                run_immediately=run_immediately,
            )
        )

    def preview(self, *, search_query: str, condition_description: str) -> m.Preview:
        """Search and evaluate the condition now, without saving a task."""
        return self._transport.send(
            calls.tasks_preview(
                search_query=search_query, condition_description=condition_description
            )
        )

    def suggest(
        self,
        prompt: str,
        current_task: m.Task | m.Suggestion | Mapping[str, Any] | None = None,
    ) -> m.Suggestion:
        """A task configuration from a sentence, refining `current_task` when given."""
        return self._transport.send(calls.tasks_suggest(prompt, current_task))

    def list(
        self, *, active: bool | None = None, page: int | None = None, limit: int | None = None
    ) -> m.TaskList:
        """One page of your tasks, newest first (iterate it for the tasks)."""
        return self._transport.send(calls.tasks_list(active=active, page=page, limit=limit))

    def iter_all(self, *, active: bool | None = None, limit: int = 100) -> Iterator[m.Task]:
        """Every task, fetching page after page.

        It pages by offset: deleting tasks while iterating shifts later tasks onto pages
        already read, so some are skipped. Collect first (`list(tasks.iter_all())`) if you
        delete while iterating."""
        page = 1
        while True:
            batch = self.list(active=active, page=page, limit=limit)
            yield from batch
            if page * batch.limit >= batch.total or not batch.tasks:
                return
            page += 1

    def get(self, task_id: str) -> m.Task:
        """One task, with its last execution."""
        return self._transport.send(calls.tasks_get(task_id))

    def update(
        self,
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
    ) -> m.Task:
        """Change only the fields given; `state` (or `is_active`) pauses and resumes."""
        return self._transport.send(
            calls.tasks_update(
                task_id,
                name=name,
                search_query=search_query,
                condition_description=condition_description,
                schedule=schedule,
                notify_behavior=notify_behavior,
                timezone=timezone,
                state=state,
                is_active=is_active,
            )
        )

    def delete(self, task_id: str) -> None:
        """Delete the task and its schedule."""
        self._transport.send(calls.tasks_delete(task_id))

    def execute(self, task_id: str, *, force: bool = False) -> str:
        """Start a run now and return its execution id; ConflictError while one is in
        flight, unless `force` (which cancels it)."""
        return self._transport.send(calls.tasks_execute(task_id, force=force))


class Executions:
    """`client.executions`: a task's run history."""

    def __init__(self, transport: SyncTransport):
        self._transport = transport

    def list(
        self,
        task_id: str,
        *,
        status: str | None = None,
        page: int | None = None,
        limit: int | None = None,
    ) -> m.ExecutionList:
        """One page of the task's runs, newest first."""
        return self._transport.send(
            calls.executions_list(task_id, status=status, page=page, limit=limit)
        )

    def get(self, task_id: str, execution_id: str) -> m.Execution:
        return self._transport.send(calls.executions_get(task_id, execution_id))


class Notifications:
    """`client.notifications`: met conditions and their sends."""

    def __init__(self, transport: SyncTransport):
        self._transport = transport

    def list(
        self, *, task_id: str | None = None, page: int | None = None, limit: int | None = None
    ) -> m.NotificationList:
        """Runs whose condition was met, newest first: all of yours, or one task's."""
        return self._transport.send(
            calls.notifications_list(task_id=task_id, page=page, limit=limit)
        )

    def sends(
        self,
        *,
        notification_type: str | None = None,
        status: str | None = None,
        task_id: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> m.SendList:
        """Deliveries (one per notification and channel) with their outcome."""
        return self._transport.send(
            calls.notifications_sends(
                notification_type=notification_type,
                status=status,
                task_id=task_id,
                limit=limit,
                offset=offset,
            )
        )

    def get_send(self, send_id: str) -> m.SendDetail:
        """One delivery with its attempts."""
        return self._transport.send(calls.notifications_get_send(send_id))


class ToraleClient:
    """A client of one Torale server.

    `api_key` defaults to $TORALE_API_KEY; `base_url` (the server's root, without /api/v1)
    to $TORALE_API_URL, then http://127.0.0.1:8000 (a trailing /api/v1 is dropped).
    `timeout` bounds each attempt of a request as a whole, in seconds (an httpx.Timeout sets
    httpx's per-operation limits, and its largest one bounds the attempt). 429 answers are
    retried up to `max_retries` times when the server asks for a wait of at most
    `max_retry_wait` seconds; transport failures are retried only for GET, PUT and DELETE,
    backing off from `backoff` seconds. Use it as a context manager, or call
    close(), to release its connections; a call after close() raises ClientClosedError.

    Arguments the SDK can check (types, ids, the key, base_url) raise TypeError or ValueError
    before anything is sent; every other failure of a call is a ToraleError.
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        max_retry_wait: float = 10.0,
        backoff: float = 0.5,
    ):
        self.settings = Settings.from_arguments(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            max_retry_wait=max_retry_wait,
            backoff=backoff,
        )
        self._transport = SyncTransport(self.settings)
        self.tasks = Tasks(self._transport)
        self.executions = Executions(self._transport)
        self.notifications = Notifications(self._transport)

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    def close(self) -> None:
        """Close the HTTP connections."""
        self._transport.close()

    def __enter__(self) -> ToraleClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ToraleClient(base_url={self.settings.base_url!r})"  # never the key
