"""A met condition reaches a real webhook receiver as one signed event, which it verifies with
the Standard Webhooks library; permanent refusals fail the delivery at once."""

from __future__ import annotations

import json

import pytest
from standardwebhooks.webhooks import Webhook

from executions_app.channels import InvalidTarget, check_webhook_url
from executions_app.models import Channel, Delivery, Execution
from executions_app.outbox import delivery_send
from tests.factories import make_task
from tests.support.outbox import attempts_of, record_run, webhook_channel
from tests.support.receivers import Reply
from torale.timeutils import iso_utc

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook(owner, receiver, allow_private):
    """The owner's default webhook, pointing at the local receiver: (channel, secret)."""
    return webhook_channel(owner, receiver.url(), is_default=True)


@pytest.fixture
def task(owner):
    return make_task(owner, name="iPhone release", notify_behavior="always")


def webhook_delivery(execution: Execution) -> Delivery:
    return Delivery.objects.get(execution=execution, kind="webhook")


def test_the_receiver_verifies_the_signed_condition_met_event(task, hook, receiver):
    _, secret = hook
    run = record_run(task)
    delivery = webhook_delivery(run)

    delivery_send(delivery_id=delivery.id)

    [received] = receiver.requests
    assert received.method == "POST" and received.path == "/hook"
    event = Webhook(secret).verify(received.body, received.headers)
    assert event == {
        "id": str(delivery.id),
        "type": "task.condition_met",
        "created_at": iso_utc(delivery.created_at),
        "data": {
            "task": {
                "id": str(task.id),
                "name": "iPhone release",
                "search_query": task.search_query,
                "condition_description": task.condition_description,
            },
            "execution": {
                "id": str(run.id),
                "condition_met": True,
                "answer": run.answer,
                "reasoning": run.reasoning,
                "grounding_sources": run.grounding_sources,
                "completed_at": iso_utc(run.completed_at),
            },
        },
    }
    assert received.headers["webhook-id"] == str(delivery.id)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.error_message) == ("sent", 1, None)
    [attempt] = attempts_of(delivery)
    assert (attempt.outcome, attempt.status_code) == ("sent", 200)
    assert Execution.objects.get(pk=run.pk).notified is True


def test_a_forged_signature_does_not_verify(task, hook, receiver):
    from standardwebhooks.webhooks import WebhookVerificationError

    from executions_app.notifiers.signing import generate_secret

    delivery_send(delivery_id=webhook_delivery(record_run(task)).id)

    [received] = receiver.requests
    with pytest.raises(WebhookVerificationError):
        Webhook(generate_secret()).verify(received.body, received.headers)
    tampered = received.body.replace(b"iPhone release", b"iPhone releasf")
    with pytest.raises(WebhookVerificationError):
        Webhook(hook[1]).verify(tampered, received.headers)


def test_a_gone_receiver_fails_the_delivery_at_once(task, hook, receiver):
    receiver.script(Reply(410, body=b"this hook was deleted"))
    run = record_run(task)
    delivery = webhook_delivery(run)

    delivery_send(delivery_id=delivery.id)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert delivery.error_message == "Receiver answered 410: this hook was deleted"
    assert delivery.sent_at is None and delivery.next_attempt_at is None
    [attempt] = attempts_of(delivery)
    assert (attempt.outcome, attempt.status_code) == ("failed", 410)
    assert Execution.objects.get(pk=run.pk).notified is False
    assert len(receiver.requests) == 1


def test_a_failed_delivery_is_not_claimed_again(task, hook, receiver):
    receiver.script(Reply(400))
    delivery = webhook_delivery(record_run(task))
    delivery_send(delivery_id=delivery.id)

    delivery_send(delivery_id=delivery.id)

    assert len(receiver.requests) == 1
    assert Delivery.objects.get(pk=delivery.pk).attempts == 1


# --- Private addresses -------------------------------------------------------------------------


def test_a_loopback_webhook_url_cannot_be_saved_without_the_operator_setting(receiver):
    with pytest.raises(InvalidTarget):
        check_webhook_url(receiver.url())  # http://127.0.0.1:<port>/hook
    with pytest.raises(InvalidTarget, match="loopback"):
        check_webhook_url(f"https://127.0.0.1:{receiver.port}/hook")


def test_a_loopback_webhook_url_is_accepted_with_the_operator_setting(receiver, allow_private):
    checked = check_webhook_url(receiver.url())

    assert checked.target == receiver.url()


def test_a_send_to_a_loopback_channel_is_refused_without_the_operator_setting(
    owner, task, receiver
):
    # A channel saved while the setting was on (or written around the checks): every send
    # checks the address again.
    Channel.objects.create(
        owner=owner,
        kind="webhook",
        name="Local",
        target=receiver.url(),
        target_display=receiver.url(),
        secret="whsec_" + "A" * 44,
        is_default=True,
    )
    run = record_run(task)
    delivery = webhook_delivery(run)

    delivery_send(delivery_id=delivery.id)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert "refused" in delivery.error_message.lower()
    assert "loopback" in delivery.error_message
    assert receiver.requests == []
    assert Execution.objects.get(pk=run.pk).notified is False


def test_the_event_body_is_ascii_json(task, hook, receiver):
    run = record_run(task, answer="Prix: 1 099 € — annoncé")

    delivery_send(delivery_id=webhook_delivery(run).id)

    [received] = receiver.requests
    assert received.body.isascii()
    assert json.loads(received.body)["data"]["execution"]["answer"] == "Prix: 1 099 € — annoncé"
