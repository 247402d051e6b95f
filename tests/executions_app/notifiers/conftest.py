"""Fixtures for notifier tests: a sample notice, a second receiver, a test CA for TLS (the
receivers and allow_private come from tests/executions_app/conftest.py)."""

from __future__ import annotations

import ssl
import uuid
from datetime import UTC, datetime

import pytest
import trustme

from executions_app.notifiers.base import Notification
from tests.support.receivers import HttpReceiver

# Untrusted model text, as a run could produce it.
HOSTILE_ANSWER = 'The PS5 Pro is in stock. <script>alert("pwned")</script>'


@pytest.fixture
def notification() -> Notification:
    task_id = uuid.uuid4()
    return Notification(
        delivery_id=uuid.uuid4(),
        created_at=datetime(2026, 3, 1, 9, 0, 5, tzinfo=UTC),
        task_id=task_id,
        task_name="PS5 Pro at Best Buy",
        search_query="Is the PS5 Pro in stock at Best Buy?",
        condition_description="Best Buy lists the PS5 Pro as available to buy online",
        execution_id=uuid.uuid4(),
        condition_met=True,
        answer=HOSTILE_ANSWER,
        reasoning="The product page shows 'Add to cart'.\nShipping is listed for March 3.",
        completed_at=datetime(2026, 3, 1, 9, 0, 2, tzinfo=UTC),
        task_url=f"https://torale.example/tasks/{task_id}",
        grounding_sources=(
            {"uri": "https://www.bestbuy.com/site/ps5-pro", "title": "PS5 Pro <b>Best Buy</b>"},
            {"uri": "javascript:alert(1)", "title": "Sneaky link"},
        ),
    )


@pytest.fixture
def other_receiver():
    """A second receiver on another loopback address (127.0.0.2), for redirects."""
    with HttpReceiver("127.0.0.2") as server:
        yield server


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def client_tls(ca) -> ssl.SSLContext:
    """A client context that trusts only the test CA (verification on, as in production)."""
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    ca.configure_trust(context)
    return context


def server_tls(ca: trustme.CA, *names: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    return context
