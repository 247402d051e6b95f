"""Which network addresses a notification may be sent to.

Every outbound connection a notifier makes (webhooks, Apprise HTTP targets) goes to an address
that `resolve_and_vet()` returned: the host is resolved once, every address it resolves to is
checked, and the caller connects to one of those exact addresses. Checking the *resolved*
address (not the URL's text) is what defeats hostnames like `localhost`, `127.1`,
`2130706433` or a public name whose DNS record points inside the network.

Categories and the operator's say over them:

- loopback, private (RFC 1918), unique-local (fc00::/7), CGNAT (100.64/10), link-local and a
  few special-purpose blocks are *private*: refused unless `TORALE_ALLOW_PRIVATE_WEBHOOKS` is on
  (local development, tests) or the address is inside `TORALE_WEBHOOK_ALLOWED_NETWORKS`;
- cloud metadata endpoints, multicast, unspecified and reserved/documentation addresses are
  refused always: no legitimate receiver lives there, and metadata endpoints hand out cloud
  credentials to whoever asks.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from executions_app.notifiers.base import DeliveryError, TargetRefused

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _nets(*cidrs: str) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(c) for c in cidrs)


# Instance-metadata services hand out credentials: never a target, whatever the settings.
METADATA = _nets(
    "169.254.169.254/32",  # AWS, GCP, Azure, OpenStack, DigitalOcean, ...
    "169.254.170.2/32",  # AWS ECS task metadata and credentials
    "169.254.170.23/32",  # AWS EKS Pod Identity agent
    "100.100.100.200/32",  # Alibaba Cloud
    "192.0.0.192/32",  # Oracle Cloud
    "fd00:ec2::254/128",  # AWS IMDS over IPv6
    "fd00:ec2::23/128",  # AWS EKS Pod Identity agent over IPv6
    "fd20:ce::254/128",  # GCP metadata over IPv6
)

# (label, networks, allowable): the first match names the address. `allowable` categories may be
# opened by the operator; the others never are.
CATEGORIES: tuple[tuple[str, tuple[IPNetwork, ...], bool], ...] = (
    ("cloud metadata", METADATA, False),
    ("unspecified", _nets("0.0.0.0/8", "::/128"), False),
    ("multicast", _nets("224.0.0.0/4", "ff00::/8"), False),
    ("loopback", _nets("127.0.0.0/8", "::1/128"), True),
    ("private", _nets("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"), True),
    ("unique-local", _nets("fc00::/7", "fec0::/10"), True),
    ("carrier-grade NAT", _nets("100.64.0.0/10"), True),
    ("link-local", _nets("169.254.0.0/16", "fe80::/10"), True),
    ("special-purpose", _nets("192.0.0.0/24", "198.18.0.0/15", "64:ff9b:1::/48"), True),
    (
        "reserved",
        _nets(
            "240.0.0.0/4",  # includes the broadcast address
            "192.0.2.0/24",  # documentation ranges: nothing real answers there
            "198.51.100.0/24",
            "203.0.113.0/24",
            "2001:db8::/32",
            "3fff::/20",
            "100::/64",  # discard-only
            "2001::/23",  # IETF protocol assignments, Teredo included
            "::/96",  # deprecated IPv4-compatible addresses
        ),
        False,
    ),
)

# IPv6 forms that carry an IPv4 address which is where the packets really go.
NAT64 = ipaddress.ip_network("64:ff9b::/96")
SIX_TO_FOUR = ipaddress.ip_network("2002::/16")


def embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address inside an IPv4-mapped, NAT64 or 6to4 IPv6 address, if any."""
    if ip.version != 6:
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in SIX_TO_FOUR:
        return ipaddress.IPv4Address((int(ip) >> 80) & 0xFFFFFFFF)
    return None


def classify(ip: IPAddress) -> tuple[str, bool] | None:
    """(category label, allowable) of a non-public address; None for a public one."""
    inner = embedded_ipv4(ip)
    if inner is not None:
        return classify(inner)
    for label, networks, allowable in CATEGORIES:
        if any(ip in net for net in networks):
            return label, allowable
    # Whatever else the standard library knows not to be globally routable.
    if not ip.is_global:
        return "reserved", False
    return None


@dataclass(frozen=True)
class AddressPolicy:
    """What the operator allows beyond public addresses."""

    allow_private: bool = False
    allowed_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_settings(cls) -> AddressPolicy:
        raw = getattr(settings, "TORALE_WEBHOOK_ALLOWED_NETWORKS", ())
        if isinstance(raw, str):
            raw = [part for part in raw.split(",") if part.strip()]
        return cls(
            allow_private=bool(getattr(settings, "TORALE_ALLOW_PRIVATE_WEBHOOKS", False)),
            allowed_networks=parse_networks(raw),
        )

    def refusal(self, ip: IPAddress) -> str | None:
        """Why `ip` may not be a target, or None when it may."""
        found = classify(ip)
        if found is None:
            return None
        label, allowable = found
        if allowable and (self.allow_private or self._in_allowed_networks(ip)):
            return None
        return f"{ip} is a {label} address"

    def _in_allowed_networks(self, ip: IPAddress) -> bool:
        candidates = [ip, embedded_ipv4(ip)]
        return any(c is not None and c in net for c in candidates for net in self.allowed_networks)


def parse_networks(values: Iterable[str]) -> tuple[IPNetwork, ...]:
    try:
        return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in values)
    except ValueError as exc:
        raise ImproperlyConfigured(f"TORALE_WEBHOOK_ALLOWED_NETWORKS: {exc}") from exc


# getaddrinfo() has no timeout of its own and a dead resolver can stall it for tens of seconds,
# so it runs on a small pool and the caller waits only as long as its deadline allows. Created
# lazily: a pool made before Celery forks its workers would have no threads in the children.
_resolver_pool: ThreadPoolExecutor | None = None
_resolver_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    global _resolver_pool
    with _resolver_lock:
        if _resolver_pool is None:
            _resolver_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="torale-dns")
        return _resolver_pool


def resolve(host: str, port: int, *, timeout: float) -> list[IPAddress]:
    """The distinct addresses of `host`, in resolver order. Raises DeliveryError."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass  # a name, not a literal address
    future = _pool().submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=max(timeout, 0.001))
    except FutureTimeout:
        raise DeliveryError(f"DNS lookup of {host} timed out", permanent=False) from None
    except socket.gaierror as exc:
        # EAI_AGAIN is the resolver failing; the others say the name does not exist.
        permanent = exc.errno != socket.EAI_AGAIN
        raise DeliveryError(f"DNS lookup of {host} failed: {exc.strerror}", permanent) from None
    except (OSError, UnicodeError) as exc:
        raise DeliveryError(f"DNS lookup of {host} failed: {exc}", permanent=True) from None
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        # Drop an IPv6 zone ("fe80::1%eth0"); the address itself is what gets checked.
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise DeliveryError(f"DNS lookup of {host} returned no address", permanent=False)
    return addresses


def resolve_and_vet(
    host: str, port: int, *, policy: AddressPolicy, timeout: float
) -> list[IPAddress]:
    """The addresses to connect to for `host`; raises TargetRefused if any of them is refused.

    One refused address refuses the host: a name that mixes public and internal records is
    either misconfigured or an attempt to reach the inside, and neither should be guessed at.
    """
    addresses = resolve(host, port, timeout=timeout)
    for ip in addresses:
        reason = policy.refusal(ip)
        if reason is not None:
            raise TargetRefused(f"Refused target {host}: {reason}")
    return addresses
