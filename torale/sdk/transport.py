"""HTTP for the SDK: one httpx client per SDK client, errors mapped, bounded retries.

Retries:
- 429 is retried for every method, after the server's Retry-After: the server refuses an
  over-limit request before doing anything, so even a POST is safe to send again. A wait
  longer than `max_retry_wait` is not slept through: RateLimitError is raised at once.
- Transport failures (refused connection, timeout, dropped connection) are retried only for
  idempotent calls (GET, PUT, DELETE), with exponential backoff and jitter. A POST (create,
  execute, preview, suggest) may have reached the server, so sending it again could create a
  second task or start a second run; it raises ConnectionError at once.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from torale import __version__
from torale.exceptions import ConnectionError, RateLimitError, ToraleError, error_for_status
from torale.sdk.calls import Call

T = TypeVar("T")

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT = 30.0  # preview and suggest wait for the search provider
BACKOFF_CAP = 8.0


@dataclass(frozen=True)
class Settings:
    """What both clients are configured with (see ToraleClient for the meaning)."""

    base_url: str
    api_key: str | None = field(repr=False)  # never in logs or tracebacks
    timeout: float | httpx.Timeout
    max_retries: int
    max_retry_wait: float
    backoff: float

    @classmethod
    def from_arguments(
        cls,
        *,
        api_key: str | None,
        base_url: str | None,
        timeout: float | httpx.Timeout,
        max_retries: int,
        max_retry_wait: float,
        backoff: float,
    ) -> Settings:
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        url = base_url or os.environ.get("TORALE_API_URL") or DEFAULT_BASE_URL
        return cls(
            base_url=url.rstrip("/"),
            api_key=api_key if api_key is not None else os.environ.get("TORALE_API_KEY"),
            timeout=timeout,
            max_retries=max_retries,
            max_retry_wait=max_retry_wait,
            backoff=backoff,
        )

    def client_options(self) -> dict[str, Any]:
        headers = {"Accept": "application/json", "User-Agent": f"torale-python/{__version__}"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return {"base_url": self.base_url, "headers": headers, "timeout": self.timeout}

    def wait_before_retry(self, call: Call[Any], attempt: int, error: ToraleError) -> float | None:
        """Seconds to wait before attempt `attempt + 1`, or None to raise `error` now."""
        if attempt >= self.max_retries:
            return None
        if isinstance(error, RateLimitError):
            wait = float(error.retry_after if error.retry_after is not None else 1)
            return wait if wait <= self.max_retry_wait else None
        if isinstance(error, ConnectionError) and call.idempotent:
            base = min(BACKOFF_CAP, self.backoff * 2**attempt)
            return base / 2 + random.uniform(0, base / 2)  # noqa: S311 - jitter, not crypto
        return None


def _request_options(call: Call[Any]) -> dict[str, Any]:
    options: dict[str, Any] = {"params": dict(call.params)}
    if call.json is not None:
        options["json"] = dict(call.json)
    return options


def _read(call: Call[T], response: httpx.Response) -> T:
    """The call's result from a success, or the exception for an error answer."""
    if response.is_success:
        return call.read(response.json() if call.model is not None else None)
    try:
        body: Any = response.json()
    except ValueError:
        # Not the API's JSON: a proxy's HTML error page, say. Keep its start for the message.
        body = response.text[:500] or response.reason_phrase
    headers = {k.lower(): v for k, v in response.headers.items()}
    raise error_for_status(response.status_code, body, headers)


def _transport_error(call: Call[Any], exc: httpx.HTTPError) -> ConnectionError:
    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
    return ConnectionError(f"{call.method} {call.url_path} {kind}: {exc!r}")


class SyncTransport:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._http = httpx.Client(**settings.client_options())

    def send(self, call: Call[T]) -> T:
        attempt = 0
        while True:
            try:
                response = self._http.request(call.method, call.url_path, **_request_options(call))
                return _read(call, response)
            except httpx.TransportError as exc:
                error: ToraleError = _transport_error(call, exc)
                cause: BaseException = exc
            except RateLimitError as exc:
                error = cause = exc
            wait = self.settings.wait_before_retry(call, attempt, error)
            if wait is None:
                raise error from (None if error is cause else cause)
            time.sleep(wait)
            attempt += 1

    def close(self) -> None:
        self._http.close()


class AsyncTransport:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._http = httpx.AsyncClient(**settings.client_options())

    async def send(self, call: Call[T]) -> T:
        attempt = 0
        while True:
            try:
                response = await self._http.request(
                    call.method, call.url_path, **_request_options(call)
                )
                return _read(call, response)
            except httpx.TransportError as exc:
                error: ToraleError = _transport_error(call, exc)
                cause: BaseException = exc
            except RateLimitError as exc:
                error = cause = exc
            wait = self.settings.wait_before_retry(call, attempt, error)
            if wait is None:
                raise error from (None if error is cause else cause)
            await asyncio.sleep(wait)
            attempt += 1

    async def close(self) -> None:
        await self._http.aclose()
