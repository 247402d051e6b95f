"""HTTP for the SDK: one httpx client per SDK client, errors mapped, bounded retries.

Retries:
- 429 is retried for every method, after the server's Retry-After: the server refuses an
  over-limit request before doing anything, so even a POST is safe to send again. A wait
  longer than `max_retry_wait` is not slept through: RateLimitError is raised at once.
- Transport failures (refused connection, timeout, dropped connection) are retried only for
  idempotent calls (GET, PUT, DELETE), with exponential backoff and jitter. A POST (create,
  execute, preview, suggest) may have reached the server, so sending it again could create a
  second task or start a second run; it raises ConnectionError at once.

Every failure of a call is a ToraleError; messages name the exception class and what went
wrong, never str() of an httpx error (a protocol error can echo a header, and so the key).
"""

from __future__ import annotations

import asyncio
import builtins
import json
import os
import random
import re
import time
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from torale import __version__
from torale.exceptions import (
    ClientClosedError,
    ConnectionError,
    RateLimitError,
    RedirectError,
    ResponseError,
    TimeoutError,
    ToraleError,
    error_for_status,
)
from torale.sdk.calls import Call

T = TypeVar("T")

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT = 30.0  # preview and suggest wait for the search provider
BACKOFF_CAP = 8.0
MAX_DETAIL = 200  # characters of a non-JSON error body kept as `detail`
_API_PREFIX = re.compile(r"/api/v1/?$")
_KEY_CHARACTERS = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no space


def _number(name: str, value: Any, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}")
    if value < 0 or (positive and value == 0) or value != value:  # value != value: NaN
        raise ValueError(f"{name} must be {'more than' if positive else 'at least'} 0")
    return float(value)


def _base_url(value: Any) -> str:
    """The server's root: http(s), a host, no query or fragment, no trailing /api/v1."""
    if not isinstance(value, str):
        raise TypeError(f"base_url must be a str, not {type(value).__name__}")
    url = value.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"base_url must be an http(s) URL with a host, not {url[:100]!r}")
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise ValueError("base_url must not have a query string or a fragment")
    # The reference's URLs are https://api.torale.ai/api/v1/tasks: the root is without it.
    return _API_PREFIX.sub("", url.rstrip("/")).rstrip("/")


def _api_key(value: Any) -> str | None:
    """The key without surrounding whitespace (a key read from a file ends in a newline)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise TypeError(f"api_key must be a str, not {type(value).__name__}")
    key = value.strip()
    if key and not _KEY_CHARACTERS.fullmatch(key):
        # Never the key itself: this message ends up in logs.
        raise ValueError("api_key contains whitespace, control or non-ASCII characters")
    return key or None


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
        """Checked settings: TypeError / ValueError for an argument that cannot work."""
        if isinstance(max_retries, bool) or not isinstance(max_retries, int):
            raise TypeError(f"max_retries must be an int, not {type(max_retries).__name__}")
        if max_retries < 0:
            raise ValueError("max_retries must be 0 or more")
        if not isinstance(timeout, httpx.Timeout):
            timeout = _number("timeout", timeout, positive=True)
        return cls(
            base_url=_base_url(base_url or os.environ.get("TORALE_API_URL") or DEFAULT_BASE_URL),
            api_key=_api_key(api_key if api_key is not None else os.environ.get("TORALE_API_KEY")),
            timeout=timeout,
            max_retries=max_retries,
            max_retry_wait=_number("max_retry_wait", max_retry_wait),
            backoff=_number("backoff", backoff),
        )

    @property
    def deadline(self) -> float | None:
        """Seconds one attempt may take in all: `timeout`, or for an httpx.Timeout the
        largest of its limits (None when it sets none)."""
        if not isinstance(self.timeout, httpx.Timeout):
            return self.timeout
        limits = [
            t
            for t in (self.timeout.connect, self.timeout.read, self.timeout.write)
            if t is not None
        ]
        return max(limits, default=None)

    def client_options(self) -> dict[str, Any]:
        headers = {"Accept": "application/json", "User-Agent": f"torale-python/{__version__}"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        # Never follow a redirect: it could resend the Authorization header to another host.
        return {
            "base_url": self.base_url,
            "headers": headers,
            "timeout": self.timeout,
            "follow_redirects": False,
        }

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


def _error_detail(response: httpx.Response, body: bytes) -> Any:
    """The `detail` of an error answer: the API's JSON, else a short text (a proxy's HTML
    error page becomes its status reason)."""
    try:
        return json.loads(body)
    except ValueError:
        pass
    reason = response.reason_phrase or f"HTTP {response.status_code}"
    text = body.decode("utf-8", "replace").strip()
    if not text or "html" in response.headers.get("content-type", "").lower() or text[0] == "<":
        return reason
    return text[:MAX_DETAIL]


def _read(call: Call[T], response: httpx.Response, body: bytes) -> T:
    """The call's result from a success, or the exception for any other answer."""
    headers = {k.lower(): v for k, v in response.headers.items()}
    where = f"{call.method} {call.url_path}"
    if response.is_success:
        if call.model is None:
            return call.read(None)
        try:
            return call.read(json.loads(body))
        except ValueError:
            raise ResponseError(
                f"{where} answered {response.headers.get('content-type') or 'a body'} that is "
                "not JSON: check base_url",
                status_code=response.status_code,
                headers=headers,
            ) from None
        except ResponseError as exc:
            raise ResponseError(
                f"{where} answered an unexpected shape: {exc.detail}",
                status_code=response.status_code,
                headers=headers,
            ) from None
    if response.is_redirect:
        location = response.headers.get("location")
        raise RedirectError(
            f"{where}: the server answered a redirect to {location or '(no location)'}: "
            "check base_url",
            location=location,
            status_code=response.status_code,
            headers=headers,
        )
    raise error_for_status(response.status_code, _error_detail(response, body), headers)


_TRANSPORT_ERRORS: dict[type[httpx.TransportError], str] = {
    httpx.ConnectTimeout: "connecting timed out",
    httpx.ReadTimeout: "waiting for the answer timed out",
    httpx.WriteTimeout: "sending the request timed out",
    httpx.PoolTimeout: "waiting for a free connection timed out",
    httpx.ConnectError: "could not connect",
    httpx.ReadError: "the connection broke while reading",
    httpx.WriteError: "the connection broke while sending",
    httpx.RemoteProtocolError: "the server broke the HTTP protocol or hung up",
    httpx.ProxyError: "the proxy failed",
}


def _transport_error(call: Call[Any], exc: httpx.TransportError) -> ToraleError:
    """The SDK's error for an httpx transport failure, with a message that holds no header."""
    what = next(
        (text for cls, text in _TRANSPORT_ERRORS.items() if isinstance(exc, cls)),
        "the request failed",
    )
    where = f"{call.method} {call.url_path}"
    message = f"{type(exc).__name__}: {what}"
    if isinstance(exc, httpx.TimeoutException):
        return TimeoutError(f"{where} timed out ({message})")
    if isinstance(exc, httpx.LocalProtocolError):
        # Could not even be sent: trying again would fail the same way, so not retryable.
        return ToraleError(f"{where} could not be sent ({type(exc).__name__})")
    return ConnectionError(f"{where} failed ({message})")


def _deadline_error(call: Call[Any], seconds: float) -> TimeoutError:
    return TimeoutError(
        f"{call.method} {call.url_path} timed out (no complete answer within {seconds:g} s)"
    )


def _local_error(call: Call[Any], exc: Exception) -> Exception:
    """A failure before anything was sent (an invalid URL) or while decoding the answer."""
    if isinstance(exc, httpx.InvalidURL):
        return ValueError(f"{call.method} {call.path}: the request URL is invalid ({exc})")
    if isinstance(exc, httpx.DecodingError):
        return ResponseError(f"{call.method} {call.url_path}: the answer could not be decoded")
    return ToraleError(f"{call.method} {call.url_path} failed ({type(exc).__name__})")


def _closed(client: str) -> ClientClosedError:
    return ClientClosedError(f"this {client} is closed: create a new one")


class SyncTransport:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._http = httpx.Client(**settings.client_options())

    def send(self, call: Call[T]) -> T:
        if self._http.is_closed:
            raise _closed("ToraleClient")
        attempt = 0
        while True:
            try:
                return self._attempt(call)
            except (ConnectionError, RateLimitError) as exc:
                error: ToraleError = exc
            wait = self.settings.wait_before_retry(call, attempt, error)
            if wait is None:
                raise error
            time.sleep(wait)
            attempt += 1

    def _attempt(self, call: Call[T]) -> T:
        """One request, read in full within the deadline: httpx's timeout bounds each read,
        so a server dripping its answer byte by byte is cut off here between reads."""
        deadline = self.settings.deadline
        started = time.monotonic()
        try:
            with self._http.stream(
                call.method, call.url_path, **_request_options(call)
            ) as response:
                chunks = []
                for chunk in response.iter_bytes():
                    chunks.append(chunk)
                    if deadline is not None and time.monotonic() - started > deadline:
                        raise _deadline_error(call, deadline)
        except httpx.TransportError as exc:
            error = _transport_error(call, exc)
            raise error from (None if isinstance(exc, httpx.LocalProtocolError) else exc)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise _local_error(call, exc) from None
        return _read(call, response, b"".join(chunks))

    def close(self) -> None:
        self._http.close()


class AsyncTransport:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._http = httpx.AsyncClient(**settings.client_options())

    async def send(self, call: Call[T]) -> T:
        if self._http.is_closed:
            raise _closed("AsyncToraleClient")
        attempt = 0
        while True:
            try:
                return await self._attempt(call)
            except (ConnectionError, RateLimitError) as exc:
                error: ToraleError = exc
            wait = self.settings.wait_before_retry(call, attempt, error)
            if wait is None:
                raise error
            await asyncio.sleep(wait)
            attempt += 1

    async def _attempt(self, call: Call[T]) -> T:
        """One request, read in full within the deadline (the whole exchange is bounded)."""
        deadline = self.settings.deadline
        try:
            async with asyncio.timeout(deadline):
                response = await self._http.request(
                    call.method, call.url_path, **_request_options(call)
                )
        except builtins.TimeoutError:  # asyncio.timeout's, not httpx's
            raise _deadline_error(call, deadline or 0) from None
        except httpx.TransportError as exc:
            error = _transport_error(call, exc)
            raise error from (None if isinstance(exc, httpx.LocalProtocolError) else exc)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise _local_error(call, exc) from None
        return _read(call, response, response.content)

    async def close(self) -> None:
        await self._http.aclose()
