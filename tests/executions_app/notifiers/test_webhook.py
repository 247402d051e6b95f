"""The webhook channel end to end: a real receiver verifies our event with the Standard
Webhooks library."""

from __future__ import annotations

import json

import pytest
from standardwebhooks.webhooks import Webhook

from executions_app.notifiers import signing
from executions_app.notifiers.base import DeliveryError, TargetRefused
from executions_app.notifiers.webhook import WebhookNotifier, WebhookTarget
from tests.executions_app.notifiers.conftest import HOSTILE_ANSWER
from tests.support.receivers import Reply


@pytest.fixture
def secret() -> str:
    return signing.generate_secret()


def test_the_receiver_verifies_the_signed_event(receiver, allow_private, notification, secret):
    result = WebhookNotifier().send(notification, WebhookTarget(receiver.url(), secret))

    assert result.status_code == 200
    [received] = receiver.requests
    event = Webhook(secret).verify(received.body, received.headers)
    assert event == {
        "id": str(notification.delivery_id),
        "type": "task.condition_met",
        "created_at": "2026-03-01T09:00:05Z",
        "data": {
            "task": {
                "id": str(notification.task_id),
                "name": "PS5 Pro at Best Buy",
                "search_query": "Is the PS5 Pro in stock at Best Buy?",
                "condition_description": "Best Buy lists the PS5 Pro as available to buy online",
            },
            "execution": {
                "id": str(notification.execution_id),
                "condition_met": True,
                "answer": HOSTILE_ANSWER,  # JSON carries the text as is; escaping is the reader's
                "reasoning": notification.reasoning,
                "grounding_sources": [dict(s) for s in notification.grounding_sources],
                "completed_at": "2026-03-01T09:00:02Z",
            },
        },
    }
    assert received.headers["webhook-id"] == str(notification.delivery_id)
    assert received.headers["Content-Type"] == "application/json"


def test_a_retry_sends_the_same_event_id_and_body(receiver, allow_private, notification, secret):
    target = WebhookTarget(receiver.url(), secret)
    WebhookNotifier().send(notification, target)
    WebhookNotifier().send(notification, target)
    first, second = receiver.requests
    assert first.body == second.body
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert json.loads(first.body)["id"] == str(notification.delivery_id)


def test_a_failing_receiver_is_a_transient_delivery_error(
    receiver, allow_private, notification, secret
):
    receiver.script(Reply(500))
    with pytest.raises(DeliveryError) as caught:
        WebhookNotifier().send(notification, WebhookTarget(receiver.url(), secret))
    assert (caught.value.permanent, caught.value.status_code) == (False, 500)


def test_a_webhook_to_loopback_is_refused_without_the_operator_setting(
    receiver, notification, secret
):
    with pytest.raises(TargetRefused):
        WebhookNotifier().send(notification, WebhookTarget(receiver.url(), secret))
    assert receiver.requests == []


def test_the_target_never_shows_its_secret(secret):
    assert secret not in repr(WebhookTarget("https://example.com/hook", secret))
