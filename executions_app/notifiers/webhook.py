"""Webhooks: a signed JSON `task.condition_met` event POSTed to the user's URL."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx

from executions_app.notifiers import safe_http, signing
from executions_app.notifiers.base import Notification, Notifier, SendResult
from torale.timeutils import iso_utc

EVENT_TYPE = "task.condition_met"
TEST_EVENT_TYPE = "webhook.test"
USER_AGENT = "Torale-Webhooks/1.0"


@dataclass(frozen=True)
class WebhookTarget:
    url: str
    # `whsec_...`; a list while a secret is being rotated (every one signs).
    secret: str | tuple[str, ...]

    def __repr__(self) -> str:  # neither the secret nor a token in the URL reaches a log line
        return f"WebhookTarget(url={display_url(self.url)!r}, secret='***')"


def display_url(url: str | httpx.URL) -> str:
    """The URL without credentials or query string (where tokens usually live)."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        return "***"
    port = f":{parsed.port}" if parsed.port else ""
    text = f"{parsed.scheme}://{parsed.host}{port}{parsed.path}"
    if parsed.query:
        text += "?…"
    return text[:300]


def event_payload(message: Notification) -> dict[str, Any]:
    """The event, shaped as in companion-apis.md (Notifications)."""
    return {
        "id": str(message.delivery_id),
        "type": TEST_EVENT_TYPE if message.is_test else EVENT_TYPE,
        "created_at": iso_utc(message.created_at),
        "data": {
            "task": {
                "id": str(message.task_id),
                "name": message.task_name,
                "search_query": message.search_query,
                "condition_description": message.condition_description,
            },
            "execution": {
                "id": str(message.execution_id),
                "condition_met": message.condition_met,
                "answer": message.answer,
                "reasoning": message.reasoning,
                "grounding_sources": [dict(s) for s in message.grounding_sources],
                "completed_at": iso_utc(message.completed_at),
            },
        },
    }


def event_body(message: Notification) -> bytes:
    """The exact bytes that are signed and sent: compact, ASCII-only JSON."""
    # ASCII-only so that receivers that verify over decoded text and those that verify over
    # raw bytes compute the same signature.
    return json.dumps(event_payload(message), separators=(",", ":")).encode("ascii")


class WebhookNotifier(Notifier[WebhookTarget]):
    kind = "webhook"

    def send(self, message: Notification, target: WebhookTarget) -> SendResult:
        body = event_body(message)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            # The delivery id: the same on every retry, so receivers can drop duplicates.
            **signing.signed_headers(target.secret, msg_id=str(message.delivery_id), body=body),
        }
        response = safe_http.post(target.url, content=body, headers=headers)
        return SendResult(status_code=response.status_code, detail=response.excerpt())
