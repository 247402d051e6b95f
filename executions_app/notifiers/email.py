"""Email: a plain-text and HTML message through Django's email framework.

Whatever EMAIL_BACKEND is configured sends it (console locally, SMTP in production, or an
django-anymail backend). The answer, reasoning and source titles come from a model reading the
web: they are untrusted, so the HTML template auto-escapes them and only http(s) links are made.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from email.utils import parseaddr
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string

from executions_app.notifiers.base import (
    DeliveryError,
    Notification,
    Notifier,
    SendResult,
    headline,
)


@dataclass(frozen=True)
class EmailTarget:
    address: str


def _is_web_link(url: str) -> bool:
    # A model-supplied "javascript:" or "data:" URL must never become a link.
    return urlsplit(url).scheme.lower() in {"http", "https"}


def render_bodies(message: Notification) -> tuple[str, str]:
    """(plain text, HTML) bodies of the message."""
    context = {
        "n": message,
        "sources": [
            {
                "title": source["title"] or source["uri"],
                "url": source["uri"] if _is_web_link(source["uri"]) else None,
            }
            for source in message.grounding_sources
        ],
    }
    return (
        render_to_string("email/condition_met.txt", context),
        render_to_string("email/condition_met.html", context),
    )


def _message_id(message: Notification) -> str:
    # Stable across retries: a resend after a crash carries the same Message-ID, which mail
    # systems (Gmail among them) use to drop the duplicate.
    sender = parseaddr(str(settings.DEFAULT_FROM_EMAIL))[1]
    domain = sender.rpartition("@")[2] or "torale.localhost"
    return f"<torale.{message.delivery_id}@{domain}>"


class EmailNotifier(Notifier[EmailTarget]):
    kind = "email"

    def send(self, message: Notification, target: EmailTarget) -> SendResult:
        text, html = render_bodies(message)
        email = EmailMultiAlternatives(
            subject=headline(message),
            body=text,
            to=[target.address],
            headers={
                "Message-ID": _message_id(message),
                # RFC 3834: an automatic message, so vacation responders stay quiet.
                "Auto-Submitted": "auto-generated",
            },
            connection=get_connection(fail_silently=False),
        )
        email.attach_alternative(html, "text/html")
        try:
            sent = email.send()
        except Exception as exc:  # any backend may raise anything; classify what we can
            raise classify_email_error(exc) from exc
        if not sent:
            raise DeliveryError("The email backend sent nothing", permanent=True)
        return SendResult(detail=f"sent to {target.address}")


def classify_email_error(exc: Exception) -> DeliveryError:
    """A DeliveryError saying whether resending can succeed.

    SMTP replies: 5xx is a permanent refusal (unknown mailbox, rejected content, bad
    credentials), 4xx a temporary one (greylisting, full mailbox, rate limit). Connection
    errors and timeouts are transient. For API backends (django-anymail) the HTTP status of the
    provider decides, as for webhooks.
    """
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        detail = "; ".join(
            f"{rcpt}: {code} {_text(msg)}" for rcpt, (code, msg) in exc.recipients.items()
        )
        permanent = bool(codes) and all(500 <= code < 600 for code in codes)
        return DeliveryError(f"SMTP refused the recipient: {detail}", permanent)
    if isinstance(exc, smtplib.SMTPResponseException):
        code = exc.smtp_code
        return DeliveryError(
            f"SMTP error {code}: {_text(exc.smtp_error)}", permanent=500 <= code < 600
        )
    if isinstance(exc, smtplib.SMTPException | OSError):
        return DeliveryError(f"SMTP failure: {exc or type(exc).__name__}", permanent=False)
    if type(exc).__name__ == "AnymailRecipientsRefused":
        return DeliveryError(f"Recipient refused: {exc}", permanent=True)
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        permanent = 400 <= status < 500 and status != 429
        return DeliveryError(f"Email provider answered {status}: {exc}", permanent, status)
    return DeliveryError(f"Email backend failed: {type(exc).__name__}: {exc}", permanent=False)


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)
