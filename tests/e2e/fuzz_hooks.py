"""Schemathesis hooks for tests/e2e/test_fuzz_api.py: generated requests that the
API can accept. The document cannot say everything a report must be (the client's
own force, times up to now, a child's date of birth, a known LA code), so generated
reports almost all failed those rules (403, 422), and the only report ever accepted
was the document's example. Each case generated as valid (positive) is brought within
those rules here, keeping everything else generated: its reference, names, places
and text. Cases generated as invalid are left as they are."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import schemathesis

FORCE = "KENT"  # the police client's, in test_fuzz_api.py
LA_CODE = "886"


@schemathesis.hook
def map_case(_: Any, case: Any) -> Any:
    meta = case.meta
    if meta is None or meta.generation.mode.is_negative:
        return case
    if not isinstance(case.body, dict):
        return case
    case.body = _storable(case.body)
    path, method = case.operation.path, case.method.upper()
    now = datetime.now(UTC)
    if (method, path) == ("POST", "/v1/missing-reports"):
        _report(case.body, now)
    elif (method, path) == ("POST", "/v1/episodes/{episode_id}/updates"):
        _update(case.body, now)
    elif (method, path) == ("POST", "/v1/episodes/{episode_id}/found"):
        case.body["found_at"] = _at(now - timedelta(minutes=1))
    elif (method, path) == ("PUT", "/v1/children/{la_child_id}"):
        case.body["placing_authority"] = LA_CODE
        case.body["date_of_birth"] = (now - timedelta(days=12 * 365)).date().isoformat()
    return case


def _report(body: dict[str, Any], now: datetime) -> None:
    missing_since = now - timedelta(hours=2)
    body["police_force"] = FORCE
    body["missing_since"] = _at(missing_since)
    body["reported_at"] = _at(missing_since + timedelta(minutes=30))
    if isinstance(body.get("child"), dict):
        born = missing_since - timedelta(days=12 * 365)
        body["child"]["date_of_birth"] = born.date().isoformat()
    if isinstance(body.get("placement"), dict):
        body["placement"]["placing_authority"] = LA_CODE


def _update(body: dict[str, Any], now: datetime) -> None:
    """An update must change something; a reason goes with a new grade."""
    body["received_at"] = _at(now - timedelta(minutes=1))
    if isinstance(body.get("sighting"), dict):
        body["sighting"]["seen_at"] = _at(now - timedelta(minutes=2))
    if not (body.get("police_risk_grade") or body.get("sighting")):
        body["information"] = body.get("information") or "Generated information"
    if body.get("reason") and not body.get("police_risk_grade"):
        body["police_risk_grade"] = "high"


def _storable(value: Any) -> Any:
    """Text as the API takes it (docs/api.md): no NUL, no lone surrogate, not blank
    by Python's reckoning. The document says "not blank" as a pattern, and its
    dialect's whitespace is narrower than Python's (U+0085, U+001F)."""
    if isinstance(value, dict):
        return {k: _storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(v) for v in value]
    if isinstance(value, str):
        kept = "".join(
            c for c in value if c != "\x00" and not 0xD800 <= ord(c) <= 0xDFFF
        )
        return kept if kept and not kept.isspace() else "x"
    return value


def _at(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
