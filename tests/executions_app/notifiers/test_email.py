"""The email channel through Django's SMTP backend to a real local SMTP server (aiosmtpd)."""

from __future__ import annotations

import email
import email.policy

import pytest

from executions_app.notifiers.base import DeliveryError
from executions_app.notifiers.email import EmailNotifier, EmailTarget
from tests.support.receivers import SmtpReceiver, free_port


@pytest.fixture
def smtp_settings(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    settings.DEFAULT_FROM_EMAIL = "Torale <alerts@torale.example>"
    return settings


def send_through(server: SmtpReceiver, smtp_settings, notification) -> None:
    smtp_settings.EMAIL_PORT = server.port
    EmailNotifier().send(notification, EmailTarget("owner@example.com"))


def test_the_smtp_server_receives_the_condition_met_email(smtp, smtp_settings, notification):
    send_through(smtp, smtp_settings, notification)

    [raw] = smtp.messages
    assert smtp.envelopes == [("alerts@torale.example", ["owner@example.com"])]
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Subject"] == "Condition met: PS5 Pro at Best Buy"
    assert message["To"] == "owner@example.com"
    assert message["Message-ID"] == f"<torale.{notification.delivery_id}@torale.example>"
    assert message["Auto-Submitted"] == "auto-generated"

    text = message.get_body(("plain",)).get_content()
    assert notification.answer in text  # plain text carries the words as they are
    assert "Shipping is listed for March 3." in text
    assert "PS5 Pro <b>Best Buy</b>" in text
    assert "https://www.bestbuy.com/site/ps5-pro" in text
    assert notification.task_url in text

    html = message.get_body(("html",)).get_content()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in html
    assert "Add to cart&#x27;.<br>Shipping" in html
    assert (
        '<a href="https://www.bestbuy.com/site/ps5-pro" rel="noopener noreferrer">'
        "PS5 Pro &lt;b&gt;Best Buy&lt;/b&gt;</a>"
    ) in html
    assert "javascript:" not in html  # a model-made javascript: URL never becomes a link
    assert "Sneaky link" in html
    assert f'href="{notification.task_url}"' in html


def test_a_refused_recipient_is_permanent(smtp_settings, notification):
    with (
        SmtpReceiver(rcpt_reply="550 5.1.1 No such user here") as server,
        pytest.raises(DeliveryError) as caught,
    ):
        send_through(server, smtp_settings, notification)
    assert caught.value.permanent
    assert "550" in str(caught.value)


def test_a_temporary_smtp_refusal_is_transient(smtp_settings, notification):
    with (
        SmtpReceiver(data_reply="451 4.3.0 Greylisted, try again later") as server,
        pytest.raises(DeliveryError) as caught,
    ):
        send_through(server, smtp_settings, notification)
    assert not caught.value.permanent
    assert "451" in str(caught.value)


def test_an_unreachable_smtp_server_is_transient(smtp_settings, notification):
    smtp_settings.EMAIL_PORT = free_port()
    with pytest.raises(DeliveryError) as caught:
        EmailNotifier().send(notification, EmailTarget("owner@example.com"))
    assert not caught.value.permanent


def test_a_task_name_with_a_newline_stays_one_subject_line(smtp, smtp_settings, notification):
    from dataclasses import replace

    send_through(smtp, smtp_settings, replace(notification, task_name="Line one\nBcc: x@evil"))
    message = email.message_from_bytes(smtp.messages[0], policy=email.policy.default)
    assert message["Subject"] == "Condition met: Line one Bcc: x@evil"
    assert message["Bcc"] is None
