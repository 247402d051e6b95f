"""Shared fixtures: two users with API keys, API clients for each, clean Redis."""

from __future__ import annotations

import pytest
import redis
from django.conf import settings
from rest_framework.test import APIClient

from tests.factories import make_api_key, make_user


@pytest.fixture(autouse=True)
def clean_redis():
    """Every test starts with empty rate-limit counters (the test Redis DB is flushed)."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.flushdb()
    yield
    client.close()


@pytest.fixture
def owner(db):
    return make_user("owner")


@pytest.fixture
def other_user(db):
    return make_user("intruder")


@pytest.fixture
def owner_key(owner):
    return make_api_key(owner)


@pytest.fixture
def other_key(other_user):
    return make_api_key(other_user)


def _client(key: str | None) -> APIClient:
    client = APIClient()
    if key:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


@pytest.fixture
def api(owner_key) -> APIClient:
    """An API client authenticated as `owner`."""
    return _client(owner_key)


@pytest.fixture
def other_api(other_key) -> APIClient:
    """An API client authenticated as another user."""
    return _client(other_key)


@pytest.fixture
def anon_api() -> APIClient:
    return _client(None)
