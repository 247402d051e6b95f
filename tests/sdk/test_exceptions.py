"""Each exception class, raised by a real answer of a real server (or a real closed port)."""

from __future__ import annotations

import time
import uuid

import pytest

from executions_app.models import Execution
from tasks_app.models import Task
from tests.conftest import NO_PROVIDER
from tests.factories import VALID_TASK, make_task
from tests.support.receivers import free_port
from torale import ToraleClient
from torale.exceptions import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ConnectionError,
    ForbiddenError,
    NotFoundError,
    RateLimitError,
    ServerError,
    ToraleError,
    ValidationError,
)

PREVIEW = {
    "search_query": VALID_TASK["search_query"],
    "condition_description": VALID_TASK["condition_description"],
}


def test_it_raises_authentication_error_for_an_unknown_key(server_url):
    with (
        ToraleClient(api_key="sk_" + "x" * 32, base_url=server_url) as client,
        pytest.raises(AuthenticationError) as caught,
    ):
        client.tasks.list()

    assert caught.value.status_code == 401
    assert caught.value.detail == "Invalid API key"
    assert caught.value.headers["www-authenticate"].startswith("Bearer")


def test_it_raises_authentication_error_without_a_key(server_url, db):
    with ToraleClient(base_url=server_url) as client, pytest.raises(AuthenticationError) as caught:
        client.tasks.list()

    assert caught.value.detail == "Authorization header missing"


def test_it_raises_forbidden_error_for_another_users_task(torale, foreign_task):
    with pytest.raises(ForbiddenError) as caught:
        torale.tasks.get(str(foreign_task.id))

    assert caught.value.status_code == 403
    assert caught.value.detail == "Not authorized to access this task"


def test_it_deletes_nothing_of_another_user(torale, foreign_task):
    with pytest.raises(ForbiddenError):
        torale.tasks.delete(str(foreign_task.id))

    assert Task.objects.filter(pk=foreign_task.pk).exists()


def test_it_raises_not_found_error_for_an_unknown_task(torale):
    with pytest.raises(NotFoundError) as caught:
        torale.tasks.get(str(uuid.uuid4()))

    assert caught.value.status_code == 404
    assert caught.value.detail == "Task not found"


def test_an_id_with_a_slash_stays_in_its_path_segment(torale, task):
    # Quoted into one segment, "../x" cannot reach another endpoint: the task is not found.
    with pytest.raises(NotFoundError):
        torale.tasks.get(f"{task.id}/../{task.id}")


def test_it_raises_conflict_error_when_executing_twice_without_force(torale, task):
    first = torale.tasks.execute(str(task.id))

    with pytest.raises(ConflictError) as caught:
        torale.tasks.execute(str(task.id))

    assert caught.value.status_code == 409
    assert caught.value.detail == (
        "Task is already running or pending. Use force=true to override."
    )
    second = torale.tasks.execute(str(task.id), force=True)
    assert second != first
    assert Execution.objects.get(pk=first).status == "cancelled"
    assert Execution.objects.get(pk=second).status == "pending"


def test_it_raises_validation_error_for_a_bad_cron(torale):
    with pytest.raises(ValidationError) as caught:
        torale.tasks.create(**{**VALID_TASK, "schedule": "invalid"})

    assert caught.value.status_code == 422
    assert caught.value.detail == [
        {"loc": ["body", "schedule"], "msg": "Invalid cron expression", "type": "value_error"}
    ]
    assert caught.value.errors == caught.value.detail
    assert "body.schedule: Invalid cron expression" in str(caught.value)
    assert not Task.objects.exists()


def test_it_raises_bad_request_error_for_an_invalid_state_transition(torale, owner):
    paused = make_task(owner, state="paused")

    with pytest.raises(BadRequestError) as caught:
        torale.tasks.update(str(paused.id), state="completed")

    assert isinstance(caught.value, ToraleError)
    assert caught.value.status_code == 400
    assert caught.value.detail == "Invalid state transition: paused -> completed"


def test_it_raises_rate_limit_error_over_the_limit(server_url, owner_key, two_requests_a_minute):
    # The server asks for about a minute: more than the client waits, so it raises at once.
    with ToraleClient(api_key=owner_key, base_url=server_url) as client:
        client.tasks.list()
        client.tasks.list()
        started = time.monotonic()

        with pytest.raises(RateLimitError) as caught:
            client.tasks.list()

    assert time.monotonic() - started < 5
    assert caught.value.status_code == 429
    assert caught.value.detail == "Rate limit exceeded"
    assert isinstance(caught.value.retry_after, int) and 1 <= caught.value.retry_after <= 61
    assert caught.value.headers["retry-after"] == str(caught.value.retry_after)


def test_it_raises_server_error_when_the_search_provider_fails(torale, gemini):
    gemini.script({"status": 500})

    with pytest.raises(ServerError) as caught:
        torale.tasks.preview(**PREVIEW)

    assert caught.value.status_code == 502
    assert caught.value.detail.startswith("Gemini had a server error (500)")


def test_it_raises_server_error_without_a_search_provider(torale, no_search_provider):
    with pytest.raises(ServerError) as caught:
        torale.tasks.suggest("Tell me when the iPhone 17 release date is announced")

    assert caught.value.status_code == 503
    assert caught.value.detail == NO_PROVIDER["detail"]


def test_it_raises_connection_error_for_a_closed_port():
    port = free_port()
    with (
        ToraleClient(api_key="sk_x", base_url=f"http://127.0.0.1:{port}", backoff=0.01) as c,
        pytest.raises(ConnectionError) as caught,
    ):
        c.tasks.list()

    assert caught.value.status_code is None
    assert "GET /api/v1/tasks failed" in str(caught.value)
    assert isinstance(caught.value, ToraleError)
