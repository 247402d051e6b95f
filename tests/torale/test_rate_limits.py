import time

import pytest
import redis
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from tasks_app.models import Task
from tests.factories import VALID_TASK, make_api_key
from torale.api.ratelimit import (
    MemoryCounterStore,
    RateLimiter,
    RedisCounterStore,
    get_rate_limiter,
)

ME = "/auth/me"
LIMITS = {"minute": 3, "hour": 100, "day": 1000}


@pytest.fixture
def small_limits(settings):
    """Three requests a minute per key, counted in the real Redis."""
    get_rate_limiter.cache_clear()
    settings.TORALE_RATE_LIMITS = dict(LIMITS)
    settings.TORALE_RATE_LIMIT_ENABLED = True
    yield
    get_rate_limiter.cache_clear()


def rate_headers(response) -> tuple[int, int, int]:
    return (
        int(response["X-RateLimit-Limit"]),
        int(response["X-RateLimit-Remaining"]),
        int(response["X-RateLimit-Reset"]),
    )


# --- Through the API ----------------------------------------------------------------------


@pytest.mark.django_db
def test_every_answer_carries_the_rate_limit_headers(api, small_limits):
    started = time.time()

    answers = [api.get(ME), api.get("/api/v1/tasks/not-a-uuid"), api.post("/api/v1/tasks", {})]

    assert [r.status_code for r in answers] == [200, 404, 422]
    assert [rate_headers(r)[:2] for r in answers] == [(3, 2), (3, 1), (3, 0)]
    for response in answers:
        reset = rate_headers(response)[2]
        assert started < reset <= time.time() + 62


@pytest.mark.django_db
def test_the_fourth_request_in_a_minute_is_refused(api, small_limits):
    for _ in range(3):
        assert api.get(ME).status_code == 200

    response = api.get(ME)

    assert response.status_code == 429
    body = response.json()
    assert set(body) == {"detail", "retry_after"}
    assert body["detail"] == "Rate limit exceeded"
    assert isinstance(body["retry_after"], int) and 1 <= body["retry_after"] <= 61
    assert response["Retry-After"] == str(body["retry_after"])
    assert rate_headers(response)[:2] == (3, 0)


@pytest.mark.django_db
def test_a_refused_request_does_nothing(api, small_limits):
    for _ in range(3):
        api.get(ME)

    response = api.post("/api/v1/tasks", VALID_TASK, format="json")

    assert response.status_code == 429
    assert not Task.objects.exists()


@pytest.mark.django_db
def test_limits_are_per_key(api, other_api, owner, small_limits):
    for _ in range(4):
        api.get(ME)
    assert api.get(ME).status_code == 429

    other = other_api.get(ME)
    second_key_of_owner = APIClient()
    second_key_of_owner.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(owner)}")
    same_user_other_key = second_key_of_owner.get(ME)

    assert other.status_code == 200
    assert rate_headers(other)[:2] == (3, 2)
    assert same_user_other_key.status_code == 200
    assert rate_headers(same_user_other_key)[:2] == (3, 2)


@pytest.mark.django_db
def test_a_session_is_limited_per_user(owner, small_limits):
    client = APIClient()
    client.force_login(owner)

    statuses = [client.get(ME).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]


@pytest.mark.django_db
def test_unauthenticated_requests_are_refused_before_counting(api, anon_api, small_limits):
    for _ in range(5):
        assert anon_api.get(ME).status_code == 401

    assert rate_headers(api.get(ME))[:2] == (3, 2)


@pytest.mark.django_db
def test_the_default_limits_are_the_references(api):
    get_rate_limiter.cache_clear()
    try:
        response = api.get(ME)
    finally:
        get_rate_limiter.cache_clear()

    assert rate_headers(response)[:2] == (100, 99)


# --- The limiter itself, with both stores -------------------------------------------------

T0 = 1_700_000_000.0  # a whole second, so that request times fall where the test says


@pytest.fixture(params=["redis", "memory"])
def store(request):
    if request.param == "redis":
        return RedisCounterStore(django_settings.REDIS_URL)
    return MemoryCounterStore()


@pytest.fixture
def limiter(store):
    return RateLimiter(store, LIMITS)


def test_it_allows_up_to_the_limit_and_counts_down(limiter):
    decisions = [limiter.hit("k", now=T0 + i) for i in range(3)]

    assert [d.allowed for d in decisions] == [True, True, True]
    assert [d.remaining for d in decisions] == [2, 1, 0]
    assert all(d.limit == 3 and d.retry_after == 0 for d in decisions)
    assert not limiter.hit("k", now=T0 + 3).allowed


def test_the_window_slides(limiter):
    for offset in (0, 20, 40):
        assert limiter.hit("k", now=T0 + offset).allowed

    refused = limiter.hit("k", now=T0 + 50)
    assert not refused.allowed
    assert refused.remaining == 0
    # Refused until the request made at T0 has left the window, and no longer.
    wait = refused.retry_after
    assert 10 <= wait <= 12
    assert not limiter.hit("k", now=T0 + 50 + wait - 1).allowed
    assert limiter.hit("k", now=T0 + 50 + wait).allowed
    # The requests at T0+20 and T0+40 still count: one slot was freed, not the whole window.
    assert not limiter.hit("k", now=T0 + 50 + wait + 0.5).allowed


def test_requests_older_than_the_window_stop_counting(limiter):
    for i in range(3):
        assert limiter.hit("k", now=T0 + i).allowed
    assert not limiter.hit("k", now=T0 + 30).allowed

    later = [limiter.hit("k", now=T0 + 65 + i) for i in range(3)]

    assert [d.allowed for d in later] == [True, True, True]


def test_a_refused_request_is_not_counted(limiter):
    for offset in (0, 1, 2):
        assert limiter.hit("k", now=T0 + offset).allowed
    for _ in range(20):
        assert not limiter.hit("k", now=T0 + 30).allowed

    # Once the first three leave the window there is room for three again: the twenty
    # refusals at T0+30 (still inside the window) took nothing.
    after = [limiter.hit("k", now=T0 + 63 + i * 0.1) for i in range(4)]

    assert [d.allowed for d in after] == [True, True, True, False]


def test_identities_are_counted_apart(limiter):
    for i in range(3):
        limiter.hit("a", now=T0 + i)

    assert not limiter.hit("a", now=T0 + 3).allowed
    assert limiter.hit("b", now=T0 + 3).remaining == 2


def test_the_hour_limit_applies_across_minutes():
    limiter = RateLimiter(MemoryCounterStore(), {"minute": 100, "hour": 5, "day": 1000})

    allowed = [limiter.hit("k", now=T0 + i * 300).allowed for i in range(6)]

    assert allowed == [True] * 5 + [False]
    refused = limiter.hit("k", now=T0 + 1800)
    assert refused.limit == 5
    assert refused.retry_after > 60


def test_redis_counters_are_shared_by_every_process():
    """Two limiters with their own connections (two web processes) share one count."""
    first = RateLimiter(RedisCounterStore(django_settings.REDIS_URL), LIMITS)
    second = RateLimiter(RedisCounterStore(django_settings.REDIS_URL), LIMITS)

    assert first.hit("shared", now=T0).allowed
    assert second.hit("shared", now=T0 + 1).allowed
    assert first.hit("shared", now=T0 + 2).allowed

    assert not second.hit("shared", now=T0 + 3).allowed


def test_redis_counters_expire_on_their_own():
    limiter = RateLimiter(RedisCounterStore(django_settings.REDIS_URL), LIMITS)
    limiter.hit("ttl", now=T0)

    client = redis.Redis.from_url(django_settings.REDIS_URL)
    keys = list(client.scan_iter("rl:*ttl*"))
    assert keys
    assert all(0 < client.ttl(key) <= 2 * 86400 for key in keys)
