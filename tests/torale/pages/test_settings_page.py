import re

import pytest
from django.core import mail
from django.test import Client

from executions_app.channels import channel_account_email, channel_create, webhook_config_put
from executions_app.models import Channel, ChannelKind, ChannelRole
from tasks_app.cron import INVALID_TIMEZONE
from tests.support.receivers import HttpReceiver, Reply
from torale.api.ratelimit import get_rate_limiter
from torale.models import ApiKey, hash_api_key
from torale.services import api_key_create

pytestmark = pytest.mark.django_db

URL = "/settings"


@pytest.fixture
def receiver(settings):
    """A local webhook receiver; private targets allowed, as in development."""
    settings.TORALE_ALLOW_PRIVATE_WEBHOOKS = True
    with HttpReceiver("127.0.0.1") as server:
        yield server


def test_it_needs_a_login(client):
    assert client.get(URL)["Location"] == "/accounts/login?next=/settings"


def test_it_shows_the_account_email_and_each_section(owner_client):
    text = owner_client.get(URL).text

    for heading in ("Time zone", "API keys", "Notification channels", "Account webhook"):
        assert heading in text
    assert "owner@example.com" in text


# --- Time zone -----------------------------------------------------------------------------------


def test_the_time_zone_preference_becomes_the_default_of_new_tasks(owner_client, owner):
    response = owner_client.post("/settings/timezone", {"timezone": "America/Chicago"})

    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.timezone == "America/Chicago"
    create = owner_client.get("/tasks/new")
    assert create.context["form"]["timezone"].value() == "America/Chicago"


def test_an_unknown_time_zone_is_refused_like_a_tasks(owner_client, owner):
    response = owner_client.post("/settings/timezone", {"timezone": "Mars/Olympus_Mons"})

    assert response.status_code == 422
    assert INVALID_TIMEZONE in response.text
    owner.refresh_from_db()
    assert owner.timezone == "UTC"


# --- API keys ------------------------------------------------------------------------------------


def test_a_new_api_key_is_shown_once_with_a_copy_button(owner_client, owner):
    response = owner_client.post("/settings/api-keys", {"name": "laptop script"})

    assert response.status_code == 200
    raw = re.search(r'value="(sk_[A-Za-z0-9]{32})"', response.text).group(1)
    key = ApiKey.objects.get(user=owner)
    assert key.key_hash == hash_api_key(raw)
    assert key.name == "laptop script"
    assert 'data-copy="new-key-value"' in response.text
    assert "shown only this once" in response.text
    assert "no-store" in response["Cache-Control"]

    later = owner_client.get(URL).text
    assert raw not in later
    assert key.key_prefix in later  # listed by its prefix


def test_the_new_key_works_on_the_api(owner_client):
    response = owner_client.post("/settings/api-keys", {"name": "script"})
    raw = re.search(r'value="(sk_[A-Za-z0-9]{32})"', response.text).group(1)

    me = Client().get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {raw}")

    assert me.status_code == 200
    assert me.json()["username"] == "owner"


def test_a_key_needs_a_name(owner_client, owner):
    response = owner_client.post("/settings/api-keys", {"name": ""})

    assert response.status_code == 422
    assert "This field is required." in response.text
    assert not ApiKey.objects.filter(user=owner).exists()


def test_revoking_a_key(owner_client, owner):
    key, raw = api_key_create(user=owner, name="old")

    response = owner_client.post(f"/settings/api-keys/{key.id}/revoke", follow=True)

    key.refresh_from_db()
    assert key.revoked_at is not None
    assert "Revoked the key “old”" in response.text
    assert Client().get("/auth/me", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_another_users_key_cannot_be_revoked(owner_client, other_user):
    theirs, _ = api_key_create(user=other_user, name="theirs")

    response = owner_client.post(f"/settings/api-keys/{theirs.id}/revoke")

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_only_the_users_own_keys_are_listed(owner_client, other_user):
    api_key_create(user=other_user, name="someone else's key")

    assert "someone else" not in owner_client.get(URL).text


# --- Account webhook -----------------------------------------------------------------------------


def test_setting_up_the_webhook_shows_its_signing_secret_once(owner_client, owner):
    url = "https://hooks.example.com/torale?token=abc123secret"

    response = owner_client.post("/settings/webhook", {"url": url, "enabled": "on"})

    assert response.status_code == 200
    channel = Channel.objects.get(owner=owner, role=ChannelRole.ACCOUNT_WEBHOOK)
    assert channel.secret.startswith("whsec_")
    assert f'value="{channel.secret}"' in response.text
    assert "no-store" in response["Cache-Control"]

    later = owner_client.get(URL).text
    assert channel.secret not in later
    assert "abc123secret" not in later  # the token in the URL is never shown either
    assert "https://hooks.example.com/torale?…" in later

    # Changing the URL keeps the secret and does not show it again.
    again = owner_client.post(
        "/settings/webhook", {"url": "https://hooks.example.com/v2", "enabled": "on"}, follow=True
    )
    channel.refresh_from_db()
    assert channel.target == "https://hooks.example.com/v2"
    assert channel.secret not in again.text
    assert "signing secret is unchanged" in again.text


def test_a_new_signing_secret_is_shown_once(owner_client, owner):
    channel, old = webhook_config_put(user=owner, url="https://hooks.example.com/torale")

    response = owner_client.post(f"/settings/channels/{channel.id}/rotate-secret")

    channel.refresh_from_db()
    assert channel.secret != old
    assert channel.secret in response.text
    assert channel.secret not in owner_client.get(URL).text


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.example.com/torale", "Webhook URLs must use https"),
        ("ftp://hooks.example.com/", "Enter a valid http(s) URL"),
        ("https://127.0.0.1/hook", ""),
    ],
)
def test_a_webhook_url_that_cannot_be_used_is_explained(owner_client, owner, url, message):
    response = owner_client.post("/settings/webhook", {"url": url, "enabled": "on"})

    assert response.status_code == 422
    assert message in response.text
    assert 'id="webhook_url_error"' in response.text
    assert not Channel.objects.filter(role=ChannelRole.ACCOUNT_WEBHOOK).exists()


def test_the_webhook_test_reports_what_the_receiver_answered(owner_client, owner, receiver):
    channel, _ = webhook_config_put(user=owner, url=receiver.url("/hook"))
    receiver.script(Reply(status=500, body=b"boom"))

    failed = owner_client.post(
        f"/settings/channels/{channel.id}/test", HTTP_ACCEPT="application/json"
    ).json()
    sent = owner_client.post(
        f"/settings/channels/{channel.id}/test", HTTP_ACCEPT="application/json"
    ).json()

    assert failed["success"] is False
    assert "failed" in failed["message"]
    assert failed["error"]
    assert sent["success"] is True
    assert sent["status_code"] == 200
    assert "Test sent to “Account webhook” (answer 200)" in sent["message"]
    assert len(receiver.requests) == 2
    assert "webhook-signature" in {name.lower() for name in receiver.requests[-1].headers}


# --- Other channels ------------------------------------------------------------------------------


def test_the_account_email_test_sends_an_email(owner_client, owner):
    channel = channel_account_email(user=owner)

    response = owner_client.post(f"/settings/channels/{channel.id}/test", follow=True)

    [email] = mail.outbox
    assert email.to == ["owner@example.com"]
    assert "Test sent to “Account email”" in response.text


def test_adding_an_email_channel(owner_client, owner):
    response = owner_client.post(
        "/settings/channels",
        {"kind": "email", "target": "team@example.com", "name": "Team", "is_default": "on"},
        follow=True,
    )

    channel = Channel.objects.get(owner=owner, name="Team")
    assert (channel.kind, channel.target, channel.is_default) == ("email", "team@example.com", True)
    assert "Added “Team”" in response.text


def test_adding_an_apprise_channel_never_shows_its_tokens(owner_client, owner):
    url = "tgram://123456:secret-bot-token/987654"

    owner_client.post("/settings/channels", {"kind": "apprise", "target": url, "name": "Phone"})

    channel = Channel.objects.get(owner=owner, name="Phone")
    assert channel.target == url
    text = owner_client.get(URL).text
    assert "Phone" in text
    assert "secret-bot-token" not in text


def test_an_extra_webhook_shows_its_secret_once(owner_client, owner):
    response = owner_client.post(
        "/settings/channels",
        {"kind": "webhook", "target": "https://ops.example.com/hook", "name": "Ops"},
    )

    channel = Channel.objects.get(owner=owner, name="Ops")
    assert channel.secret in response.text
    assert channel.secret not in owner_client.get(URL).text


def test_an_invalid_target_is_explained(owner_client, owner):
    response = owner_client.post(
        "/settings/channels", {"kind": "email", "target": "not an address", "name": "Bad"}
    )

    assert response.status_code == 422
    assert "Enter a valid email address" in response.text
    assert not Channel.objects.filter(owner=owner, name="Bad").exists()


def test_enabling_disabling_and_defaults(owner_client, owner):
    channel, _ = channel_create(user=owner, kind=ChannelKind.EMAIL, target="team@example.com")
    toggle = f"/settings/channels/{channel.id}/toggle"

    owner_client.post(toggle, {"field": "enabled", "value": "0"})
    channel.refresh_from_db()
    assert channel.enabled is False

    owner_client.post(toggle, {"field": "is_default", "value": "1"})
    channel.refresh_from_db()
    assert channel.is_default is True

    response = owner_client.post(toggle, {"field": "owner", "value": "1"}, follow=True)
    assert "nothing changed" in response.text


def test_removing_a_channel_but_never_the_account_email(owner_client, owner):
    channel, _ = channel_create(user=owner, kind=ChannelKind.EMAIL, target="team@example.com")
    account = channel_account_email(user=owner)

    owner_client.post(f"/settings/channels/{channel.id}/delete")
    response = owner_client.post(f"/settings/channels/{account.id}/delete", follow=True)

    assert not Channel.objects.filter(pk=channel.pk).exists()
    assert Channel.objects.filter(pk=account.pk).exists()
    assert "cannot be removed; disable it instead" in response.text


@pytest.mark.parametrize(
    ("suffix", "data"),
    [
        ("toggle", {"field": "enabled", "value": "0"}),
        ("toggle", {}),
        ("toggle", {"field": "owner", "value": "1"}),
        ("rotate-secret", {}),
        ("delete", {}),
        ("test", {}),
    ],
)
def test_another_users_channel_answers_404_and_changes_nothing(
    owner_client, other_user, suffix, data
):
    theirs, _ = webhook_config_put(user=other_user, url="https://hooks.example.com/theirs")
    before = Channel.objects.filter(pk=theirs.pk).values().first()

    response = owner_client.post(f"/settings/channels/{theirs.id}/{suffix}", data)

    assert response.status_code == 404
    assert Channel.objects.filter(pk=theirs.pk).values().first() == before


def test_settings_actions_need_the_csrf_token(owner):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)

    assert browser.post("/settings/api-keys", {"name": "sneaky"}).status_code == 403
    assert browser.post("/settings/timezone", {"timezone": "Asia/Tokyo"}).status_code == 403
    assert not ApiKey.objects.exists()


@pytest.fixture
def small_limits(settings):
    """Two requests a minute per user, counted in the real Redis."""
    get_rate_limiter.cache_clear()
    settings.TORALE_RATE_LIMITS = {"minute": 2, "hour": 100, "day": 1000}
    settings.TORALE_RATE_LIMIT_ENABLED = True
    yield
    get_rate_limiter.cache_clear()


def test_test_sends_share_the_users_rate_limit_with_the_api(owner_client, owner, small_limits):
    channel = channel_account_email(user=owner)
    url = f"/settings/channels/{channel.id}/test"

    owner_client.get("/api/v1/tasks")  # the API and the page count together
    sent = owner_client.post(url, HTTP_ACCEPT="application/json")
    refused = owner_client.post(url, HTTP_ACCEPT="application/json")

    assert sent.json()["success"] is True
    assert refused.status_code == 429
    assert refused.json()["detail"].startswith("Too many requests just now. Try again in")
    assert len(mail.outbox) == 1
