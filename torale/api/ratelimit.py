"""Per-key rate limits over sliding windows (minute, hour, day), shared through Redis.

Each window is counted in 60 buckets (1 s for the minute, 1 min for the hour, 24 min for the
day) and a request sees the last 61 of them, so the count covers between one and one and
1/60 windows: the limit is never exceeded in any window, at the price of releasing capacity
up to one bucket late. A request first adds itself to the current bucket of every window and
then reads the sums in the same round trip; when any window is over its limit the three
increments are taken back. Concurrent requests therefore see each other and can never
over-admit, across any number of web processes.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings

logger = logging.getLogger(__name__)

WINDOW_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
BUCKETS_PER_WINDOW = 60
BUCKETS_SEEN = BUCKETS_PER_WINDOW + 1


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset: int  # epoch seconds at which the tightest window is empty again
    retry_after: int  # seconds until a denied request may succeed; 0 when allowed


@dataclass(frozen=True)
class _Window:
    name: str
    limit: int
    bucket_seconds: float

    def bucket_index(self, now: float) -> int:
        return int(now // self.bucket_seconds)

    def bucket_keys(self, identity: str, current: int) -> list[str]:
        first = current - BUCKETS_SEEN + 1
        return [f"rl:{identity}:{self.name}:{i}" for i in range(first, current + 1)]

    def leaves_window_at(self, bucket: int) -> float:
        """When a request counted in `bucket` stops being seen."""
        return (bucket + BUCKETS_SEEN) * self.bucket_seconds

    @property
    def ttl(self) -> int:
        return math.ceil(self.bucket_seconds * (BUCKETS_SEEN + 1))


class RedisCounterStore:
    """Counters in Redis. One Lua script counts the request, sums the buckets of every window
    and takes the request back when a window is over its limit: one round trip of a few bytes
    per request, and atomic. (Reading the 183 bucket keys from Python cost more CPU than the
    rest of the request's Redis work together.) The script names the bucket keys itself, so
    it needs a single Redis, not a cluster."""

    # ARGV: key prefix, buckets seen, then name, current bucket, ttl, limit of each window.
    # Returns each window's total; when one is over its limit, also every bucket (oldest
    # first) of every window, as read before the request was taken back.
    SCRIPT = """
    local prefix, seen = ARGV[1], tonumber(ARGV[2])
    local totals, buckets, currents, over = {}, {}, {}, false
    for w = 0, (#ARGV - 2) / 4 - 1 do
      local name, current = ARGV[3 + w * 4], tonumber(ARGV[4 + w * 4])
      local ttl, limit = ARGV[5 + w * 4], tonumber(ARGV[6 + w * 4])
      local keys = {}
      for i = current - seen + 1, current do
        keys[#keys + 1] = prefix .. name .. ":" .. string.format("%d", i)
      end
      currents[#currents + 1] = keys[#keys]
      redis.call("INCR", keys[#keys])
      redis.call("EXPIRE", keys[#keys], ttl)
      local total = 0
      for _, value in ipairs(redis.call("MGET", unpack(keys))) do
        local count = tonumber(value) or 0
        total = total + count
        buckets[#buckets + 1] = count
      end
      totals[#totals + 1] = total
      if total > limit then over = true end
    end
    if not over then return totals end
    for _, key in ipairs(currents) do redis.call("DECR", key) end
    for _, count in ipairs(buckets) do totals[#totals + 1] = count end
    return totals
    """

    def __init__(self, url: str):
        import redis

        self.client = redis.Redis.from_url(
            url, socket_timeout=1.0, socket_connect_timeout=1.0, health_check_interval=30
        )
        self.script = self.client.register_script(self.SCRIPT)

    def add_and_sum(self, identity: str, plan: list[tuple[_Window, int]]):
        """Count one request in the current bucket of each (window, current bucket).

        Returns (totals, None) when every window has room, else (totals, buckets) with the
        request taken back again."""
        args: list = [f"rl:{identity}:", BUCKETS_SEEN]
        for window, current in plan:
            args += [window.name, current, window.ttl, window.limit]
        reply = self.script(args=args)
        totals = reply[: len(plan)]
        if len(reply) == len(plan):
            return totals, None
        flat = reply[len(plan) :]
        return totals, [flat[i * BUCKETS_SEEN : (i + 1) * BUCKETS_SEEN] for i in range(len(plan))]

    def clear(self) -> None:
        for key in self.client.scan_iter("rl:*", count=1000):
            self.client.delete(key)


class MemoryCounterStore:
    """One process only: the laptop default when no Redis is configured."""

    def __init__(self):
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[int, float]] = {}
        self._next_sweep = 0.0

    def add_and_sum(self, identity: str, plan: list[tuple[_Window, int]]):
        """Like RedisCounterStore.add_and_sum."""
        now = time.monotonic()
        with self._lock:
            if now >= self._next_sweep:
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
                self._next_sweep = now + 60
            buckets, currents = [], []
            for window, current in plan:
                keys = window.bucket_keys(identity, current)
                count, _ = self._counts.get(keys[-1], (0, 0.0))
                self._counts[keys[-1]] = (count + 1, now + window.ttl)
                currents.append(keys[-1])
                buckets.append([self._live(key, now) for key in keys])
            totals = [sum(counts) for counts in buckets]
            if all(total <= window.limit for total, (window, _) in zip(totals, plan, strict=True)):
                return totals, None
            for key in currents:
                count, expires = self._counts[key]
                self._counts[key] = (count - 1, expires)
            return totals, buckets

    def _live(self, key: str, now: float) -> int:
        count, expires = self._counts.get(key, (0, 0.0))
        return count if expires > now else 0

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


class RateLimiter:
    def __init__(self, store, limits: dict[str, int]):
        self.store = store
        self.windows = [
            _Window(name, limits[name], WINDOW_SECONDS[name] / BUCKETS_PER_WINDOW)
            for name in ("minute", "hour", "day")
        ]

    def hit(self, identity: str, now: float | None = None) -> Decision:
        """Count one request of `identity` and say whether it may proceed."""
        now = time.time() if now is None else now
        currents = [w.bucket_index(now) for w in self.windows]
        totals, buckets = self.store.add_and_sum(
            identity, list(zip(self.windows, currents, strict=True))
        )

        if buckets is not None:  # some window is over its limit; the store took it back
            over = [
                (window, current, counts)
                for window, current, total, counts in zip(
                    self.windows, currents, totals, buckets, strict=True
                )
                if total > window.limit
            ]
            retry_at = max(self._room_at(w, c, b) for w, c, b in over)
            tightest = min(over, key=lambda item: item[0].limit)[0]
            return Decision(
                allowed=False,
                limit=tightest.limit,
                remaining=0,
                reset=math.ceil(retry_at),
                retry_after=max(1, math.ceil(retry_at - now)),
            )

        remaining, window, current = min(
            (
                (window.limit - total, window, current)
                for window, current, total in zip(self.windows, currents, totals, strict=True)
            ),
            key=lambda item: item[0],
        )
        return Decision(
            allowed=True,
            limit=window.limit,
            remaining=remaining,
            reset=math.ceil(window.leaves_window_at(current)),
            retry_after=0,
        )

    @staticmethod
    def _room_at(window: _Window, current: int, buckets: list[int]) -> float:
        """When enough old requests leave `window` for one more (not counting this one)."""
        must_leave = sum(buckets) - window.limit
        first = current - BUCKETS_SEEN + 1
        left = 0
        for offset, count in enumerate(buckets):
            left += count
            if left >= must_leave:
                return window.leaves_window_at(first + offset)
        return window.leaves_window_at(current)


@lru_cache(maxsize=1)
def get_rate_limiter() -> RateLimiter:
    store = RedisCounterStore(settings.REDIS_URL) if settings.REDIS_URL else MemoryCounterStore()
    return RateLimiter(store, settings.TORALE_RATE_LIMITS)


def check_rate_limit(identity: str) -> Decision | None:
    """The decision for one request, or None when limits are off or the store is down."""
    if not settings.TORALE_RATE_LIMIT_ENABLED:
        return None
    try:
        return get_rate_limiter().hit(identity)
    except Exception:  # the counters are protection, not a reason to refuse every request
        logger.exception("rate limit store unavailable; request allowed")
        return None
