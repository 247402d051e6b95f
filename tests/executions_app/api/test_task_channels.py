import uuid

import pytest
from django.db import transaction
from django.utils import timezone

from executions_app.channels import channel_create
from executions_app.models import Channel, ExecutionStatus, TaskChannel
from executions_app.outbox import deliveries_create
from tests.factories import make_execution

pytestmark = pytest.mark.django_db

HOOK = "https://hooks.example.com/torale"


def url(task_id) -> str:
    return f"/api/v1/tasks/{task_id}/channels"


@pytest.fixture
def hook(owner) -> Channel:
    channel, _ = channel_create(user=owner, kind="webhook", target=HOOK)
    return channel


@pytest.fixture
def mailbox(owner) -> Channel:
    channel, _ = channel_create(user=owner, kind="email", target="alerts@example.com")
    return channel


@pytest.fixture
def foreign_channel(other_user) -> Channel:
    channel, _ = channel_create(user=other_user, kind="email", target="theirs@example.com")
    return channel


def chosen(task) -> set:
    return set(TaskChannel.objects.filter(task=task).values_list("channel_id", flat=True))


def test_a_new_task_uses_the_default_channels(api, owner, task):
    response = api.get(url(task.id))

    assert response.status_code == 200
    body = response.json()
    assert body["uses_defaults"] is True
    [account] = body["channels"]
    assert (account["role"], account["recipient"]) == ("account_email", owner.email)
    assert "secret" not in account


def test_a_task_can_choose_its_channels(api, task, hook, mailbox):
    response = api.put(
        url(task.id), {"channel_ids": [str(mailbox.id), str(hook.id)]}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert body["uses_defaults"] is False
    assert [c["id"] for c in body["channels"]] == [str(hook.id), str(mailbox.id)]
    assert [c["recipient"] for c in body["channels"]] == [HOOK, "alerts@example.com"]
    assert api.get(url(task.id) + "/").json() == body
    assert chosen(task) == {hook.id, mailbox.id}


def test_a_repeated_id_is_chosen_once(api, task, hook):
    body = api.put(url(task.id), {"channel_ids": [str(hook.id)] * 3}, format="json").json()

    assert [c["id"] for c in body["channels"]] == [str(hook.id)]


def test_an_empty_list_returns_the_task_to_the_defaults(api, task, hook):
    api.put(url(task.id), {"channel_ids": [str(hook.id)]}, format="json")

    body = api.put(url(task.id), {"channel_ids": []}, format="json").json()

    assert body["uses_defaults"] is True
    assert [c["role"] for c in body["channels"]] == ["account_email"]
    assert chosen(task) == set()


def test_a_chosen_channel_is_where_a_met_condition_is_sent(api, task, hook):
    api.put(url(task.id), {"channel_ids": [str(hook.id)]}, format="json")
    run = make_execution(task, status=ExecutionStatus.SUCCESS, condition_met=True)
    with transaction.atomic():
        deliveries_create(execution=run, task=task, now=timezone.now())

    sends = api.get("/api/v1/notifications/sends", {"task_id": str(task.id)}).json()["sends"]

    assert [(s["notification_type"], s["recipient"]) for s in sends] == [("webhook", HOOK)]


@pytest.mark.parametrize("bad", ["not-a-uuid", "unknown", "foreign"])
def test_a_channel_id_that_is_not_the_callers_is_refused_by_index(
    api, task, hook, foreign_channel, bad
):
    api.put(url(task.id), {"channel_ids": [str(hook.id)]}, format="json")
    value = {"not-a-uuid": "not-a-uuid", "unknown": str(uuid.uuid4())}.get(
        bad, str(foreign_channel.id)
    )

    response = api.put(url(task.id), {"channel_ids": [str(hook.id), value]}, format="json")

    assert response.status_code == 422
    [item] = response.json()["detail"]
    assert item["loc"] == ["body", "channel_ids", 1]
    assert item["type"] == ("uuid_parsing" if bad == "not-a-uuid" else "value_error")
    assert chosen(task) == {hook.id}


def test_every_bad_id_is_reported(api, task, foreign_channel):
    response = api.put(
        url(task.id),
        {"channel_ids": [str(uuid.uuid4()), str(foreign_channel.id)]},
        format="json",
    )

    assert response.json() == {
        "detail": [
            {"loc": ["body", "channel_ids", 0], "msg": "Channel not found", "type": "value_error"},
            {"loc": ["body", "channel_ids", 1], "msg": "Channel not found", "type": "value_error"},
        ]
    }


@pytest.mark.parametrize(
    ("body", "loc", "type_"),
    [
        ({}, ["body", "channel_ids"], "missing"),
        ({"channel_ids": None}, ["body", "channel_ids"], "list_type"),
        ({"channel_ids": "abc"}, ["body", "channel_ids"], "list_type"),
        ({"channel_ids": {"0": "abc"}}, ["body", "channel_ids"], "list_type"),
        ({"channel_ids": [7]}, ["body", "channel_ids", 0], "uuid_type"),
        ({"channel_ids": [str(uuid.uuid4())] * 51}, ["body", "channel_ids"], "too_long"),
        (["abc"], ["body"], "dict_type"),
    ],
)
def test_it_rejects_a_malformed_body(api, task, body, loc, type_):
    response = api.put(url(task.id), body, format="json")

    assert response.status_code == 422
    [item] = response.json()["detail"]
    assert (item["loc"], item["type"]) == (loc, type_)


@pytest.mark.parametrize("method", ["get", "put"])
def test_another_users_task_is_forbidden_and_unchanged(other_api, task, hook, method):
    response = getattr(other_api, method)(url(task.id), {"channel_ids": []}, format="json")

    assert response.status_code == 403
    assert response.json() == {"detail": "Not authorized to access this task"}
    assert chosen(task) == set()


def test_another_user_cannot_point_their_task_at_the_owners_channel(other_api, foreign_task, hook):
    response = other_api.put(url(foreign_task.id), {"channel_ids": [str(hook.id)]}, format="json")

    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "channel_ids", 0]
    assert chosen(foreign_task) == set()


@pytest.mark.parametrize("task_id", [uuid.uuid4(), "not-a-uuid"])
@pytest.mark.parametrize("method", ["get", "put"])
def test_an_unknown_task_is_not_found(api, task_id, method):
    response = getattr(api, method)(url(task_id), {"channel_ids": []}, format="json")

    assert response.status_code == 404
    assert response.json() == {"detail": "Task not found"}


@pytest.mark.parametrize("method", ["get", "put"])
def test_task_channels_need_a_key(anon_api, task, method):
    assert (
        getattr(anon_api, method)(url(task.id), {"channel_ids": []}, format="json").status_code
        == 401
    )
