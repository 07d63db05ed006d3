"""Where a webhook may post: https to a public host, nothing else. Pure.

Shared by the alert webhooks (services/notifier) and the integrators' webhook
subscriptions (services/webhooks).

An integrator types a recipient's webhook URL, and Lantern POSTs to it from inside
the council's network. Without this rule the directory could aim Lantern at the
cloud's metadata service (169.254.169.254), the database's port or any private host,
or carry credentials in the URL to wherever it points. The rule is applied twice:
when an entry is recorded (a 422 or a CSV line naming `webhook_url`), and when a
message is sent, to every address the host resolves to then, since a name's
addresses can change after it was checked (channels/webhook.py connects to the
address it checked). Hosts on the allow-list
(`LANTERN_CHANNELS__WEBHOOK__ALLOWED_HOSTS`) are exempt, by name: tests and the demo
post to loopback over plain http.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Set
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
PRIVATE_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa")
"""Names that stay inside a network by design (RFC 6761, 6762 and 8375, and
ICANN's .internal)."""
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
NOT_A_URL = "is not an http or https URL with a host"


def url_problem(url: str, allowed_hosts: Set[str]) -> str | None:
    """Why a webhook may not post to ``url``, or None, as far as can be told before
    its host is resolved."""
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port  # a bad port raises too
    except ValueError:
        return NOT_A_URL
    if not host or parts.scheme not in ("http", "https"):
        return NOT_A_URL
    if any(c.isspace() for c in url):
        return NOT_A_URL
    if "@" in parts.netloc:
        return "must not carry credentials: Lantern signs each webhook instead"
    if host in allowed_hosts:
        return None
    if parts.scheme != "https":
        return "must be https"
    if not _public(host):
        return "must name a public host, not a private, local or reserved one"
    return None


def address_allowed(address: Address) -> bool:
    """A public unicast address: not private, loopback, link-local, multicast,
    reserved, unspecified or shared, nor an IPv6 address carrying one of those."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return address_allowed(embedded)
    return address.is_global and not address.is_multicast


def _public(host: str) -> bool:
    """An address literal that is public, or a name that can be one: a dotted
    name whose last label is not a number (``127.1`` and ``2130706433`` are
    loopback to a resolver) and that no network keeps to itself."""
    try:
        return address_allowed(ipaddress.ip_address(host))
    except ValueError:
        pass
    name = host.rstrip(".")
    labels = name.split(".")
    if len(labels) < 2 or labels[-1].isdigit():
        return False
    return not f".{name}".endswith(PRIVATE_SUFFIXES)
