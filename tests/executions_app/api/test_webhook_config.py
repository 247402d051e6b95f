import json

import pytest
from django.db import connection
from standardwebhooks.webhooks import Webhook

from executions_app.models import Channel, ChannelRole
from tests.support.receivers import Reply

pytestmark = pytest.mark.django_db

CONFIG = "/api/v1/webhooks/config"
TEST = "/api/v1/webhooks/test"
NONE_SET = {"url": None, "enabled": False, "secret": None}
NO_WEBHOOK = {"detail": "No webhook is configured"}
# Public (or, offline, unresolvable: checked again at every send); never a private address.
HOOK = "https://hooks.example.com/torale"


def stored_columns(channel_id) -> tuple[str, str]:
    """The target and secret columns as they are in the database (no field decryption)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT target, secret FROM {Channel._meta.db_table} WHERE id = %s",  # noqa: S608
            [channel_id],
        )
        return cursor.fetchone()


def account_webhook(user) -> Channel:
    return Channel.objects.get(owner=user, role=ChannelRole.ACCOUNT_WEBHOOK)


# --- GET / PUT ---------------------------------------------------------------------------------


def test_no_webhook_is_configured_at_first(api):
    response = api.get(CONFIG)

    assert response.status_code == 200
    assert response.json() == NONE_SET


def test_the_first_set_up_shows_the_signing_secret_once(api, owner):
    response = api.put(CONFIG, {"url": HOOK}, format="json")

    assert response.status_code == 200
    body = response.json()
    assert body["url"] == HOOK and body["enabled"] is True
    assert body["secret"].startswith("whsec_")
    assert account_webhook(owner).secret == body["secret"]
    assert api.get(CONFIG).json() == {"url": HOOK, "enabled": True, "secret": None}


def test_the_url_and_secret_are_stored_encrypted(api, owner):
    secret = api.put(CONFIG, {"url": HOOK + "?token=abc123"}, format="json").json()["secret"]

    target, stored_secret = stored_columns(account_webhook(owner).id)

    assert "whsec_" not in stored_secret and secret not in stored_secret
    assert "abc123" not in target and "hooks.example.com" not in target


def test_the_url_is_shown_without_its_query_string(api):
    body = api.put(CONFIG, {"url": HOOK + "?token=abc123"}, format="json").json()

    assert body["url"] == HOOK + "?…"
    assert api.get(CONFIG).json()["url"] == HOOK + "?…"


def test_a_later_put_keeps_the_secret_and_shows_none(api, owner):
    first = api.put(CONFIG, {"url": HOOK}, format="json").json()["secret"]

    response = api.put(CONFIG, {"url": HOOK + "/v2", "enabled": False}, format="json")

    assert response.json() == {"url": HOOK + "/v2", "enabled": False, "secret": None}
    assert account_webhook(owner).secret == first
    assert api.get(CONFIG).json() == {"url": HOOK + "/v2", "enabled": False, "secret": None}


def test_rotating_makes_a_new_secret_and_shows_it_once(api, owner):
    first = api.put(CONFIG, {"url": HOOK}, format="json").json()["secret"]

    rotated = api.put(CONFIG, {"url": HOOK, "rotate_secret": True}, format="json").json()

    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != first
    assert account_webhook(owner).secret == rotated["secret"]
    assert api.get(CONFIG).json()["secret"] is None


def test_the_account_webhook_is_a_default_channel(api):
    api.put(CONFIG, {"url": HOOK}, format="json")

    channels = api.get("/api/v1/notifications/channels").json()["channels"]

    [hook] = [c for c in channels if c["role"] == "account_webhook"]
    assert (hook["type"], hook["recipient"], hook["is_default"]) == ("webhook", HOOK, True)
    assert "secret" not in hook


@pytest.mark.parametrize(
    ("body", "loc", "type_"),
    [
        ({}, ["body", "url"], "missing"),
        ({"url": 42}, ["body", "url"], "string_type"),
        ({"url": None}, ["body", "url"], "string_type"),
        ({"url": HOOK, "enabled": "maybe"}, ["body", "enabled"], "bool_type"),
        ({"url": HOOK, "rotate_secret": []}, ["body", "rotate_secret"], "bool_type"),
        ([HOOK], ["body"], "dict_type"),
    ],
)
def test_it_rejects_a_malformed_body(api, owner, body, loc, type_):
    response = api.put(CONFIG, body, format="json")

    assert response.status_code == 422
    [item] = response.json()["detail"]
    assert (item["loc"], item["type"]) == (loc, type_)
    assert not Channel.objects.filter(owner=owner, role=ChannelRole.ACCOUNT_WEBHOOK).exists()


@pytest.mark.parametrize(
    ("url", "msg"),
    [
        ("not a url", "Enter a valid http(s) URL"),
        ("ftp://hooks.example.com/x", "Enter a valid http(s) URL"),
        ("http://hooks.example.com/x", "Webhook URLs must use https"),
    ],
)
def test_it_rejects_a_url_that_cannot_be_a_webhook(api, owner, url, msg):
    response = api.put(CONFIG, {"url": url}, format="json")

    assert response.status_code == 422
    assert response.json() == {
        "detail": [{"loc": ["body", "url"], "msg": msg, "type": "value_error"}]
    }
    assert not Channel.objects.filter(owner=owner).exclude(role=ChannelRole.ACCOUNT_EMAIL).exists()


def test_a_loopback_receiver_is_refused_without_the_operator_setting(api, receiver):
    plain = api.put(CONFIG, {"url": receiver.url()}, format="json")
    over_https = api.put(CONFIG, {"url": f"https://127.0.0.1:{receiver.port}/hook"}, format="json")

    assert plain.status_code == over_https.status_code == 422
    assert plain.json()["detail"] == [
        {"loc": ["body", "url"], "msg": "Webhook URLs must use https", "type": "value_error"}
    ]
    assert over_https.json()["detail"] == [
        {
            "loc": ["body", "url"],
            "msg": "Refused target 127.0.0.1: 127.0.0.1 is a loopback address",
            "type": "value_error",
        }
    ]
    assert api.get(CONFIG).json() == NONE_SET
    assert receiver.requests == []


def test_the_operator_setting_lets_a_loopback_receiver_be_the_webhook(api, allow_private, receiver):
    response = api.put(CONFIG, {"url": receiver.url()}, format="json")

    assert response.status_code == 200
    assert response.json()["url"] == receiver.url()


def test_a_failed_change_leaves_the_webhook_as_it_was(api, owner):
    api.put(CONFIG, {"url": HOOK}, format="json")

    response = api.put(
        CONFIG, {"url": "http://hooks.example.com/x", "enabled": False}, format="json"
    )

    assert response.status_code == 422
    assert api.get(CONFIG).json() == {"url": HOOK, "enabled": True, "secret": None}


def test_each_user_has_their_own_webhook(api, other_api):
    api.put(CONFIG, {"url": HOOK}, format="json")

    assert other_api.get(CONFIG).json() == NONE_SET
    assert other_api.delete(CONFIG).status_code == 404
    assert api.get(CONFIG).json()["url"] == HOOK


# --- DELETE ------------------------------------------------------------------------------------


def test_deleting_removes_the_webhook(api, owner):
    api.put(CONFIG, {"url": HOOK}, format="json")

    response = api.delete(CONFIG)

    assert response.status_code == 204
    assert api.get(CONFIG).json() == NONE_SET
    assert not Channel.objects.filter(owner=owner, role=ChannelRole.ACCOUNT_WEBHOOK).exists()


def test_deleting_when_none_is_configured_is_not_found(api):
    response = api.delete(CONFIG + "/")

    assert response.status_code == 404
    assert response.json() == NO_WEBHOOK


# --- Test send ---------------------------------------------------------------------------------


def test_the_test_send_reaches_the_receiver_signed_with_the_secret(api, allow_private, receiver):
    secret = api.put(CONFIG, {"url": receiver.url()}, format="json").json()["secret"]

    response = api.post(TEST)

    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert (body["status_code"], body["error"], body["response"]) == (200, None, "ok")
    assert isinstance(body["duration_ms"], int) and body["duration_ms"] >= 0
    [received] = receiver.requests
    assert received.path == "/hook"
    event = Webhook(secret).verify(received.body, received.headers)
    assert event["type"] == "webhook.test"


def test_the_test_send_reports_a_refusal(api, allow_private, receiver):
    api.put(CONFIG, {"url": receiver.url()}, format="json")
    receiver.script(Reply(status=500, body=b"boom"))

    body = api.post(TEST, {}, format="json").json()

    assert body["success"] is False
    assert body["status_code"] == 500
    assert body["error"]
    assert body["response"] == ""


def test_the_test_send_says_when_no_webhook_is_configured(api):
    response = api.post(TEST)

    assert response.status_code == 400
    assert response.json() == NO_WEBHOOK


def test_another_user_cannot_test_the_owners_webhook(api, other_api, allow_private, receiver):
    api.put(CONFIG, {"url": receiver.url()}, format="json")

    response = other_api.post(TEST)

    assert response.status_code == 400 and response.json() == NO_WEBHOOK
    assert receiver.requests == []


def test_the_test_send_ignores_a_body(api, allow_private, receiver):
    api.put(CONFIG, {"url": receiver.url()}, format="json")

    response = api.generic("POST", TEST, json.dumps({"anything": 1}), "application/json")

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("method", "path"), [("get", CONFIG), ("put", CONFIG), ("delete", CONFIG), ("post", TEST)]
)
def test_every_webhook_endpoint_needs_a_key(anon_api, method, path):
    response = getattr(anon_api, method)(path)

    assert response.status_code == 401
    assert response.json() == {"detail": "Authorization header missing"}
