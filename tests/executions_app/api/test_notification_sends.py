import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from executions_app.channels import channel_create, task_channels_set
from executions_app.models import (
    AttemptOutcome,
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    ExecutionStatus,
)
from executions_app.outbox import deliveries_create, delivery_send
from tests.factories import make_delivery, make_execution, make_task
from tests.support.receivers import Reply

pytestmark = pytest.mark.django_db

SENDS = "/api/v1/notifications/sends"
SEND_FIELDS = {
    "id",
    "user_id",
    "task_id",
    "execution_id",
    "recipient",
    "notification_type",
    "status",
    "attempts",
    "error_message",
    "created_at",
}
NOT_FOUND = {"detail": "Notification send not found"}
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def send_at(task, minutes: int, **fields) -> Delivery:
    """A send of a new met run of `task`, created `minutes` after T0."""
    run = make_execution(task, status=ExecutionStatus.SUCCESS, condition_met=True)
    return make_delivery(run, created_at=T0 + timedelta(minutes=minutes), **fields)


def ids(body) -> list[str]:
    return [s["id"] for s in body["sends"]]


# --- The list ----------------------------------------------------------------------------------


def test_it_lists_the_callers_sends_newest_first_with_every_field(api, owner, task):
    older = send_at(task, 1, kind="webhook", recipient="https://hooks.example/x")
    newer = send_at(
        task,
        2,
        status=DeliveryStatus.FAILED,
        attempts=3,
        error_message="Receiver answered 500 (gave up after 3 attempts)",
    )

    response = api.get(SENDS)

    assert response.status_code == 200
    body = response.json()
    assert body["total"] == 2
    assert ids(body) == [str(newer.id), str(older.id)]
    assert body["sends"][0] == {
        "id": str(newer.id),
        "user_id": str(owner.id),
        "task_id": str(task.id),
        "execution_id": str(newer.execution_id),
        "recipient": "owner@example.com",
        "notification_type": "email",
        "status": "failed",
        "attempts": 3,
        "error_message": "Receiver answered 500 (gave up after 3 attempts)",
        "created_at": "2026-03-01T09:02:00Z",
    }
    assert body["sends"][1]["notification_type"] == "webhook"
    assert body["sends"][1]["error_message"] is None


def test_another_users_sends_are_not_listed(other_api, task):
    send_at(task, 1)

    assert other_api.get(SENDS).json() == {"sends": [], "total": 0}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"notification_type": "webhook"}, ["hook"]),
        ({"notification_type": "email"}, ["failed-mail", "mail"]),
        ({"status": "failed"}, ["failed-mail"]),
        ({"status": "failed", "notification_type": "webhook"}, []),
        ({"notification_type": "apprise"}, []),
    ],
)
def test_it_filters_by_type_and_status(api, task, params, expected):
    made = {
        "mail": send_at(task, 1),
        "hook": send_at(task, 2, kind="webhook"),
        "failed-mail": send_at(task, 3, status=DeliveryStatus.FAILED),
    }

    body = api.get(SENDS, params).json()

    assert ids(body) == [str(made[name].id) for name in expected]
    assert body["total"] == len(expected)


def test_it_filters_by_task(api, owner, task):
    other_task = make_task(owner, name="Other")
    mine = send_at(task, 1)
    send_at(other_task, 2)

    body = api.get(SENDS, {"task_id": str(task.id)}).json()

    assert ids(body) == [str(mine.id)] and body["total"] == 1


def test_it_pages_with_limit_and_offset(api, task):
    sends = [send_at(task, minute) for minute in range(5)]

    body = api.get(SENDS, {"limit": 2, "offset": 1}).json()
    past_the_end = api.get(SENDS, {"offset": 5}).json()

    assert body["total"] == 5
    assert ids(body) == [str(sends[3].id), str(sends[2].id)]
    assert past_the_end == {"sends": [], "total": 5}


@pytest.mark.parametrize(
    ("params", "name", "type_"),
    [
        ({"notification_type": "sms"}, "notification_type", "enum"),
        ({"status": "delivered"}, "status", "enum"),
        ({"task_id": "not-a-uuid"}, "task_id", "uuid_parsing"),
        ({"limit": 0}, "limit", "greater_than_equal"),
        ({"limit": 201}, "limit", "less_than_equal"),
        ({"limit": "ten"}, "limit", "int_parsing"),
        ({"offset": -1}, "offset", "greater_than_equal"),
    ],
)
def test_it_rejects_bad_query_parameters(api, params, name, type_):
    response = api.get(SENDS, params)

    assert response.status_code == 422
    [item] = response.json()["detail"]
    assert item["loc"] == ["query", name]
    assert item["type"] == type_
    assert item["msg"]


def test_it_reports_every_bad_parameter_at_once(api):
    response = api.get(SENDS, {"notification_type": "sms", "offset": -1})

    assert [i["loc"] for i in response.json()["detail"]] == [
        ["query", "notification_type"],
        ["query", "offset"],
    ]


def test_the_enum_error_names_the_choices(api):
    [item] = api.get(SENDS, {"notification_type": "sms"}).json()["detail"]

    assert item["msg"] == "Input should be 'email', 'webhook' or 'apprise'"


def test_filtering_by_another_users_task_is_forbidden(other_api, task):
    send_at(task, 1)

    response = other_api.get(SENDS, {"task_id": str(task.id)})

    assert response.status_code == 403
    assert response.json() == {"detail": "Not authorized to access this task"}


def test_filtering_by_an_unknown_task_is_not_found(api):
    response = api.get(SENDS, {"task_id": str(uuid.uuid4())})

    assert response.status_code == 404
    assert response.json() == {"detail": "Task not found"}


def test_the_list_needs_a_key(anon_api):
    assert anon_api.get(SENDS).status_code == 401


def test_the_query_count_does_not_grow_with_the_page(api, task):
    for minute in range(30):
        send_at(task, minute)
    api.get(SENDS)  # the key's first use also records last_used_at

    with CaptureQueriesContext(connection) as one:
        api.get(SENDS, {"limit": 1})
    with CaptureQueriesContext(connection) as thirty:
        response = api.get(SENDS, {"limit": 30})

    assert len(response.json()["sends"]) == 30
    assert len(thirty) == len(one) <= 4


# --- One send ----------------------------------------------------------------------------------


def test_one_send_shows_its_channel_times_and_attempts_in_order(api, owner, task):
    channel, _ = channel_create(user=owner, kind="email", target="alerts@example.com")
    delivery = send_at(
        task,
        1,
        channel=channel,
        status=DeliveryStatus.RETRYING,
        attempts=2,
        error_message="Connection refused",
        next_attempt_at=T0 + timedelta(minutes=5),
    )
    for number, outcome in [(2, AttemptOutcome.RETRY), (1, AttemptOutcome.INTERRUPTED)]:
        DeliveryAttempt.objects.create(
            delivery=delivery,
            number=number,
            started_at=T0 + timedelta(minutes=number),
            duration_ms=12 * number,
            outcome=outcome,
            status_code=503 if number == 2 else None,
            error="Connection refused",
        )

    response = api.get(f"{SENDS}/{delivery.id}")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == SEND_FIELDS | {"channel_id", "sent_at", "next_attempt_at", "attempt_log"}
    assert body["recipient"] == "alerts@example.com"
    assert body["channel_id"] == str(channel.id)
    assert body["sent_at"] is None
    assert body["next_attempt_at"] == "2026-03-01T09:05:00Z"
    assert body["attempt_log"] == [
        {
            "number": 1,
            "started_at": "2026-03-01T09:01:00Z",
            "duration_ms": 12,
            "outcome": "interrupted",
            "status_code": None,
            "error": "Connection refused",
        },
        {
            "number": 2,
            "started_at": "2026-03-01T09:02:00Z",
            "duration_ms": 24,
            "outcome": "retry",
            "status_code": 503,
            "error": "Connection refused",
        },
    ]


def test_a_send_outlives_its_channel(api, owner, task):
    channel, _ = channel_create(user=owner, kind="email", target="alerts@example.com")
    delivery = send_at(task, 1, channel=channel)

    assert api.delete(f"/api/v1/notifications/channels/{channel.id}").status_code == 204
    body = api.get(f"{SENDS}/{delivery.id}/").json()

    assert body["channel_id"] is None
    assert body["recipient"] == "alerts@example.com"


@pytest.mark.parametrize("send_id", [uuid.uuid4(), "not-a-uuid"])
def test_an_unknown_send_is_not_found(api, send_id):
    response = api.get(f"{SENDS}/{send_id}")

    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_another_users_send_is_not_found(other_api, task):
    delivery = send_at(task, 1)

    response = other_api.get(f"{SENDS}/{delivery.id}")

    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_one_send_needs_a_key(anon_api, task):
    assert anon_api.get(f"{SENDS}/{send_at(task, 1).id}").status_code == 401


# --- Retry -------------------------------------------------------------------------------------


def failed(task) -> Delivery:
    return send_at(
        task,
        1,
        status=DeliveryStatus.FAILED,
        attempts=3,
        attempt_limit=3,
        error_message="Receiver answered 500 (gave up after 3 attempts)",
    )


def test_a_failed_send_is_queued_again(api, task):
    delivery = failed(task)

    response = api.post(f"{SENDS}/{delivery.id}/retry")

    assert response.status_code == 202
    body = response.json()
    assert body["id"] == str(delivery.id)
    assert (body["status"], body["error_message"], body["attempts"]) == ("pending", None, 3)
    assert "attempt_log" in body
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING
    assert delivery.attempt_limit > delivery.attempts


@pytest.mark.parametrize("state", [DeliveryStatus.SENT, DeliveryStatus.PENDING])
def test_only_a_failed_or_skipped_send_can_be_retried(api, task, state):
    delivery = send_at(task, 1, status=state)

    response = api.post(f"{SENDS}/{delivery.id}/retry/")

    assert response.status_code == 409
    assert response.json() == {"detail": "Only a failed or skipped notification can be retried"}
    delivery.refresh_from_db()
    assert delivery.status == state


def test_another_user_cannot_retry_a_send(other_api, task):
    delivery = failed(task)

    response = other_api.post(f"{SENDS}/{delivery.id}/retry")

    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED


@pytest.mark.parametrize("send_id", [uuid.uuid4(), "not-a-uuid"])
def test_retrying_an_unknown_send_is_not_found(api, send_id):
    response = api.post(f"{SENDS}/{send_id}/retry")

    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_retry_needs_a_key(anon_api, task):
    delivery = failed(task)

    assert anon_api.post(f"{SENDS}/{delivery.id}/retry").status_code == 401
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED


def test_a_webhook_refused_once_is_delivered_after_a_retry(
    api, owner, task, allow_private, receiver, django_capture_on_commit_callbacks
):
    """The real path: a met run makes the delivery, the receiver refuses it (a permanent 4xx),
    the user retries it through the API, and the next send arrives with the same event id."""
    channel, _ = channel_create(user=owner, kind="webhook", target=receiver.url())
    task_channels_set(task=task, user=owner, channel_ids=[channel.id])
    run = make_execution(task, status=ExecutionStatus.SUCCESS, condition_met=True)
    with transaction.atomic():
        [delivery_id] = deliveries_create(execution=run, task=task, now=timezone.now())
    receiver.script(Reply(status=410, body=b"gone"))
    delivery_send(delivery_id=delivery_id)
    assert api.get(f"{SENDS}/{delivery_id}").json()["status"] == "failed"

    with django_capture_on_commit_callbacks(execute=True) as published:
        response = api.post(f"{SENDS}/{delivery_id}/retry")
    delivery_send(delivery_id=delivery_id)  # what the worker does with the published message

    assert response.status_code == 202 and len(published) == 1
    body = api.get(f"{SENDS}/{delivery_id}").json()
    assert (body["status"], body["attempts"], body["error_message"]) == ("sent", 2, None)
    assert body["sent_at"] is not None
    assert [(a["number"], a["outcome"], a["status_code"]) for a in body["attempt_log"]] == [
        (1, "failed", 410),
        (2, "sent", 200),
    ]
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == str(delivery_id)
