import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from standardwebhooks.webhooks import Webhook

from executions_app.channels import channel_create, task_channels_get, task_channels_set
from executions_app.models import Channel, ChannelRole
from tests.factories import make_task
from tests.support.receivers import Reply

pytestmark = pytest.mark.django_db

CHANNELS = "/api/v1/notifications/channels"
CHANNEL_FIELDS = {
    "id",
    "type",
    "role",
    "name",
    "recipient",
    "enabled",
    "is_default",
    "created_at",
    "updated_at",
}
NOT_FOUND = {"detail": "Channel not found"}
# Public (or, offline, unresolvable: checked again at every send); never a private address.
HOOK = "https://hooks.example.com/torale"


def url(channel_id) -> str:
    return f"{CHANNELS}/{channel_id}"


def stored_secret(channel_id) -> str:
    """The secret column as it is in the database (no field decryption)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT secret FROM {Channel._meta.db_table} WHERE id = %s",  # noqa: S608
            [channel_id],
        )
        return cursor.fetchone()[0]


@pytest.fixture
def email_channel(owner) -> Channel:
    channel, _ = channel_create(user=owner, kind="email", target="alerts@example.com")
    return channel


@pytest.fixture
def foreign_channel(other_user) -> Channel:
    channel, _ = channel_create(user=other_user, kind="email", target="theirs@example.com")
    return channel


# --- List --------------------------------------------------------------------------------------


def test_every_account_has_its_account_email_channel(api, owner):
    response = api.get(CHANNELS)

    assert response.status_code == 200
    [channel] = response.json()["channels"]
    assert set(channel) == CHANNEL_FIELDS
    assert channel["type"] == "email" and channel["role"] == "account_email"
    assert channel["recipient"] == owner.email == "owner@example.com"
    assert channel["enabled"] is True and channel["is_default"] is True
    assert channel["created_at"].endswith("Z") and channel["updated_at"].endswith("Z")


def test_the_list_shows_the_callers_channels_oldest_first(api, owner, foreign_channel):
    account = api.get(CHANNELS).json()["channels"][0]
    added, _ = channel_create(user=owner, kind="email", target="alerts@example.com")

    channels = api.get(CHANNELS + "/").json()["channels"]

    assert [c["id"] for c in channels] == [account["id"], str(added.id)]
    assert channels[1]["role"] is None
    assert channels[1]["recipient"] == "alerts@example.com"


def test_the_query_count_does_not_grow_with_the_channels(api, owner):
    api.get(CHANNELS)  # the key's first use also records last_used_at

    with CaptureQueriesContext(connection) as few:
        api.get(CHANNELS)
    for n in range(10):
        channel_create(user=owner, kind="email", target=f"a{n}@example.com")
    with CaptureQueriesContext(connection) as many:
        response = api.get(CHANNELS)

    assert len(response.json()["channels"]) == 11
    assert len(many) == len(few)


# --- Create ------------------------------------------------------------------------------------


def test_it_adds_an_email_channel(api, owner):
    response = api.post(CHANNELS, {"type": "email", "target": " ops@example.com "}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == CHANNEL_FIELDS | {"secret"}
    assert body["secret"] is None
    assert (body["type"], body["role"], body["name"]) == ("email", None, "ops@example.com")
    assert body["recipient"] == "ops@example.com"
    assert (body["enabled"], body["is_default"]) == (True, False)
    assert Channel.objects.get(pk=body["id"]).owner == owner


def test_a_new_webhook_shows_its_secret_once_and_stores_it_encrypted(api):
    response = api.post(
        CHANNELS,
        {"type": "webhook", "target": HOOK, "name": "Ops hook", "is_default": True},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["secret"].startswith("whsec_")
    assert (body["name"], body["recipient"], body["is_default"]) == ("Ops hook", HOOK, True)
    assert "secret" not in api.get(url(body["id"])).json()
    assert all("secret" not in c for c in api.get(CHANNELS).json()["channels"])
    stored = stored_secret(body["id"])
    assert stored and "whsec_" not in stored and body["secret"] not in stored


@pytest.mark.parametrize(
    ("body", "loc", "type_"),
    [
        ({"target": "a@example.com"}, ["body", "type"], "missing"),
        ({"type": "email"}, ["body", "target"], "missing"),
        ({"type": "sms", "target": "a@example.com"}, ["body", "type"], "enum"),
        ({"type": "email", "target": 5}, ["body", "target"], "string_type"),
        (
            {"type": "email", "target": "a@example.com", "name": "x" * 101},
            ["body", "name"],
            "string_too_long",
        ),
        (
            {"type": "email", "target": "a@example.com", "enabled": "x"},
            ["body", "enabled"],
            "bool_type",
        ),
        (
            {"type": "email", "target": "a@example.com", "is_default": None},
            ["body", "is_default"],
            "bool_type",
        ),
        (["email"], ["body"], "dict_type"),
    ],
)
def test_it_rejects_a_malformed_channel(api, owner, body, loc, type_):
    response = api.post(CHANNELS, body, format="json")

    assert response.status_code == 422
    [item] = response.json()["detail"]
    assert (item["loc"], item["type"]) == (loc, type_)
    assert not Channel.objects.filter(owner=owner).exclude(role=ChannelRole.ACCOUNT_EMAIL).exists()


@pytest.mark.parametrize(
    ("kind", "target", "msg"),
    [
        ("email", "not-an-address", "Enter a valid email address"),
        ("webhook", "http://hooks.example.com/x", "Webhook URLs must use https"),
        ("webhook", "https://exa mple.com/", "Enter a valid http(s) URL"),
        (
            "webhook",
            "https://hooks.example.com/a b",
            "A URL cannot contain spaces; percent-encode them (%20)",
        ),
        ("webhook", "https://hooks..example.com/", "Enter a valid http(s) URL"),
        ("webhook", "https://-bad-.example.com/", "Enter a valid http(s) URL"),
        ("webhook", f"https://{'a' * 64}.example.com/", "Enter a valid http(s) URL"),
        ("webhook", "https://" + "abc." * 64 + "com/", "Enter a valid http(s) URL"),
        ("webhook", "https://example.com:99999/", "A port is a number from 1 to 65535"),
        ("webhook", "https://example.com:0/", "A port is a number from 1 to 65535"),
        ("webhook", "https://example.com/%0d%0a", "A URL cannot contain control characters"),
        ("webhook", "https://example.com/a%7Fb", "A URL cannot contain control characters"),
        (
            "webhook",
            "https://169.254.169.254/latest",
            "Refused target 169.254.169.254: 169.254.169.254 is a cloud metadata address",
        ),
    ],
)
def test_it_rejects_a_target_the_channel_cannot_use(api, owner, kind, target, msg):
    response = api.post(CHANNELS, {"type": kind, "target": target}, format="json")

    assert response.status_code == 422
    [item] = response.json()["detail"]
    assert (item["loc"], item["type"]) == (["body", "target"], "value_error")
    assert item["msg"] == msg
    assert not Channel.objects.filter(owner=owner).exclude(role=ChannelRole.ACCOUNT_EMAIL).exists()


# --- Get, update, delete -----------------------------------------------------------------------


def test_it_gets_one_channel(api, email_channel):
    response = api.get(url(email_channel.id))

    assert response.status_code == 200
    assert response.json()["id"] == str(email_channel.id)
    assert set(response.json()) == CHANNEL_FIELDS


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_another_users_channel_is_not_found_and_left_alone(other_api, email_channel, method):
    response = getattr(other_api, method)(url(email_channel.id), {"enabled": False}, format="json")

    assert response.status_code == 404
    assert response.json() == NOT_FOUND
    email_channel.refresh_from_db()
    assert email_channel.enabled is True


@pytest.mark.parametrize("channel_id", [uuid.uuid4(), "not-a-uuid"])
@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_an_unknown_channel_is_not_found(api, channel_id, method):
    response = getattr(api, method)(url(channel_id), {}, format="json")

    assert response.status_code == 404
    assert response.json() == NOT_FOUND


def test_patch_changes_only_the_fields_sent(api, email_channel):
    response = api.patch(
        url(email_channel.id), {"name": "On-call", "enabled": False}, format="json"
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["enabled"], body["is_default"]) == ("On-call", False, False)
    assert body["recipient"] == "alerts@example.com"
    assert body["updated_at"] > body["created_at"]
    assert api.get(url(email_channel.id)).json() == body


def test_patch_changes_the_target(api, email_channel):
    body = api.patch(url(email_channel.id), {"target": "new@example.com"}, format="json").json()

    assert body["recipient"] == "new@example.com"
    email_channel.refresh_from_db()
    assert email_channel.target == "new@example.com"


def test_patch_refuses_a_bad_target_and_keeps_the_old_one(api, email_channel):
    response = api.patch(url(email_channel.id), {"target": "nope", "name": "X"}, format="json")

    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"loc": ["body", "target"], "msg": "Enter a valid email address", "type": "value_error"}
    ]
    email_channel.refresh_from_db()
    assert (email_channel.target, email_channel.name) == (
        "alerts@example.com",
        "alerts@example.com",
    )


def test_the_account_email_follows_the_account_address(api, owner):
    account = api.get(CHANNELS).json()["channels"][0]

    response = api.patch(url(account["id"]), {"target": "else@example.com"}, format="json")

    assert response.status_code == 422
    [item] = response.json()["detail"]
    assert item["loc"] == ["body", "target"]
    assert item["msg"] == "The account email follows your account's address"


@pytest.mark.parametrize(
    ("body", "loc", "type_"),
    [
        ({"name": ""}, ["body", "name"], "string_too_short"),
        ({"name": "x" * 101}, ["body", "name"], "string_too_long"),
        ({"enabled": "sometimes"}, ["body", "enabled"], "bool_type"),
        ({"target": None}, ["body", "target"], "string_type"),
        ("enabled", ["body"], "dict_type"),
    ],
)
def test_patch_rejects_a_malformed_body(api, email_channel, body, loc, type_):
    response = api.patch(url(email_channel.id), body, format="json")

    assert response.status_code == 422
    [item] = response.json()["detail"]
    assert (item["loc"], item["type"]) == (loc, type_)


def test_a_channel_can_be_removed(api, email_channel):
    response = api.delete(url(email_channel.id) + "/")

    assert response.status_code == 204
    assert api.get(url(email_channel.id)).status_code == 404


def test_the_account_email_cannot_be_removed(api):
    account = api.get(CHANNELS).json()["channels"][0]

    response = api.delete(url(account["id"]))

    assert response.status_code == 400
    assert response.json() == {"detail": "The account email cannot be removed; disable it instead"}
    assert api.get(url(account["id"])).status_code == 200


def test_a_channel_that_a_task_notifies_alone_is_not_removed(api, owner, email_channel):
    task = make_task(owner, name="Price watch")
    api.put(
        f"/api/v1/tasks/{task.id}/channels",
        {"channel_ids": [str(email_channel.id)]},
        format="json",
    )

    response = api.delete(url(email_channel.id))

    assert response.status_code == 400
    assert response.json() == {
        "detail": "“alerts@example.com” is the only channel of “Price watch”: choose other "
        "channels for those tasks first, or disable this one"
    }
    assert api.get(url(email_channel.id)).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_removing_a_tasks_last_two_channels_at_once_removes_only_one(owner, owner_key):
    """Each removal alone leaves the task another channel; both at once must not."""
    for round_ in range(5):
        task = make_task(owner, name=f"Round {round_}")
        pair = [
            channel_create(user=owner, kind="email", target=f"{side}{round_}@example.com")[0]
            for side in ("a", "b")
        ]
        task_channels_set(task=task, user=owner, channel_ids=[c.id for c in pair])
        start = threading.Barrier(2)

        def remove(channel):
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {owner_key}")
            start.wait()
            return client.delete(url(channel.id)).status_code

        with ThreadPoolExecutor(2) as pool:
            statuses = sorted(pool.map(remove, pair))

        assert statuses == [204, 400]
        assert task_channels_get(task=task)[0] is True  # still notifies its own channel


# --- Test send and secret rotation -------------------------------------------------------------


def test_a_test_send_to_a_webhook_reaches_the_receiver(api, allow_private, receiver):
    created = api.post(CHANNELS, {"type": "webhook", "target": receiver.url()}, format="json")
    channel_id, secret = created.json()["id"], created.json()["secret"]

    response = api.post(url(channel_id) + "/test")

    assert response.status_code == 200
    body = response.json()
    assert (body["success"], body["status_code"], body["error"]) == (True, 200, None)
    assert body["response"] == "ok" and isinstance(body["duration_ms"], int)
    [received] = receiver.requests
    assert Webhook(secret).verify(received.body, received.headers)["type"] == "webhook.test"


def test_a_test_send_reports_what_the_receiver_answered(api, allow_private, receiver):
    channel_id = api.post(
        CHANNELS, {"type": "webhook", "target": receiver.url()}, format="json"
    ).json()["id"]
    receiver.script(Reply(status=404, body=b"no such hook"))

    body = api.post(url(channel_id) + "/test").json()

    assert (body["success"], body["status_code"]) == (False, 404)
    assert body["error"]


def test_a_test_send_to_an_email_channel_sends_a_test_mail(api, email_channel):
    body = api.post(url(email_channel.id) + "/test/").json()

    assert body["success"] is True and body["error"] is None
    [message] = mail.outbox
    assert message.to == ["alerts@example.com"]
    assert message.subject.startswith("Test notification")


def test_another_user_cannot_test_a_channel(other_api, email_channel):
    response = other_api.post(url(email_channel.id) + "/test")

    assert response.status_code == 404 and response.json() == NOT_FOUND
    assert mail.outbox == []


def test_rotating_a_webhook_secret_shows_the_new_one_once(api, owner):
    created = api.post(CHANNELS, {"type": "webhook", "target": HOOK}, format="json").json()

    response = api.post(url(created["id"]) + "/rotate-secret")

    assert response.status_code == 200
    body = response.json()
    assert body["secret"].startswith("whsec_") and body["secret"] != created["secret"]
    assert body["id"] == created["id"]
    assert Channel.objects.get(pk=created["id"]).secret == body["secret"]
    assert "secret" not in api.get(url(created["id"])).json()


def test_only_webhooks_have_a_secret_to_rotate(api, email_channel):
    response = api.post(url(email_channel.id) + "/rotate-secret")

    assert response.status_code == 400
    assert response.json() == {"detail": "Only webhooks have a signing secret"}


def test_another_user_cannot_rotate_a_secret(api, other_api):
    created = api.post(CHANNELS, {"type": "webhook", "target": HOOK}, format="json").json()

    response = other_api.post(url(created["id"]) + "/rotate-secret")

    assert response.status_code == 404 and response.json() == NOT_FOUND
    assert Channel.objects.get(pk=created["id"]).secret == created["secret"]


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("get", ""),
        ("post", ""),
        ("get", "/{id}"),
        ("patch", "/{id}"),
        ("delete", "/{id}"),
        ("post", "/{id}/test"),
        ("post", "/{id}/rotate-secret"),
    ],
)
def test_every_channel_endpoint_needs_a_key(anon_api, email_channel, method, suffix):
    response = getattr(anon_api, method)(CHANNELS + suffix.format(id=email_channel.id))

    assert response.status_code == 401
    assert Channel.objects.filter(pk=email_channel.pk, enabled=True).exists()
