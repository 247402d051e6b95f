"""Leader election for singleton processes (the scheduler): exactly one holder at a time,
and a standby takes over within the lock's time-to-live when the holder dies."""

from __future__ import annotations

import fcntl
import logging
import os
import uuid
from pathlib import Path

from django.conf import settings

logger = logging.getLogger(__name__)

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0
"""
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0
"""


class RedisLeaderLock:
    """SET NX PX with a random token; renewed on every tick, released on exit."""

    def __init__(self, url: str, name: str, ttl_seconds: float):
        import redis

        self.client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self.key = f"torale:leader:{name}"
        self.ttl_ms = int(ttl_seconds * 1000)
        self.token = f"{os.getpid()}:{uuid.uuid4()}"
        self.held = False
        self._renew = self.client.register_script(_RENEW)
        self._release = self.client.register_script(_RELEASE)

    def acquire_or_renew(self) -> bool:
        """True while this process is the leader."""
        try:
            if self.held and self._renew(keys=[self.key], args=[self.token, self.ttl_ms]):
                return True
            if self.held:
                logger.warning("leadership of %s lost", self.key)
            self.held = bool(self.client.set(self.key, self.token, nx=True, px=self.ttl_ms))
            if self.held:
                logger.info("leadership of %s acquired", self.key)
        except Exception:  # Redis down: nobody can prove leadership, so nobody leads
            logger.exception("leader lock %s unavailable", self.key)
            self.held = False
        return self.held

    def release(self) -> None:
        if self.held:
            try:
                self._release(keys=[self.key], args=[self.token])
            except Exception:
                logger.exception("could not release leader lock %s", self.key)
            self.held = False


class FileLeaderLock:
    """flock on a file in TORALE_VAR_DIR: one machine, no Redis (the laptop default). The
    kernel drops the lock when the holder dies, however it dies."""

    def __init__(self, path: Path):
        self.path = path
        self.handle = None

    @property
    def held(self) -> bool:
        return self.handle is not None

    def acquire_or_renew(self) -> bool:
        if self.handle is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 (kept open while leading)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self.handle = handle
        logger.info("leadership via %s acquired", self.path)
        return True

    def release(self) -> None:
        if self.handle is not None:
            fcntl.flock(self.handle, fcntl.LOCK_UN)
            self.handle.close()
            self.handle = None


def leader_lock(name: str):
    """The lock for `name`: in Redis when configured, else a local file lock."""
    if settings.REDIS_URL:
        return RedisLeaderLock(settings.REDIS_URL, name, settings.TORALE_LEADER_TTL_SECONDS)
    return FileLeaderLock(settings.VAR_DIR / f"{name}.leader.lock")
