"""Where a webhook may post: the rule moved to services/outbound/destinations.py,
shared with the webhook subscriptions; its names stay importable from here."""

from services.outbound.destinations import (
    NAT64,
    NOT_A_URL,
    PRIVATE_SUFFIXES,
    Address,
    address_allowed,
    url_problem,
)

__all__ = [
    "NAT64",
    "NOT_A_URL",
    "PRIVATE_SUFFIXES",
    "Address",
    "address_allowed",
    "url_problem",
]
