"""Arguments the SDK can check itself are refused before anything is sent: a wrong type is a
TypeError, a bad value a ValueError. The server here is a real one (HttpReceiver) that would
answer anything, so a request that slipped through would show in its `requests`."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator

import pytest

from tests.sdk.test_retries import LIST_BODY, NEW_TASK, TASK_BODY
from tests.support.receivers import HttpReceiver, Reply
from torale import AsyncToraleClient, ToraleClient
from torale.sdk.models import Task, from_json

JSON = {"Content-Type": "application/json"}
TASK_ID = "7d0c7b7e-3a8e-4c35-9d6c-1f0f5e0b1a11"
A_TASK = from_json(Task, json.loads(TASK_BODY))

BAD_IDS = [
    ("", ValueError),
    (".", ValueError),
    ("..", ValueError),
    (" " + TASK_ID, ValueError),
    (TASK_ID + "\n", ValueError),
    ("\ud800", ValueError),
    ("x" * 100_000, ValueError),
    (None, TypeError),
    (42, TypeError),
    (A_TASK, TypeError),
]
BAD_ID_NAMES = ["empty", "dot", "dotdot", "space", "newline", "surrogate", "huge", "None", "int"]
BAD_ID_NAMES.append("a-Task")


@pytest.fixture
def server() -> Iterator[HttpReceiver]:
    with HttpReceiver(default=Reply(200, LIST_BODY, JSON)) as receiver:
        yield receiver


@pytest.fixture
def client(server) -> Iterator[ToraleClient]:
    with ToraleClient(api_key="sk_test", base_url=server.url("")) as c:
        yield c


@pytest.mark.parametrize(("bad", "error"), BAD_IDS, ids=BAD_ID_NAMES)
def test_it_refuses_an_id_that_is_not_one_before_sending(client, server, bad, error):
    attempts = [
        lambda: client.tasks.get(bad),
        lambda: client.tasks.update(bad, name="n"),
        lambda: client.tasks.delete(bad),
        lambda: client.tasks.execute(bad),
        lambda: client.executions.list(bad),
        lambda: client.executions.get(TASK_ID, bad),
        lambda: client.executions.get(bad, TASK_ID),
        lambda: client.notifications.get_send(bad),
    ]
    if bad is not None:  # no task_id means every task's notifications
        attempts.append(lambda: client.notifications.list(task_id=bad))
        attempts.append(lambda: client.notifications.sends(task_id=bad))
    for attempt in attempts:
        with pytest.raises(error):
            attempt()

    assert server.requests == []


def test_a_task_passed_as_an_id_is_told_to_pass_its_id(client):
    with pytest.raises(TypeError, match=r"task_id must be a str or uuid.UUID, not Task \(pass"):
        client.tasks.get(A_TASK)


def test_it_takes_a_uuid_as_an_id(client, server):
    server.script(Reply(200, TASK_BODY, JSON))

    task = client.tasks.get(uuid.UUID(TASK_ID))

    assert task.id == TASK_ID
    assert server.requests[0].path == f"/api/v1/tasks/{TASK_ID}"


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.tasks.list(active="no"),
        lambda c: c.tasks.list(active=0),
        lambda c: c.tasks.list(page="2"),
        lambda c: c.tasks.list(limit=True),
        lambda c: c.tasks.iter_all(active="false").__next__(),
        lambda c: c.tasks.create(**NEW_TASK, run_immediately="yes"),
        lambda c: c.tasks.create(**{**NEW_TASK, "schedule": 9}),
        lambda c: c.tasks.update(TASK_ID, is_active="false"),
        lambda c: c.tasks.execute(TASK_ID, force="yes"),
        lambda c: c.tasks.suggest(None),
        lambda c: c.tasks.suggest("Tell me", current_task="PS5"),
        lambda c: c.executions.list(TASK_ID, limit="5"),
        lambda c: c.notifications.sends(offset=1.5),
    ],
    ids=[
        "active-str",
        "active-int",
        "page-str",
        "limit-bool",
        "iter-all-active-str",
        "run-immediately-str",
        "schedule-int",
        "is-active-str",
        "force-str",
        "prompt-none",
        "current-task-str",
        "executions-limit-str",
        "offset-float",
    ],
)
def test_it_refuses_an_argument_of_the_wrong_type_before_sending(client, server, call):
    with pytest.raises(TypeError):
        call(client)

    assert server.requests == []


def test_text_with_a_lone_surrogate_is_refused_before_sending(client, server):
    with pytest.raises(ValueError, match="lone surrogate"):
        client.tasks.create(**NEW_TASK, name="Bad \ud800 name")
    with pytest.raises(ValueError, match="lone surrogate"):
        client.executions.list(TASK_ID, status="\udcff")
    with pytest.raises(ValueError, match="lone surrogate"):
        client.tasks.suggest("Tell me", current_task={"name": "\ud800"})

    assert server.requests == []


def test_a_query_too_long_for_a_url_is_a_value_error(client, server):
    with pytest.raises(ValueError, match="URL is invalid"):
        client.executions.list(TASK_ID, status="x" * 100_000)

    assert server.requests == []


def test_the_async_client_checks_the_same_arguments(server):
    async def scenario() -> None:
        async with AsyncToraleClient(api_key="sk_test", base_url=server.url("")) as client:
            with pytest.raises(ValueError):
                await client.executions.get(TASK_ID, "..")
            with pytest.raises(TypeError):
                await client.tasks.list(active="no")

    asyncio.run(scenario())

    assert server.requests == []
