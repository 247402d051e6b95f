"""A webhook consumer written the way the Standard Webhooks spec asks receivers to be: it
verifies every signature with the `standardwebhooks` library and processes each `webhook-id`
once, answering a repeat with 2xx without processing it again.

Tests use it to count what a user's system would actually act on: `accepted` lists the
webhook-ids it processed, however many requests (`requests`) carried them.
"""

from __future__ import annotations

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.support.receivers import HttpReceiver, Received, Reply

BAD_SIGNATURE = Reply(400, b"bad signature")
DUPLICATE = Reply(200, b"duplicate")


class StandardWebhooksConsumer(HttpReceiver):
    """An HttpReceiver that verifies and de-duplicates before taking its scripted Reply.

    A new, correctly signed event is processed the moment it arrives (recorded in
    `accepted`), then answered with the next scripted Reply: a `delay` there is a consumer
    slow to answer after it has acted, which is when a sender that dies cannot know the
    event arrived. Set `secret` (the channel's `whsec_...`) before the first request.
    """

    def __init__(self, host: str = "127.0.0.1", *, default: Reply | None = None):
        super().__init__(host, default=default)
        self.secret: str | None = None
        self.accepted: list[str] = []  # webhook-ids processed, in order, each once
        self.duplicates: list[str] = []  # webhook-ids of repeats answered without processing
        self.rejected: list[Received] = []  # requests whose signature did not verify

    @property
    def webhook_ids(self) -> list[str | None]:
        """The webhook-id of every request, in arrival order."""
        return [_header(r, "webhook-id") for r in self.requests]

    def _next_reply(self, received: Received) -> Reply:
        reply = super()._next_reply(received)  # records the request, takes the script
        try:
            if self.secret is None:
                raise WebhookVerificationError("no secret set")
            Webhook(self.secret).verify(received.body, received.headers)
        except WebhookVerificationError:
            with self._lock:
                self.rejected.append(received)
            return BAD_SIGNATURE
        webhook_id = _header(received, "webhook-id")
        with self._lock:
            if webhook_id in self.accepted:
                self.duplicates.append(webhook_id)
                return DUPLICATE
            if 200 <= reply.status < 300:
                self.accepted.append(webhook_id)
        return reply


def _header(received: Received, name: str) -> str | None:
    return next((v for k, v in received.headers.items() if k.lower() == name), None)
