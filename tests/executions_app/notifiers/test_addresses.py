"""Which addresses are targets: the classification behind every outbound connection."""

from __future__ import annotations

import ipaddress

import pytest
from django.core.exceptions import ImproperlyConfigured

from executions_app.notifiers.addresses import AddressPolicy, classify

STRICT = AddressPolicy()
OPEN = AddressPolicy(allow_private=True)


@pytest.mark.parametrize(
    "address, label",
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("fd12:3456::1", "unique-local"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("169.254.10.10", "link-local"),
        ("fe80::1", "link-local"),
        ("::ffff:10.0.0.1", "private"),  # IPv4-mapped
        ("64:ff9b::7f00:1", "loopback"),  # NAT64 of 127.0.0.1
        ("2002:c0a8:0101::1", "private"),  # 6to4 of 192.168.1.1
    ],
)
def test_private_addresses_are_refused_unless_the_operator_allows_them(address, label):
    ip = ipaddress.ip_address(address)
    assert classify(ip) == (label, True)
    assert STRICT.refusal(ip) == f"{ip} is a {label} address"
    assert OPEN.refusal(ip) is None


@pytest.mark.parametrize(
    "address, label",
    [
        ("169.254.169.254", "cloud metadata"),
        ("fd00:ec2::254", "cloud metadata"),
        ("::ffff:169.254.169.254", "cloud metadata"),
        ("100.100.100.200", "cloud metadata"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.251", "multicast"),
        ("ff02::1", "multicast"),
        ("255.255.255.255", "reserved"),
        ("240.0.0.1", "reserved"),
        ("192.0.2.10", "reserved"),
        ("2001:db8::1", "reserved"),
    ],
)
def test_metadata_multicast_unspecified_and_reserved_are_refused_always(address, label):
    ip = ipaddress.ip_address(address)
    assert classify(ip) == (label, False)
    assert OPEN.refusal(ip) is not None
    everything = AddressPolicy(
        allow_private=True, allowed_networks=(ipaddress.ip_network("0.0.0.0/0"),)
    )
    assert everything.refusal(ip) is not None


@pytest.mark.parametrize(
    "address", ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "64:ff9b::808:808"]
)
def test_public_addresses_are_targets(address):
    assert STRICT.refusal(ipaddress.ip_address(address)) is None


def test_allowed_networks_come_from_a_list_or_a_comma_separated_setting(settings):
    settings.TORALE_WEBHOOK_ALLOWED_NETWORKS = "10.1.0.0/16, 192.168.7.7"
    policy = AddressPolicy.from_settings()
    assert policy.refusal(ipaddress.ip_address("10.1.2.3")) is None
    assert policy.refusal(ipaddress.ip_address("::ffff:10.1.2.3")) is None
    assert policy.refusal(ipaddress.ip_address("192.168.7.7")) is None
    assert policy.refusal(ipaddress.ip_address("10.2.0.1")) is not None


def test_a_malformed_allowed_network_is_a_configuration_error(settings):
    settings.TORALE_WEBHOOK_ALLOWED_NETWORKS = ["10.0.0.0/33"]
    with pytest.raises(ImproperlyConfigured):
        AddressPolicy.from_settings()
