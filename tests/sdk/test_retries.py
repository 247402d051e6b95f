"""Retry timing against a tiny real HTTP server whose answers are scripted (HttpReceiver):
429s wait for Retry-After (bounded), transport failures are retried only for idempotent
calls."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from tests.support.receivers import HttpReceiver, Reply
from torale import ToraleClient
from torale.exceptions import ConnectionError, RateLimitError, ServerError

LIST_BODY = json.dumps({"tasks": [], "total": 0, "page": 1, "limit": 20}).encode()
TASK_BODY = json.dumps(
    {
        "id": "7d0c7b7e-3a8e-4c35-9d6c-1f0f5e0b1a11",
        "user_id": "0f5d9c1e-2b7a-4d3c-8e6f-5a4b3c2d1e0f",
        "name": "iPhone Release Monitor",
        "search_query": "When is the next iPhone being released?",
        "condition_description": "A specific date has been announced",
        "schedule": "0 9 * * *",
        "timezone": "UTC",
        "notify_behavior": "once",
        "state": "active",
        "last_known_state": None,
        "last_execution_id": None,
        "last_execution": None,
        "created_at": "2026-01-15T10:30:00Z",
        "updated_at": "2026-01-15T10:30:00Z",
    }
).encode()
JSON = {"Content-Type": "application/json"}
NEW_TASK = {
    "search_query": "When is the next iPhone being released?",
    "condition_description": "A specific date has been announced",
    "schedule": "0 9 * * *",
}


def too_many(retry_after: int) -> Reply:
    body = json.dumps({"detail": "Rate limit exceeded", "retry_after": retry_after}).encode()
    return Reply(429, body, {**JSON, "Retry-After": str(retry_after)})


@pytest.fixture
def server() -> Iterator[HttpReceiver]:
    with HttpReceiver(default=Reply(200, LIST_BODY, JSON)) as receiver:
        yield receiver


def client_of(server: HttpReceiver, **options) -> ToraleClient:
    return ToraleClient(api_key="sk_test", base_url=server.url(""), **options)


def test_it_waits_for_retry_after_then_sends_again(server):
    server.script(too_many(1))

    with client_of(server) as client:
        started = time.monotonic()
        page = client.tasks.list()
        elapsed = time.monotonic() - started

    assert page.total == 0
    assert [r.path for r in server.requests] == ["/api/v1/tasks", "/api/v1/tasks"]
    assert 1.0 <= elapsed < 3.0


def test_a_refused_post_is_sent_again_since_the_server_did_nothing(server):
    server.script(too_many(0), Reply(201, TASK_BODY, JSON))

    with client_of(server) as client:
        task = client.tasks.create(**NEW_TASK)

    assert task.name == "iPhone Release Monitor"
    assert [r.method for r in server.requests] == ["POST", "POST"]
    assert server.requests[0].body == server.requests[1].body


def test_it_raises_at_once_when_the_wait_is_longer_than_its_bound(server):
    server.script(too_many(30))

    with client_of(server, max_retry_wait=5) as client:
        started = time.monotonic()
        with pytest.raises(RateLimitError) as caught:
            client.tasks.list()

    assert time.monotonic() - started < 1.0
    assert caught.value.retry_after == 30
    assert len(server.requests) == 1


def test_it_gives_up_after_max_retries(server):
    server.script(*[too_many(0)] * 5)

    with client_of(server, max_retries=2) as client, pytest.raises(RateLimitError):
        client.tasks.list()

    assert len(server.requests) == 3


def test_no_retries_when_max_retries_is_zero(server):
    server.script(too_many(0))

    with client_of(server, max_retries=0) as client, pytest.raises(RateLimitError):
        client.tasks.list()

    assert len(server.requests) == 1


def test_a_get_that_times_out_is_sent_again(server):
    server.script(Reply(200, LIST_BODY, JSON, delay=1.0))

    with client_of(server, timeout=0.3, backoff=0.01) as client:
        page = client.tasks.list()

    assert page.tasks == []
    assert len(server.requests) == 2


def test_a_post_that_times_out_is_never_sent_again(server):
    # It may have reached the server: a second send could start a second run.
    server.script(Reply(202, b"{}", JSON, delay=1.0))

    with (
        client_of(server, timeout=0.3, backoff=0.01) as client,
        pytest.raises(ConnectionError) as caught,
    ):
        client.tasks.execute("7d0c7b7e-3a8e-4c35-9d6c-1f0f5e0b1a11")

    assert "timed out" in str(caught.value)
    assert len(server.requests) == 1


def test_a_proxy_error_page_is_a_server_error_with_its_reason_not_its_html(server):
    page = b"<html><body>" + b"<p>Bad Gateway</p>" * 500 + b"</body></html>"
    server.script(Reply(502, page, {"Content-Type": "text/html"}))

    with client_of(server) as client, pytest.raises(ServerError) as caught:
        client.tasks.list()

    assert caught.value.status_code == 502
    assert caught.value.detail == "Bad Gateway"
    assert str(caught.value) == "502: Bad Gateway"


def test_a_plain_text_error_keeps_only_the_start_of_its_text(server):
    server.script(Reply(500, b"Internal error " * 100, {"Content-Type": "text/plain"}))

    with client_of(server) as client, pytest.raises(ServerError) as caught:
        client.tasks.list()

    assert caught.value.detail.startswith("Internal error Internal error")
    assert len(caught.value.detail) <= 200
