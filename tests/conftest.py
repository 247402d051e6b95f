"""Shared fixtures: two users with API keys, API clients for each, clean Redis."""

from __future__ import annotations

import pytest
import redis
from django.conf import settings
from rest_framework.test import APIClient

from tests.factories import make_api_key, make_task, make_user
from tests.support.gemini_standin import GeminiStandIn
from torale.gemini import reset_client


@pytest.fixture(autouse=True)
def clean_redis():
    """Every test starts with empty rate-limit counters (the test Redis DB is flushed)."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    client.flushdb()
    yield
    client.close()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Users get real passwords; hashing them at production cost would dominate the run."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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


@pytest.fixture
def owner_client(client, owner):
    """A browser session (Django test client) logged in as `owner`, for the pages."""
    client.force_login(owner)
    return client


@pytest.fixture
def task(owner):
    """An active task of `owner`."""
    return make_task(owner, name="Owner's task")


@pytest.fixture
def foreign_task(other_user):
    """An active task of another user."""
    return make_task(other_user, name="Someone else's task")


TEST_GEMINI_KEY = "AIza-test-key-never-logged-0123456789"
TEST_MODEL = "gemini-2.5-flash"


@pytest.fixture
def gemini(settings):
    """A running Gemini stand-in (scriptable: `gemini.script(...)`, `gemini.requests`);
    GEMINI_API_KEY / GEMINI_BASE_URL / GEMINI_MODEL point at it, with a fresh client."""
    with GeminiStandIn() as standin:
        settings.GEMINI_API_KEY = TEST_GEMINI_KEY
        settings.GEMINI_BASE_URL = standin.url
        settings.GEMINI_MODEL = TEST_MODEL
        settings.GEMINI_TIMEOUT_SECONDS = 10.0
        reset_client()
        yield standin
    reset_client()


NO_PROVIDER = {"detail": "No search provider configured: set GEMINI_API_KEY"}


@pytest.fixture
def no_search_provider(settings):
    """No GEMINI_API_KEY: preview, suggest and runs have no provider."""
    settings.GEMINI_API_KEY = ""
