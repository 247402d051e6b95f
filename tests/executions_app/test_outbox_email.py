"""A met condition reaches a real SMTP server (aiosmtpd) as one email, through the outbox."""

from __future__ import annotations

import email
import email.policy

import pytest

from executions_app.models import Execution
from executions_app.outbox import delivery_send
from executions_app.runner import execution_run
from executions_app.services import execution_request_manual
from tests.factories import make_task
from tests.support.outbox import attempts_of, make_due, only_delivery, record_run

pytestmark = pytest.mark.django_db

HOSTILE_ANSWER = 'The PS5 Pro is back. <script>alert("pwned")</script>'
HOSTILE_TITLE = "Best Buy <script>steal()</script>"


@pytest.fixture
def met_run(owner, gemini, settings) -> Execution:
    """A run through the Gemini stand-in whose sources and answer are hostile model output."""
    settings.TORALE_BASE_URL = "https://torale.example"
    gemini.script(
        {
            "text": "Best Buy lists the PS5 Pro as available.",
            "grounding_chunks": [
                {"uri": "https://www.bestbuy.com/site/ps5-pro", "title": HOSTILE_TITLE},
                {"uri": "javascript:alert(1)", "title": "Sneaky link"},
            ],
        },
        {
            "json": {
                "condition_met": True,
                "answer": HOSTILE_ANSWER,
                "reasoning": "The product page shows 'Add to cart'.",
            }
        },
    )
    task = make_task(owner, name="PS5 Pro\nat Best Buy", notify_behavior="always")
    run = execution_request_manual(task_id=task.id, user=owner)
    execution_run(execution_id=run.id)
    return Execution.objects.select_related("task").get(pk=run.pk)


def test_the_smtp_server_receives_the_condition_met_email(met_run, smtp, smtp_settings):
    delivery = only_delivery(met_run)

    delivery_send(delivery_id=delivery.id)

    [raw] = smtp.messages
    assert smtp.envelopes == [("alerts@torale.example", ["owner@example.com"])]
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Subject"] == "Condition met: PS5 Pro at Best Buy"
    assert message["To"] == "owner@example.com"
    assert message["Message-ID"] == f"<torale.{delivery.id}@torale.example>"
    task_url = f"https://torale.example/tasks/{met_run.task_id}"

    text = message.get_body(("plain",)).get_content()
    assert HOSTILE_ANSWER in text
    assert "The product page shows 'Add to cart'." in text
    assert HOSTILE_TITLE in text and "https://www.bestbuy.com/site/ps5-pro" in text
    assert task_url in text

    html = message.get_body(("html",)).get_content()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in html
    assert "Add to cart" in html
    assert (
        '<a href="https://www.bestbuy.com/site/ps5-pro" rel="noopener noreferrer">'
        "Best Buy &lt;script&gt;steal()&lt;/script&gt;</a>"
    ) in html
    assert "javascript:" not in html and "Sneaky link" in html  # named, never linked
    assert f'href="{task_url}"' in html

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.error_message) == ("sent", 1, None)
    assert delivery.sent_at is not None and delivery.lease_expires_at is None
    [attempt] = attempts_of(delivery)
    assert (attempt.number, attempt.outcome, attempt.error) == (1, "sent", None)
    assert attempt.duration_ms is not None
    assert Execution.objects.get(pk=met_run.pk).notified is True


def test_a_refused_recipient_fails_the_delivery_at_once(owner, smtp_settings, smtp):
    smtp.rcpt_reply = "550 5.1.1 No such user"
    run = record_run(make_task(owner))
    delivery = only_delivery(run)

    delivery_send(delivery_id=delivery.id)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 1)
    assert "550" in delivery.error_message and "No such user" in delivery.error_message
    assert smtp.messages == []
    assert Execution.objects.get(pk=run.pk).notified is False


def test_a_greylisted_email_is_sent_on_retry_with_the_same_message_id(
    owner, smtp_settings, smtp, fast_retries
):
    smtp.rcpt_reply = "451 4.7.1 Greylisted, try again later"
    run = record_run(make_task(owner))
    delivery = only_delivery(run)

    delivery_send(delivery_id=delivery.id)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("retrying", 1)
    assert "451" in delivery.error_message and delivery.next_attempt_at is not None

    smtp.rcpt_reply = None
    make_due(delivery)
    delivery_send(delivery_id=delivery.id)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.error_message) == ("sent", 2, None)
    assert [(a.outcome, a.number) for a in attempts_of(delivery)] == [("retry", 1), ("sent", 2)]
    [raw] = smtp.messages
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Message-ID"] == f"<torale.{delivery.id}@torale.example>"


def test_an_account_without_an_address_fails_saying_so(owner, smtp_settings, smtp):
    run = record_run(make_task(owner))
    type(owner).objects.filter(pk=owner.pk).update(email="")
    delivery = only_delivery(run)

    delivery_send(delivery_id=delivery.id)

    delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert delivery.error_message == "Your account has no email address; add one in your settings"
    assert smtp.messages == []
