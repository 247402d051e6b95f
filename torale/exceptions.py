"""Errors the Python SDK raises (the server's own domain errors live in torale.errors).

Every answer of the API that is not a success becomes one of these, chosen by its status:
401 AuthenticationError, 403 ForbiddenError, 404 NotFoundError, 409 ConflictError,
422 ValidationError, 429 RateLimitError, 5xx ServerError, other 4xx BadRequestError.
A request that never got an answer is a ConnectionError (a TimeoutError when it timed out);
a redirect is a RedirectError, an answer the SDK cannot read a ResponseError, and a call on a
closed client a ClientClosedError. Messages never hold the API key or any header value.
"""

from __future__ import annotations

import builtins
from typing import Any

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ConflictError",
    "ConnectionError",
    "ForbiddenError",
    "NotFoundError",
    "RateLimitError",
    "RedirectError",
    "ResponseError",
    "ServerError",
    "TimeoutError",
    "ToraleError",
    "ValidationError",
    "error_for_status",
]


class ToraleError(Exception):
    """Base class. `status_code` is the HTTP status (None without an answer) and `detail` the
    server's `detail`: a sentence, or for a 422 the list of `{"loc", "msg", "type"}` items."""

    def __init__(
        self,
        detail: Any,
        *,
        status_code: int | None = None,
        headers: dict[str, str] | None = None,
    ):
        self.detail = detail
        self.status_code = status_code
        self.headers = dict(headers or {})
        super().__init__(self._message())

    def _message(self) -> str:
        prefix = f"{self.status_code}: " if self.status_code is not None else ""
        return f"{prefix}{self.detail}"


class BadRequestError(ToraleError):
    """A 4xx without a class of its own: 400 (e.g. an invalid state transition), 413…"""


class AuthenticationError(ToraleError):
    """401: the API key is missing, unknown or revoked."""


class ForbiddenError(ToraleError):
    """403: the task (or execution) belongs to another user."""


class NotFoundError(ToraleError):
    """404: no such task, execution or send."""


class ConflictError(ToraleError):
    """409: e.g. a run of the task is already in flight (execute with force=True)."""


class ValidationError(ToraleError):
    """422: `detail` is the server's list of `{"loc": [...], "msg": "...", "type": "..."}`."""

    @property
    def errors(self) -> list[dict[str, Any]]:
        """The items of `detail` (an empty list if the server sent a sentence instead)."""
        return self.detail if isinstance(self.detail, list) else []

    def _message(self) -> str:
        if not self.errors:
            return super()._message()
        parts = [
            f"{'.'.join(str(p) for p in item.get('loc', []))}: {item.get('msg')}"
            for item in self.errors
        ]
        return f"{self.status_code}: " + "; ".join(parts)


class RateLimitError(ToraleError):
    """429: over a rate limit; `retry_after` is how many seconds to wait (None if unknown)."""

    def __init__(self, detail: Any, *, retry_after: int | None = None, **kwargs: Any):
        self.retry_after = retry_after
        super().__init__(detail, **kwargs)


class ServerError(ToraleError):
    """5xx: the server, or the search provider behind it, failed (502/503/504 from preview
    and suggest carry the provider's reason in `detail`)."""


class ConnectionError(ToraleError, builtins.ConnectionError):  # noqa: A001 - the SDK's own
    """No answer: the connection failed, dropped or timed out. `status_code` is None.

    It is also a builtin ConnectionError (an OSError), so `except ConnectionError` works
    whichever of the two a caller imported."""


class TimeoutError(ConnectionError, builtins.TimeoutError):  # noqa: A001 - the SDK's own
    """No complete answer within the client's `timeout` (connecting, sending or reading)."""


class RedirectError(ToraleError):
    """A 3xx: the SDK never follows redirects (they could carry the API key to another
    host), so `base_url` is probably wrong (http instead of https, another host…).
    `location` is where the server pointed (None if it did not say)."""

    def __init__(self, detail: Any, *, location: str | None = None, **kwargs: Any):
        self.location = location
        super().__init__(detail, **kwargs)


class ResponseError(ToraleError):
    """A success status whose body is not what the API documents (not JSON, the wrong shape,
    a required field missing): usually `base_url` points at something other than Torale."""


class ClientClosedError(ToraleError, RuntimeError):
    """A call on a client after close(): create a new client."""


_BY_STATUS: dict[int, type[ToraleError]] = {
    401: AuthenticationError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    422: ValidationError,
}


def _retry_after(headers: dict[str, str], body: Any) -> int | None:
    """Seconds from the body's `retry_after`, else the Retry-After header (delta form)."""
    if isinstance(body, dict) and isinstance(body.get("retry_after"), int):
        return body["retry_after"]
    raw = headers.get("retry-after")
    if raw is not None and raw.strip().isdigit():
        return int(raw.strip())
    return None


def error_for_status(status_code: int, body: Any, headers: dict[str, str]) -> ToraleError:
    """The exception for an error answer with this status, JSON body and (lower-cased)
    headers."""
    detail = body.get("detail", body) if isinstance(body, dict) else body
    if status_code == 429:
        return RateLimitError(
            detail,
            retry_after=_retry_after(headers, body),
            status_code=status_code,
            headers=headers,
        )
    if status_code >= 500:
        cls: type[ToraleError] = ServerError
    else:
        cls = _BY_STATUS.get(status_code, BadRequestError)
    return cls(detail, status_code=status_code, headers=headers)
