"""SDK tests run the real client against a real server: pytest-django's live_server (the
Django app in a thread, on the test database) and, where a search provider is needed, the
Gemini stand-in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from torale import ToraleClient
from torale.api.ratelimit import get_rate_limiter


@pytest.fixture(autouse=True)
def no_sdk_environment(monkeypatch):
    """The SDK reads TORALE_API_KEY / TORALE_API_URL; a developer's shell must not leak in."""
    monkeypatch.delenv("TORALE_API_KEY", raising=False)
    monkeypatch.delenv("TORALE_API_URL", raising=False)


@pytest.fixture
def server_url(live_server) -> str:
    return live_server.url


@pytest.fixture
def torale(server_url, owner_key) -> Iterator[ToraleClient]:
    """The SDK client of `owner`, against the live server."""
    with ToraleClient(api_key=owner_key, base_url=server_url) as client:
        yield client


@pytest.fixture
def other_torale(server_url, other_key) -> Iterator[ToraleClient]:
    """The SDK client of another user."""
    with ToraleClient(api_key=other_key, base_url=server_url) as client:
        yield client


@pytest.fixture
def two_requests_a_minute(settings):
    """A rate limit small enough to reach: two requests a minute per key (counted in Redis)."""
    get_rate_limiter.cache_clear()
    settings.TORALE_RATE_LIMITS = {"minute": 2, "hour": 100, "day": 1000}
    settings.TORALE_RATE_LIMIT_ENABLED = True
    yield
    get_rate_limiter.cache_clear()
