"""The Apprise channel against a real local receiver (Apprise's json:// service), with the
address policy enforced on the connections Apprise's plugins make."""

from __future__ import annotations

import json

import pytest
import requests

from executions_app.notifiers.apprise import AppriseNotifier, AppriseTarget, check_url
from executions_app.notifiers.base import DeliveryError, TargetRefused
from tests.support.receivers import Reply


def json_url(receiver, path: str = "/notify") -> str:
    return f"json://{receiver.host}:{receiver.port}{path}"


def test_apprise_delivers_the_notice(receiver, allow_private, notification):
    result = AppriseNotifier().send(notification, AppriseTarget(json_url(receiver)))

    assert "delivered" in result.detail
    [received] = receiver.requests
    assert (received.method, received.path) == ("POST", "/notify")
    payload = json.loads(received.body)
    assert payload["title"] == "Condition met: PS5 Pro at Best Buy"
    assert notification.answer in payload["message"]
    assert notification.task_url in payload["message"]
    assert "https://www.bestbuy.com/site/ps5-pro" in payload["message"]


def test_a_loopback_target_is_refused_without_the_operator_setting(receiver, notification):
    with pytest.raises(TargetRefused) as caught:
        AppriseNotifier().send(notification, AppriseTarget(json_url(receiver)))
    assert "127.0.0.1 is a loopback address" in str(caught.value)
    assert receiver.requests == []


def test_a_hostname_resolving_to_loopback_is_refused(receiver, notification):
    url = f"json://localhost:{receiver.port}/notify"
    with pytest.raises(TargetRefused):
        AppriseNotifier().send(notification, AppriseTarget(url))
    assert receiver.requests == []


def test_a_redirect_followed_inside_apprise_is_checked_too(
    receiver, other_receiver, settings, notification
):
    settings.TORALE_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    receiver.script(Reply(307, headers={"Location": other_receiver.url("/inside")}))
    with pytest.raises(TargetRefused) as caught:
        AppriseNotifier().send(notification, AppriseTarget(json_url(receiver)))
    assert "127.0.0.2" in str(caught.value)
    assert len(receiver.requests) == 1
    assert other_receiver.requests == []


def test_a_failed_apprise_send_is_transient_and_says_apprise_gives_no_status(
    receiver, allow_private, notification
):
    receiver.default = Reply(500, body=b"boom")
    with pytest.raises(DeliveryError) as caught:
        AppriseNotifier().send(notification, AppriseTarget(json_url(receiver)))
    assert not caught.value.permanent
    assert caught.value.status_code is None
    assert "Apprise returns only success or failure" in str(caught.value)
    assert "error=500" in str(caught.value)  # Apprise's own words are kept


def test_a_url_apprise_does_not_understand_is_permanent(notification):
    with pytest.raises(DeliveryError) as caught:
        AppriseNotifier().send(notification, AppriseTarget("nosuchservice://whatever"))
    assert caught.value.permanent


@pytest.mark.parametrize(
    "url", ["mailto://user:pass@example.com", "syslog://", "rsyslog://example.com"]
)
def test_services_that_do_not_use_http_are_refused(url, notification):
    with pytest.raises(TargetRefused) as caught:
        AppriseNotifier().send(notification, AppriseTarget(url))
    assert "does not use HTTP" in str(caught.value)


def test_connections_outside_an_apprise_send_are_not_affected(
    receiver, allow_private, notification
):
    AppriseNotifier().send(notification, AppriseTarget(json_url(receiver)))
    # Without TORALE_ALLOW_PRIVATE_WEBHOOKS the guard would refuse this; outside a send it is off.
    allow_private.TORALE_ALLOW_PRIVATE_WEBHOOKS = False
    assert requests.get(receiver.url("/plain"), timeout=5).status_code == 200


def test_the_target_never_shows_its_url():
    target = AppriseTarget("tgram://123456:secret-bot-token/987654")
    assert "secret-bot-token" not in repr(target)


@pytest.mark.parametrize(
    ("url", "secrets"),
    [
        ("ntfy://SECRETNTFYTOK@ntfy.sh/topic", ["SECRETNTFYTOK"]),  # ntfy's token is the user
        (
            "json://hooks.example/?-apikey=SECRETQPARAM&+X-Token=SECRETHDR",
            ["SECRETQPARAM", "SECRETHDR"],
        ),
        ("json://user:SECRETPW@hooks.example/", ["SECRETPW"]),
        ("tgram://123456:SECRETBOTTOKEN/987654", ["SECRETBOTTOKEN"]),
        ("discord://111222/SECRETWEBHOOKTOKEN", ["SECRETWEBHOOKTOKEN"]),
    ],
)
def test_the_display_form_of_a_url_masks_its_tokens(url, secrets, allow_private):
    display = check_url(url)

    assert display.split("://")[0] in url
    assert not [secret for secret in secrets if secret in display], display
