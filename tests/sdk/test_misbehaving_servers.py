"""Servers that answer what the API never would: every failure is still a ToraleError, within
the timeout, and no message holds the key. Each server is a real one on 127.0.0.1
(HttpReceiver) whose answers are scripted."""

from __future__ import annotations

import asyncio
import builtins
import json
import time
from collections.abc import Iterator

import pytest

from tests.sdk.test_retries import LIST_BODY, TASK_BODY
from tests.support.receivers import HttpReceiver, Reply, free_port
from torale import AsyncToraleClient, ToraleClient
from torale.exceptions import (
    ClientClosedError,
    ConnectionError,
    RedirectError,
    ResponseError,
    TimeoutError,
    ToraleError,
)

JSON = {"Content-Type": "application/json"}
TASK_ID = "7d0c7b7e-3a8e-4c35-9d6c-1f0f5e0b1a11"
SECRET = "sk_live_secret_never_shown"


@pytest.fixture
def server() -> Iterator[HttpReceiver]:
    with HttpReceiver(default=Reply(200, LIST_BODY, JSON)) as receiver:
        yield receiver


def client_of(server: HttpReceiver, **options) -> ToraleClient:
    return ToraleClient(api_key=SECRET, base_url=server.url(""), **options)


def task_without(field: str) -> bytes:
    return json.dumps({k: v for k, v in json.loads(TASK_BODY).items() if k != field}).encode()


@pytest.mark.parametrize(
    ("reply", "says"),
    [
        (Reply(200, b"<html>Welcome to nginx</html>", {"Content-Type": "text/html"}), "not JSON"),
        (Reply(200, b"[1, 2]", JSON), "Task is not a JSON object"),
        (Reply(200, b"{}", JSON), "Task.id is missing"),
        (Reply(200, task_without("id"), JSON), "Task.id is missing"),
        (Reply(200, task_without("schedule"), JSON), "Task.schedule is missing"),
        (Reply(200, TASK_BODY.replace(b'"2026-01-15T10:30:00Z"', b'"soon"'), JSON), "date-time"),
        (Reply(200, TASK_BODY.replace(b'"once"', b"7"), JSON), "notify_behavior is not a str"),
    ],
    ids=["html", "a-list", "empty", "no-id", "no-schedule", "bad-time", "wrong-type"],
)
def test_an_answer_it_cannot_read_is_a_response_error(server, reply, says):
    server.script(reply)

    with client_of(server) as client, pytest.raises(ResponseError) as caught:
        client.tasks.get(TASK_ID)

    assert isinstance(caught.value, ToraleError)
    assert caught.value.status_code == 200
    assert says in str(caught.value)


def test_a_nullable_field_may_be_left_out(server):
    server.script(Reply(200, task_without("last_execution"), JSON))

    with client_of(server) as client:
        task = client.tasks.get(TASK_ID)

    assert task.id == TASK_ID
    assert task.last_execution is None


def test_a_list_with_a_task_of_the_wrong_shape_is_a_response_error(server):
    server.script(
        Reply(200, json.dumps({"tasks": [{}], "total": 1, "page": 1, "limit": 20}).encode())
    )

    with client_of(server) as client, pytest.raises(ResponseError) as caught:
        client.tasks.list()

    assert "TaskList.tasks[0].id is missing" in str(caught.value)


def test_a_redirect_is_reported_and_never_followed(server):
    with HttpReceiver() as elsewhere:
        server.script(Reply(302, b"", {"Location": elsewhere.url("/steal")}))

        with client_of(server) as client, pytest.raises(RedirectError) as caught:
            client.tasks.list()

        assert elsewhere.requests == []
    assert caught.value.status_code == 302
    assert caught.value.location == elsewhere.url("/steal")
    assert f"redirect to {elsewhere.url('/steal')}: check base_url" in str(caught.value)
    assert len(server.requests) == 1


def test_a_drip_fed_answer_times_out_after_the_timeout_in_all(server):
    # Each byte comes well within the timeout, so only a total deadline stops the wait (the
    # whole answer would take 30 s).
    server.script(Reply(200, LIST_BODY + b" " * 300, JSON, trickle=0.1))

    with client_of(server, timeout=1, max_retries=0) as client:
        started = time.monotonic()
        with pytest.raises(TimeoutError) as caught:
            client.tasks.list()
        elapsed = time.monotonic() - started

    assert elapsed < 10
    assert "timed out" in str(caught.value)
    assert isinstance(caught.value, ConnectionError)
    assert isinstance(caught.value, builtins.TimeoutError)


def test_a_drip_fed_answer_times_out_for_the_async_client_too(server):
    server.script(Reply(200, LIST_BODY + b" " * 300, JSON, trickle=0.1))

    async def scenario() -> float:
        async with AsyncToraleClient(
            api_key=SECRET, base_url=server.url(""), timeout=1, max_retries=0
        ) as client:
            started = time.monotonic()
            with pytest.raises(TimeoutError):
                await client.tasks.list()
            return time.monotonic() - started

    assert asyncio.run(scenario()) < 10


def test_a_slow_answer_is_a_timeout_error_that_is_also_a_connection_error(server):
    server.script(Reply(200, LIST_BODY, JSON, delay=1.0))

    with (
        client_of(server, timeout=0.3, max_retries=0) as client,
        pytest.raises(builtins.TimeoutError) as caught,
    ):
        client.tasks.list()

    assert isinstance(caught.value, TimeoutError)
    assert isinstance(caught.value, builtins.ConnectionError)
    assert "ReadTimeout" in str(caught.value)


def test_a_refused_connection_is_also_a_builtin_connection_error():
    port = free_port()
    with (
        ToraleClient(api_key=SECRET, base_url=f"http://127.0.0.1:{port}", max_retries=0) as c,
        pytest.raises(builtins.ConnectionError) as caught,
    ):
        c.tasks.list()

    assert isinstance(caught.value, ConnectionError)
    assert not isinstance(caught.value, TimeoutError)
    assert "ConnectError" in str(caught.value)
    assert SECRET not in str(caught.value) and SECRET not in repr(caught.value)


def test_a_call_after_close_says_the_client_is_closed(server):
    client = client_of(server)
    client.close()

    with pytest.raises(ClientClosedError, match="closed: create a new one") as caught:
        client.tasks.list()

    assert isinstance(caught.value, ToraleError)
    assert isinstance(caught.value, RuntimeError)
    assert server.requests == []


def test_the_async_client_has_close_too_and_says_when_it_is_closed(server):
    async def scenario() -> None:
        client = AsyncToraleClient(api_key=SECRET, base_url=server.url(""))
        await client.close()
        assert client._transport._http.is_closed
        with pytest.raises(ClientClosedError):
            await client.tasks.list()

    asyncio.run(scenario())

    assert server.requests == []
