"""Every other service (Slack, Discord, Telegram, ntfy, Teams, ...) through an Apprise URL.

Apprise plugins make their own HTTP requests (with `requests`, hence urllib3), so safe_http
cannot carry them. The same address policy is applied one level down instead: while we send,
urllib3's connection factory resolves each host through `resolve_and_vet()` and connects only to
a vetted address. That covers the URL's host, any host the plugin talks to, every redirect
`requests` follows, and DNS rebinding. TLS still verifies the hostname (urllib3 passes it as
SNI). Outside our sends, urllib3 behaves exactly as before.

Plugins that do not speak HTTP through `requests` (SMTP, MQTT, XMPP, IRC, syslog, desktop
notifications on the worker itself, ...) would bypass that guard, so they are refused unless
the operator allows private targets altogether.

Apprise does not tell us what the receiver answered (no status code, only success or failure
and its log lines), so a failure cannot be told apart as permanent or transient: it is
reported as transient, with Apprise's own words, and the outbox's retry limit ends it.
"""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import apprise
import urllib3.util.connection

from executions_app.notifiers.addresses import AddressPolicy, resolve_and_vet
from executions_app.notifiers.base import (
    DeliveryError,
    Notification,
    Notifier,
    SendResult,
    TargetRefused,
    headline,
)
from executions_app.notifiers.safe_http import HttpLimits

BODY_MAX_SOURCES = 5


@dataclass(frozen=True)
class AppriseTarget:
    url: str

    def __repr__(self) -> str:  # Apprise URLs carry tokens and passwords
        return f"AppriseTarget(url='{self.url.split(':', 1)[0]}://***')"


def render_text(message: Notification) -> str:
    """The plain-text body: Apprise escapes it for services that take HTML or Markdown."""
    lines = [message.answer, "", f"Why: {message.reasoning}"]
    if message.grounding_sources:
        lines += ["", "Sources:"]
        lines += [
            f"- {s['title']}: {s['uri']}" if s["title"] else f"- {s['uri']}"
            for s in message.grounding_sources[:BODY_MAX_SOURCES]
        ]
    lines += ["", f"Task: {message.task_url}"]
    return "\n".join(lines)


class AppriseNotifier(Notifier[AppriseTarget]):
    kind = "apprise"

    def send(self, message: Notification, target: AppriseTarget) -> SendResult:
        policy = AddressPolicy.from_settings()
        limits = HttpLimits.from_settings()
        asset = _asset()
        service = load_service(target.url, policy=policy, asset=asset)
        # The URL may ask for longer (cto=, rto=); ours are the ceiling.
        service.socket_connect_timeout = min(
            float(service.socket_connect_timeout), limits.connect_timeout
        )
        service.socket_read_timeout = min(float(service.socket_read_timeout), limits.read_timeout)

        sender = apprise.Apprise(asset=asset)
        sender.add(service)
        with _guarded_connections(policy, limits.connect_timeout) as guard:
            result = sender.notify(
                title=headline(message),
                body=render_text(message),
                body_format=apprise.NotifyFormat.TEXT,
            )
        if guard.refusal:
            raise TargetRefused(guard.refusal)
        if result:
            return SendResult(detail=f"delivered by Apprise ({service.service_name})")
        raise DeliveryError(
            f"Apprise reported {result.status.name} for {service.service_name}"
            f"{_log_excerpt(result)} (Apprise returns only success or failure, no status "
            "code, so this is treated as transient)",
            permanent=False,
        )


# Plugins whose URL host is the receiver itself (generic JSON/XML/form posts): their host is
# checked when the URL is saved, not only when sending.
SELF_HOSTED_PROTOCOLS = {"json", "jsons", "xml", "xmls", "form", "forms"}


def _asset() -> apprise.AppriseAsset:
    # Synchronous, in this thread, with no Apprise-level deadline: a deadline would make
    # Apprise abandon a slow send that may still deliver later, and then we'd send twice.
    return apprise.AppriseAsset(async_mode=False, service_timeout=0)


def load_service(url: str, *, policy: AddressPolicy, asset: Any = None) -> Any:
    """The Apprise plugin for `url`; TargetRefused/DeliveryError when it cannot be a target."""
    service = apprise.Apprise.instantiate(url, asset=asset or _asset())
    if service is None:
        raise DeliveryError("Apprise does not understand this URL", permanent=True)
    if not _speaks_http(service) and not policy.allow_private:
        raise TargetRefused(
            f"Refused Apprise service {service.service_name!r}: it does not use HTTP, "
            "so its addresses cannot be checked"
        )
    return service


def check_url(url: str, *, policy: AddressPolicy | None = None) -> str:
    """Validate an Apprise URL as it is saved; returns its display form, tokens masked.

    Raises DeliveryError (TargetRefused for a forbidden address) with the reason.
    """
    policy = policy or AddressPolicy.from_settings()
    service = load_service(url, policy=policy)
    protocols = _protocols(service)
    host = getattr(service, "host", None)
    if host and protocols & SELF_HOSTED_PROTOCOLS:
        try:
            resolve_and_vet(
                str(host),
                int(getattr(service, "port", None) or 443),
                policy=policy,
                timeout=HttpLimits.from_settings().connect_timeout,
            )
        except TargetRefused:
            raise
        except DeliveryError:
            pass  # unresolvable right now: checked again, for good, when sending
    return display_url(service)


def display_url(service: Any) -> str:
    """The service's URL with passwords and tokens masked: Apprise's privacy mode, then also
    the user part (some services take their token there) and the parameters that may carry
    secrets (custom headers `+X-…`, payload fields `-…`, names like key, token, secret)."""
    try:
        text = _mask_the_rest(str(service.url(privacy=True)))
    except Exception:  # a plugin's url() is third-party code; the kind is enough to show
        text = f"{_first(_protocols(service)) or 'apprise'}://***"
    return text if len(text) <= 300 else text[:299] + "…"


_SECRET_PARAM = re.compile(r"^[+\-:]|key|token|secret|pass|auth|sig|cred|session", re.I)


def _mask_the_rest(url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        password = ":****" if ":" in userinfo else ""
        netloc = f"***{password}@{host}"
    query = "&".join(
        f"{name}={'***' if value and _SECRET_PARAM.search(unquote(name)) else value}"
        if sep
        else name
        for name, sep, value in (item.partition("=") for item in parts.query.split("&") if item)
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def _protocols(service: Any) -> set[str]:
    found: set[str] = set()
    for attr in ("protocol", "secure_protocol"):
        value = getattr(service, attr, None)
        if isinstance(value, str):
            found.add(value.lower())
        elif isinstance(value, (list, tuple, set)):
            found.update(str(v).lower() for v in value)
    return found


def _first(values: set[str]) -> str | None:
    return sorted(values)[0] if values else None


def _speaks_http(service: Any) -> bool:
    # The plugins that make their requests with `requests`, i.e. through the guarded urllib3.
    module = sys.modules.get(type(service).__module__)
    return module is not None and getattr(module, "requests", None) is not None


def _log_excerpt(result: Any, limit: int = 300) -> str:
    messages = [entry.message for entry in result.logs() if entry.level in {"WARNING", "ERROR"}]
    text = " | ".join(messages[-2:])
    if not text:
        return ""
    return ": " + (text if len(text) <= limit else text[: limit - 1] + "…")


# --- The connection guard --------------------------------------------------------------------


@dataclass
class _Guard:
    policy: AddressPolicy
    timeout: float
    refusal: str | None = None  # the first refused target, to report it as such


_active_guard: ContextVar[_Guard | None] = ContextVar("torale_apprise_guard", default=None)
_original_create_connection = urllib3.util.connection.create_connection
_install_lock = threading.Lock()


def _guarded_create_connection(
    address: tuple[str, int],
    timeout: Any = urllib3.util.connection._DEFAULT_TIMEOUT,
    source_address: Any = None,
    socket_options: Any = None,
) -> Any:
    """urllib3's create_connection, resolving and vetting the host while a guard is active."""
    guard = _active_guard.get()
    if guard is None:
        return _original_create_connection(address, timeout, source_address, socket_options)
    host, port = address
    try:
        addresses = resolve_and_vet(host, port, policy=guard.policy, timeout=guard.timeout)
    except TargetRefused as exc:
        guard.refusal = guard.refusal or exc.message
        raise OSError(exc.message) from None  # urllib3 reports it as a failed connection
    except DeliveryError as exc:
        raise OSError(exc.message) from None
    failure: OSError | None = None
    for ip in addresses:
        try:
            return _original_create_connection(
                (str(ip), port), timeout, source_address, socket_options
            )
        except OSError as exc:
            failure = exc
    assert failure is not None
    raise failure


@contextmanager
def _guarded_connections(policy: AddressPolicy, timeout: float) -> Iterator[_Guard]:
    """Within this block (and threads started with a copy of its context), every urllib3
    connection goes through the address policy."""
    with _install_lock:
        # urllib3 looks the function up on its module at every connect, so replacing it there
        # once covers every connection pool. Unguarded callers get the original behaviour.
        urllib3.util.connection.create_connection = _guarded_create_connection
    guard = _Guard(policy, timeout)
    token = _active_guard.set(guard)
    try:
        yield guard
    finally:
        _active_guard.reset(token)
