"""How many slow outbound calls (preview, suggest, a channel's test send) one account may
have in flight at once.

A preview holds a web thread for as long as the provider takes (up to twice
GEMINI_TIMEOUT_SECONDS), a test send as long as the receiver takes to answer. Without a cap,
one account clicking Preview or Test a few times could occupy every thread and stall the site
for everyone.

Slots live in Redis when REDIS_URL is set, so the cap holds across web processes: a sorted
set per account whose members are slot tokens scored by when they were taken. A slot whose
process died is never released, so slots older than the longest possible call are dropped
before counting. Without Redis (the laptop profile, one web process) a counter in memory.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from django.conf import settings

from torale.errors import DomainError

logger = logging.getLogger(__name__)


class TooManyInFlight(DomainError):
    status_code = 429
    retry_after = 5

    def __init__(self, limit: int):
        super().__init__(
            f"{limit} previews, suggestions or test sends are already running for this "
            "account; wait for one to finish"
        )


def _slot_lifetime() -> float:
    """Seconds after which a slot counts as abandoned: longer than any call can last."""
    return 2 * settings.GEMINI_TIMEOUT_SECONDS + 30


class RedisSlots:
    # KEYS[1]: the account's set. ARGV: now, lifetime, limit, token. 1 when taken, else 0.
    TAKE = """
    redis.call('zremrangebyscore', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
    if redis.call('zcard', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
    redis.call('zadd', KEYS[1], ARGV[1], ARGV[4])
    redis.call('expire', KEYS[1], math.ceil(tonumber(ARGV[2])))
    return 1
    """

    def __init__(self, url: str):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self.take_script = self.client.register_script(self.TAKE)

    def take(self, account: str, limit: int) -> str | None:
        token = secrets.token_hex(8)
        key = f"inflight:{account}"
        taken = self.take_script(keys=[key], args=[time.time(), _slot_lifetime(), limit, token])
        return token if taken else None

    def release(self, account: str, token: str) -> None:
        self.client.zrem(f"inflight:{account}", token)


class MemorySlots:
    """One process only: the laptop default when no Redis is configured."""

    def __init__(self):
        self._lock = threading.Lock()
        self._held: dict[str, set[str]] = {}

    def take(self, account: str, limit: int) -> str | None:
        with self._lock:
            held = self._held.setdefault(account, set())
            if len(held) >= limit:
                return None
            token = secrets.token_hex(8)
            held.add(token)
            return token

    def release(self, account: str, token: str) -> None:
        with self._lock:
            held = self._held.get(account, set())
            held.discard(token)
            if not held:
                self._held.pop(account, None)


@lru_cache(maxsize=1)
def get_slots() -> RedisSlots | MemorySlots:
    return RedisSlots(settings.REDIS_URL) if settings.REDIS_URL else MemorySlots()


@contextmanager
def provider_call_slot(account) -> Iterator[None]:
    """Hold one of the account's TORALE_PROVIDER_CALLS_PER_ACCOUNT slots for the block.

    Raises TooManyInFlight when all are taken. If Redis is unreachable the call goes ahead
    (logged): the cap protects the site, it is not a reason to refuse every preview."""
    limit = settings.TORALE_PROVIDER_CALLS_PER_ACCOUNT
    slots = get_slots()
    try:
        token = slots.take(str(account), limit)
    except Exception:
        logger.exception("in-flight slot store unavailable; provider call allowed")
        token = ""  # no slot to release
    if token is None:
        raise TooManyInFlight(limit)
    try:
        yield
    finally:
        if token:
            try:
                slots.release(str(account), token)
            except Exception:  # the slot expires on its own
                logger.exception("in-flight slot not released")
