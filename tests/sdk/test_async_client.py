"""AsyncToraleClient sends the same calls as ToraleClient; run here with asyncio.run()."""

from __future__ import annotations

import asyncio
import json
import time

import pytest

from tests.factories import VALID_TASK, make_task
from tests.support.receivers import HttpReceiver, Reply
from torale import AsyncToraleClient
from torale.exceptions import ConflictError, NotFoundError, ValidationError


def test_it_manages_tasks_end_to_end(server_url, owner_key, owner):
    older = make_task(owner, name="Older")

    async def scenario() -> dict:
        async with AsyncToraleClient(api_key=owner_key, base_url=server_url) as client:
            created = await client.tasks.create(name="Async task", **VALID_TASK)
            listed = await client.tasks.list()
            everything = [t.name async for t in client.tasks.iter_all(limit=1)]
            updated = await client.tasks.update(created.id, schedule="0 */6 * * *")
            execution_id = await client.tasks.execute(str(older.id))
            with pytest.raises(ConflictError):
                await client.tasks.execute(str(older.id))
            execution = await client.executions.get(str(older.id), execution_id)
            await client.tasks.delete(created.id)
            with pytest.raises(NotFoundError):
                await client.tasks.get(created.id)
            with pytest.raises(ValidationError) as caught:
                await client.tasks.create(**{**VALID_TASK, "schedule": "invalid"})
        return {
            "listed": [t.name for t in listed],
            "everything": everything,
            "schedule": updated.schedule,
            "execution": execution.status,
            "closed": client._transport._http.is_closed,
            "invalid": caught.value.detail[0]["msg"],
        }

    result = asyncio.run(scenario())

    assert result == {
        "listed": ["Async task", "Older"],
        "everything": ["Async task", "Older"],
        "schedule": "0 */6 * * *",
        "execution": "pending",
        "closed": True,
        "invalid": "Invalid cron expression",
    }


def test_it_waits_for_retry_after_too():
    body = json.dumps({"detail": "Rate limit exceeded", "retry_after": 1}).encode()
    listing = json.dumps({"tasks": [], "total": 0, "page": 1, "limit": 20}).encode()
    with HttpReceiver(default=Reply(200, listing)) as server:
        server.script(Reply(429, body, {"Retry-After": "1"}))

        async def scenario():
            async with AsyncToraleClient(api_key="sk_test", base_url=server.url("")) as client:
                return await client.tasks.list()

        started = time.monotonic()
        page = asyncio.run(scenario())

    assert page.total == 0
    assert len(server.requests) == 2
    assert time.monotonic() - started >= 1.0
