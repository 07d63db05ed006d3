"""The episode page, for staff: who the child is, the episode as it stands, the
current risk explained, and its timeline — every event about the episode in order,
with who or what caused it. The episode's own stream is intake's; the events other
services keep (the alerts, the return interview) come from the readers the
composition root registers (``Container.timeline_sources``), so intake imports
none of them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, cast

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from events.calendar import LONDON
from events.contracts.triage import RiskAssessed, RiskReassessed
from events.envelope import Envelope
from events.streams import Category, stream_name
from services.api.container import Container
from services.api.tables import people
from services.api.timeline import (
    TimelineEntry,
    age,
    in_order,
    person_ids,
    when,
    who,
    words,
)
from services.api.web.pages import Pages, StaffVisit
from services.intake import decide
from services.intake.timeline import episode_entries, police
from services.records.authorities import la_names

router = APIRouter(include_in_schema=False)
PAGES = Pages("services.intake")


@router.get("/episodes/{episode_id}")
async def episode_page(
    episode_id: uuid.UUID, request: Request, visit: StaffVisit
) -> HTMLResponse:
    deps: Container = request.app.state.container
    envelopes = await deps.store.read_stream(stream_name(Category.episode, episode_id))
    episode = decide.fold([e.event for e in envelopes])
    if episode is None:
        return PAGES.render(
            request, visit, "message.html.j2", title="Episode not found",
            message="There is no such episode. Check the link you followed.",
            link={"href": "/now", "label": "Go to open alerts"}, status_code=404,
        )  # fmt: skip
    entries = episode_entries(envelopes)
    for source in deps.timeline_sources:
        entries += await source(deps.store, episode_id)
    names = await _names(deps, person_ids(e.actor for e in entries))
    return PAGES.render(
        request,
        visit,
        "episode.html.j2",
        title="Episode",
        child=f"{episode.report.child.given_name} {episode.report.child.family_name}",
        summary=summary(episode, today=deps.now().astimezone(LONDON).date()),
        risk=current_risk(envelopes),
        timeline=[_row(e, names) for e in in_order(entries)],
    )


async def _names(deps: Container, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    query = select(people.c.person_id, people.c.name).where(people.c.person_id.in_(ids))
    return {row.person_id: row.name for row in await deps.store.select(query)}


def _row(entry: TimelineEntry, names: dict[uuid.UUID, str]) -> dict[str, str]:
    return {
        "when": when(entry.at),
        "at": entry.at.isoformat(),
        "what": entry.what,
        "detail": entry.detail,
        "who": who(entry.actor, names),
    }


def summary(episode: decide.Episode, *, today: date) -> list[tuple[str, str]]:
    """The summary's rows, in words: (key, value)."""
    report = episode.report
    child = report.child
    authority = report.placement.placing_authority
    rows = [
        ("Child", f"{child.given_name} {child.family_name}"),
        (
            "Date of birth",
            f"{child.date_of_birth.day} {child.date_of_birth:%B %Y}"
            f" (age {age(child.date_of_birth, today)})",
        ),
        (
            "Placing authority",
            f"{la_names().get(authority, 'Unknown authority')} ({authority})",
        ),
        (
            "Police",
            f"{police(report.police_force)}, reference {report.police_reference}",
        ),
        ("Episode type", _type_words(episode.current_type)),
        ("Status", _status_words(episode.status)),
        ("Police risk grade", words(episode.grade).capitalize()),
        ("Missing since", when(report.missing_since)),
    ]
    if episode.found_at is not None:
        rows.append(("Returned", when(episode.found_at)))
    return rows


def _type_words(kind: str) -> str:
    return {
        "missing": "Missing (whereabouts unknown)",
        "away": "Away from placement (whereabouts known)",
    }.get(kind, words(kind))


def _status_words(status: str) -> str:
    return {"open": "Open", "found": "Returned", "withdrawn": "Withdrawn"}.get(
        status, words(status).capitalize()
    )


ACRONYMS = {"mcet": "MCET", "cme": "CME", "cse": "CSE", "uasc": "UASC", "ola": "OLA"}


def _said(code: str, *, first: bool = False) -> str:
    """A policy's code in words, its acronyms as such: ``mcet_referral`` →
    ``MCET referral``; ``first``: as the start of a sentence."""
    said = " ".join(ACRONYMS.get(part, part) for part in code.split("_"))
    return said[:1].upper() + said[1:] if first else said


def current_risk(envelopes: Sequence[Envelope]) -> dict[str, Any] | None:
    """Triage's latest word, explained: the level, each factor with its source."""
    latest = None
    for envelope in envelopes:
        if envelope.type in (RiskAssessed.type_name, RiskReassessed.type_name):
            latest = cast(RiskAssessed, envelope.event)
    if latest is None:
        return None
    assessed_at: datetime = latest.assessed_at
    return {
        "level": latest.level.value,
        "level_words": words(latest.level).capitalize(),
        "score": latest.score,
        "assessed": when(assessed_at),
        "policy": latest.policy_version,
        "factors": [
            {
                "factor": _said(f.code, first=True),
                "source": _said(f.source),
                "evidence": f.evidence,
                "weight": f.weight,
                "exploitation": f.exploitation,
            }
            for f in latest.factors
        ],
        "actions": [_said(a, first=True) for a in latest.actions],
        "sources_missing": [_said(s) for s in latest.sources_missing],
    }
