"""Outbound HTTP to user-supplied URLs (webhooks), safe against server-side request forgery.

How it works, and why httpx:

- httpx builds and parses the HTTP messages (headers, URL joining, basic auth from the URL, the
  response object). Underneath it, httpcore opens connections through a *network backend*;
  ours (`transport.GuardedBackend`) is the only place a hostname is turned into an address. It
  resolves the host, refuses it if any address is not allowed (see `addresses`), and connects
  to one of the vetted addresses itself, so a DNS answer that changes between the check and the
  connect (rebinding) cannot switch the target: nothing resolves the name a second time.
- TLS still runs against the hostname: httpcore wraps the vetted socket with the URL's host as
  SNI and the certificate is verified for that name.
- Redirects are followed here, not by httpx, at most `max_redirects` times; every hop goes
  through the same backend, so each new host is resolved and vetted again. Only http and https
  are followed, and never from https down to http. Credentials headers stay with their origin.
- Timeouts: connect and read timeouts per socket operation, and a total deadline that also
  bounds every read, so a receiver that trickles one byte at a time cannot hold a worker.
- At most `max_response_bytes` of a body are read (uncompressed: we ask for identity encoding
  and read raw bytes), the rest is dropped with the connection.
- Proxies, netrc and certificate paths from the environment are ignored (`trust_env=False`): a
  proxy would resolve the name itself, beyond our check.

The standard library could do the same with http.client subclasses, but httpcore's backend
interface is a documented seam made for exactly this, and it gives us a tested HTTP/1.1
implementation with per-operation timeouts.
"""

from __future__ import annotations

import logging
import ssl
import time
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import httpcore
import httpx
from django.conf import settings
from django.utils import timezone

from executions_app.notifiers.addresses import AddressPolicy, resolve_and_vet
from executions_app.notifiers.base import DeliveryError, TargetRefused
from executions_app.notifiers.transport import (
    GuardedBackend,
    GuardedTransport,
    default_ssl_context,
)

REDIRECT_CODES = {301, 302, 303, 307, 308}
# The redirects that resend the same method and body.
BODY_KEEPING_REDIRECTS = {307, 308}
ALLOWED_SCHEMES = {"http", "https"}
CREDENTIAL_HEADERS = {"authorization", "cookie", "proxy-authorization"}

_in_request: ContextVar[bool] = ContextVar("torale_safe_http_request", default=False)


class _HideUserUrls(logging.Filter):
    """httpx logs every request's full URL at INFO, and a user's webhook URL often carries a
    token: its lines are dropped while we send (the outbox logs the outcome without the URL).
    Other httpx clients (the Gemini SDK) keep their log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not _in_request.get()


logging.getLogger("httpx").addFilter(_HideUserUrls())


@dataclass(frozen=True)
class HttpLimits:
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    total_timeout: float = 30.0
    max_redirects: int = 3
    max_response_bytes: int = 64 * 1024

    @classmethod
    def from_settings(cls) -> HttpLimits:
        default = cls()
        return cls(
            connect_timeout=float(
                getattr(settings, "TORALE_WEBHOOK_CONNECT_TIMEOUT_SECONDS", default.connect_timeout)
            ),
            read_timeout=float(
                getattr(settings, "TORALE_WEBHOOK_READ_TIMEOUT_SECONDS", default.read_timeout)
            ),
            total_timeout=float(
                getattr(settings, "TORALE_WEBHOOK_TOTAL_TIMEOUT_SECONDS", default.total_timeout)
            ),
            max_redirects=int(
                getattr(settings, "TORALE_WEBHOOK_MAX_REDIRECTS", default.max_redirects)
            ),
            max_response_bytes=int(
                getattr(settings, "TORALE_WEBHOOK_MAX_RESPONSE_BYTES", default.max_response_bytes)
            ),
        )


@dataclass(frozen=True)
class HttpResponse:
    """A 2xx answer. `body` holds at most max_response_bytes; `url` is the final URL."""

    status_code: int
    headers: httpx.Headers
    body: bytes
    truncated: bool
    url: str

    def excerpt(self, limit: int = 200) -> str:
        return _excerpt(self.body, limit)


def post(
    url: str,
    *,
    content: bytes,
    headers: Mapping[str, str] | None = None,
    policy: AddressPolicy | None = None,
    limits: HttpLimits | None = None,
    verify: ssl.SSLContext | None = None,
) -> HttpResponse:
    """POST `content` to `url`; returns the 2xx answer, raises DeliveryError otherwise."""
    return request(
        "POST", url, content=content, headers=headers, policy=policy, limits=limits, verify=verify
    )


def get(
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    policy: AddressPolicy | None = None,
    limits: HttpLimits | None = None,
    verify: ssl.SSLContext | None = None,
) -> HttpResponse:
    """GET `url`; returns the 2xx answer, raises DeliveryError otherwise."""
    return request("GET", url, headers=headers, policy=policy, limits=limits, verify=verify)


def check_url(url: str, *, policy: AddressPolicy | None = None, timeout: float = 5.0) -> None:
    """Raises TargetRefused (or DeliveryError when DNS fails) if `url` could not be a target.

    For validating a URL when a user saves it; `request()` checks again at send time.
    """
    parsed = _parse(url)
    policy = policy or AddressPolicy.from_settings()
    resolve_and_vet(_host(parsed), _port(parsed), policy=policy, timeout=timeout)


def request(
    method: str,
    url: str,
    *,
    content: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    policy: AddressPolicy | None = None,
    limits: HttpLimits | None = None,
    verify: ssl.SSLContext | None = None,
) -> HttpResponse:
    """Send one request, following redirects; returns the 2xx answer, raises DeliveryError.

    Network errors, timeouts, 5xx and 429 are transient; refused targets, other 4xx, too many
    redirects and unusable URLs are permanent. `verify` replaces the default CA bundle.
    """
    token = _in_request.set(True)
    try:
        return _request(method, url, content, headers, policy, limits, verify)
    finally:
        _in_request.reset(token)


def _request(
    method: str,
    url: str,
    content: bytes | None,
    headers: Mapping[str, str] | None,
    policy: AddressPolicy | None,
    limits: HttpLimits | None,
    verify: ssl.SSLContext | None,
) -> HttpResponse:
    policy = policy or AddressPolicy.from_settings()
    limits = limits or HttpLimits.from_settings()
    deadline = time.monotonic() + limits.total_timeout
    backend = GuardedBackend(policy, deadline)
    current = _parse(url)
    with httpx.Client(
        transport=GuardedTransport(backend, verify or default_ssl_context()),
        trust_env=False,
        follow_redirects=False,
        timeout=httpx.Timeout(limits.read_timeout, connect=limits.connect_timeout),
    ) as client:
        for hop in range(limits.max_redirects + 1):
            status, response_headers, body, truncated = _exchange(
                client, method, current, content, headers, limits, deadline
            )
            location = response_headers.get("location")
            if status not in REDIRECT_CODES or not location:
                return _accept(status, response_headers, body, truncated, current)
            if status not in BODY_KEEPING_REDIRECTS and method != "GET":
                # 301/302/303 would turn the POST into a GET: the event would never arrive,
                # yet the GET's answer would read as delivered.
                raise DeliveryError(
                    f"Receiver answered {status} redirecting to {location[:200]}: only 307 and "
                    "308 redirects keep the request; use the final URL",
                    permanent=True,
                    status_code=status,
                )
            if hop == limits.max_redirects:
                raise DeliveryError(
                    f"Too many redirects (more than {limits.max_redirects})",
                    permanent=True,
                    status_code=status,
                )
            target = _redirect_target(current, location)
            if _origin(target) != _origin(current):
                # Credentials meant for one host are not handed to the next.
                headers = {
                    k: v for k, v in (headers or {}).items() if k.lower() not in CREDENTIAL_HEADERS
                }
            current = target
    raise AssertionError("unreachable")  # the loop returns or raises


def _exchange(
    client: httpx.Client,
    method: str,
    url: httpx.URL,
    content: bytes | None,
    headers: Mapping[str, str] | None,
    limits: HttpLimits,
    deadline: float,
) -> tuple[int, httpx.Headers, bytes, bool]:
    """One request/response, no redirects: (status, headers, capped body, truncated)."""
    # Raw bytes only: a compressed body could expand far past the size cap.
    sent_headers = {**(headers or {}), "Accept-Encoding": "identity"}
    try:
        with client.stream(method, url, content=content, headers=sent_headers) as response:
            body, truncated = _read_capped(response.iter_raw(), limits.max_response_bytes)
            return response.status_code, response.headers, body, truncated
    except DeliveryError:
        raise
    except (httpx.TimeoutException, httpcore.TimeoutException) as exc:
        remaining = deadline - time.monotonic()
        which = "total" if remaining <= 0 else type(exc).__name__
        raise DeliveryError(f"Request to {url.host} timed out ({which})", permanent=False) from None
    except (httpx.TransportError, httpcore.NetworkError, httpcore.ProtocolError) as exc:
        reason = str(exc) or type(exc).__name__
        raise DeliveryError(f"Request to {url.host} failed: {reason}", permanent=False) from None


def _read_capped(chunks: Iterator[bytes], cap: int) -> tuple[bytes, bool]:
    body = bytearray()
    for chunk in chunks:
        if len(body) + len(chunk) > cap:
            body += chunk[: cap - len(body)]
            return bytes(body), True
        body += chunk
    return bytes(body), False


def _accept(
    status: int, headers: httpx.Headers, body: bytes, truncated: bool, url: httpx.URL
) -> HttpResponse:
    if 200 <= status < 300:
        return HttpResponse(status, headers, body, truncated, str(url))
    answer = f"Receiver answered {status}"
    if text := _excerpt(body, 200):
        answer = f"{answer}: {text}"
    if status == 429 or status >= 500:
        retry_after = _retry_after(headers.get("retry-after"))
        raise DeliveryError(answer, permanent=False, status_code=status, retry_after=retry_after)
    # Other 4xx, and 1xx/3xx that are not usable answers: resending the same request won't help.
    raise DeliveryError(answer, permanent=True, status_code=status)


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - timezone.now()).total_seconds())


def _excerpt(body: bytes, limit: int) -> str:
    text = body[: limit * 4].decode("utf-8", errors="replace")
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _parse(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise TargetRefused(f"Invalid URL: {exc}") from None
    if parsed.scheme not in ALLOWED_SCHEMES:
        raise TargetRefused(f"Refused URL scheme {parsed.scheme!r}: only http and https")
    if not parsed.host:
        raise TargetRefused("Invalid URL: no host")
    return parsed


def _redirect_target(current: httpx.URL, location: str) -> httpx.URL:
    try:
        target = current.join(location)
    except httpx.InvalidURL as exc:
        raise TargetRefused(f"Invalid redirect location: {exc}") from None
    if current.scheme == "https" and target.scheme == "http":
        raise TargetRefused("Refused redirect from https to http")
    return _parse(str(target))


def _host(url: httpx.URL) -> str:
    return url.raw_host.decode("ascii")


def _port(url: httpx.URL) -> int:
    return url.port or (443 if url.scheme == "https" else 80)


def _origin(url: httpx.URL) -> tuple[str, str, int]:
    return url.scheme, _host(url), _port(url)
