"""AsyncToraleClient: the same API as ToraleClient, for asyncio code.

Every method sends the same `Call` as its synchronous twin (torale.sdk.calls), so the two
clients cannot drift apart in what they send.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

from torale.sdk import calls
from torale.sdk import models as m
from torale.sdk.transport import DEFAULT_TIMEOUT, AsyncTransport, Settings


class AsyncTasks:
    def __init__(self, transport: AsyncTransport):
        self._transport = transport

    async def create(
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
        return await self._transport.send(
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

    async def preview(self, *, search_query: str, condition_description: str) -> m.Preview:
        return await self._transport.send(
            calls.tasks_preview(
                search_query=search_query, condition_description=condition_description
            )
        )

    async def suggest(
        self,
        prompt: str,
        current_task: m.Task | m.Suggestion | Mapping[str, Any] | None = None,
    ) -> m.Suggestion:
        return await self._transport.send(calls.tasks_suggest(prompt, current_task))

    async def list(
        self, *, active: bool | None = None, page: int | None = None, limit: int | None = None
    ) -> m.TaskList:
        return await self._transport.send(calls.tasks_list(active=active, page=page, limit=limit))

    async def iter_all(
        self, *, active: bool | None = None, limit: int = 100
    ) -> AsyncIterator[m.Task]:
        """Every task, page after page. It pages by offset: collect first if you delete
        while iterating, or tasks are skipped."""
        page = 1
        while True:
            batch = await self.list(active=active, page=page, limit=limit)
            for task in batch:
                yield task
            if page * batch.limit >= batch.total or not batch.tasks:
                return
            page += 1

    async def get(self, task_id: str) -> m.Task:
        return await self._transport.send(calls.tasks_get(task_id))

    async def update(
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
        return await self._transport.send(
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

    async def delete(self, task_id: str) -> None:
        await self._transport.send(calls.tasks_delete(task_id))

    async def execute(self, task_id: str, *, force: bool = False) -> str:
        return await self._transport.send(calls.tasks_execute(task_id, force=force))


class AsyncExecutions:
    def __init__(self, transport: AsyncTransport):
        self._transport = transport

    async def list(
        self,
        task_id: str,
        *,
        status: str | None = None,
        page: int | None = None,
        limit: int | None = None,
    ) -> m.ExecutionList:
        return await self._transport.send(
            calls.executions_list(task_id, status=status, page=page, limit=limit)
        )

    async def get(self, task_id: str, execution_id: str) -> m.Execution:
        return await self._transport.send(calls.executions_get(task_id, execution_id))


class AsyncNotifications:
    def __init__(self, transport: AsyncTransport):
        self._transport = transport

    async def list(
        self, *, task_id: str | None = None, page: int | None = None, limit: int | None = None
    ) -> m.NotificationList:
        return await self._transport.send(
            calls.notifications_list(task_id=task_id, page=page, limit=limit)
        )

    async def sends(
        self,
        *,
        notification_type: str | None = None,
        status: str | None = None,
        task_id: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> m.SendList:
        return await self._transport.send(
            calls.notifications_sends(
                notification_type=notification_type,
                status=status,
                task_id=task_id,
                limit=limit,
                offset=offset,
            )
        )

    async def get_send(self, send_id: str) -> m.SendDetail:
        return await self._transport.send(calls.notifications_get_send(send_id))


class AsyncToraleClient:
    """ToraleClient for asyncio: the same arguments, methods and errors, awaited.
    `async with AsyncToraleClient() as client:` (or `await client.close()`) closes its
    connections."""

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
        self._transport = AsyncTransport(self.settings)
        self.tasks = AsyncTasks(self._transport)
        self.executions = AsyncExecutions(self._transport)
        self.notifications = AsyncNotifications(self._transport)

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._transport.close()

    async def close(self) -> None:
        """The same as aclose(), so both clients have the same methods."""
        await self.aclose()

    async def __aenter__(self) -> AsyncToraleClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"AsyncToraleClient(base_url={self.settings.base_url!r})"
