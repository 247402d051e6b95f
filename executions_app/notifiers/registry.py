"""Channel kinds by name: the outbox stores a kind on each channel and looks its notifier up
here. A new channel is a Notifier subclass and one line below."""

from __future__ import annotations

from executions_app.notifiers.apprise import AppriseNotifier
from executions_app.notifiers.base import Notifier
from executions_app.notifiers.email import EmailNotifier
from executions_app.notifiers.webhook import WebhookNotifier

NOTIFIERS: dict[str, type[Notifier]] = {
    notifier.kind: notifier for notifier in (EmailNotifier, WebhookNotifier, AppriseNotifier)
}


def get_notifier(kind: str) -> Notifier:
    """The notifier for `kind`; raises LookupError for an unknown kind."""
    try:
        return NOTIFIERS[kind]()
    except KeyError:
        raise LookupError(f"Unknown notification channel kind: {kind!r}") from None
