"""Where a webhook may post (destinations.py): https to public hosts, unless a host
is on the allow-list; and which resolved addresses are public."""

from __future__ import annotations

import ipaddress

import pytest

from services.notifier.destinations import address_allowed, url_problem

LOOPBACK_ALLOWED = frozenset({"127.0.0.1", "localhost"})


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://169.254.169.254/latest/meta-data", "must be https"),
        ("https://169.254.169.254/latest/meta-data", "public host"),
        ("https://127.0.0.1:5432/", "public host"),
        ("https://[::1]:8000/hook", "public host"),
        ("https://[::ffff:10.0.0.1]/hook", "public host"),
        ("https://10.1.2.3/hook", "public host"),
        ("https://172.16.0.9/hook", "public host"),
        ("https://192.168.1.1/hook", "public host"),
        ("https://100.64.0.1/hook", "public host"),  # carrier-grade NAT
        ("https://0.0.0.0/hook", "public host"),
        ("https://224.0.0.1/hook", "public host"),
        ("https://localhost/hook", "public host"),
        ("https://metadata/computeMetadata", "public host"),  # one label: internal
        ("https://db.internal/hook", "public host"),
        ("https://printer.local/hook", "public host"),
        ("https://router.home.arpa/hook", "public host"),
        ("https://127.1/hook", "public host"),  # a resolver reads it as 127.0.0.1
        ("https://2130706433/hook", "public host"),  # and this too
        ("https://user:secret@hooks.partner.example/x", "credentials"),
        ("https://token@hooks.partner.example/x", "credentials"),
        ("http://hooks.partner.example/lantern", "must be https"),
        ("ftp://hooks.partner.example/x", "http or https URL"),
        ("https:///path", "http or https URL"),
        ("https://[::1/x", "http or https URL"),
        ("https://hooks.partner.example:99999/x", "http or https URL"),
        ("https://hooks.partner.example/a b", "http or https URL"),
    ],
)
def test_refused(url: str, why: str):
    problem = url_problem(url, frozenset())
    assert problem is not None and why in problem


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.partner.example/lantern",
        "https://HOOKS.Partner.Example:8443/lantern?team=west",
        "https://93.184.216.34/hook",
        "https://[2606:4700::1111]/hook",
    ],
)
def test_https_to_a_public_host_is_accepted(url: str):
    assert url_problem(url, frozenset()) is None


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9000/mcet", "http://LOCALHOST:9000/duty"]
)
def test_a_host_on_the_allow_list_may_be_anything_over_http_too(url: str):
    assert url_problem(url, LOOPBACK_ALLOWED) is None


def test_the_allow_list_never_allows_credentials():
    problem = url_problem("http://u:p@127.0.0.1:9000/mcet", LOOPBACK_ALLOWED)
    assert problem is not None and "credentials" in problem


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("93.184.216.34", True),
        ("2606:4700::1111", True),
        ("127.0.0.1", False),
        ("10.0.0.7", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),  # noqa: S104 - an address, not a binding
        ("239.1.2.3", False),
        ("255.255.255.255", False),
        ("::1", False),
        ("::", False),
        ("fe80::1", False),
        ("fd00::1", False),
        ("ff02::1", False),
        ("::ffff:127.0.0.1", False),
        ("2002:7f00:1::1", False),  # 6to4 around 127.0.0.1
        ("64:ff9b::a00:1", False),  # NAT64 around 10.0.0.1
        ("64:ff9b::5db8:d822", True),  # NAT64 around a public address
    ],
)
def test_resolved_addresses(address: str, allowed: bool):
    assert address_allowed(ipaddress.ip_address(address)) is allowed
