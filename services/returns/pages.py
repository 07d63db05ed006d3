"""The return interviews' pages for staff: the interviews still to do (overdue, due
today, coming up), and the form that records one's outcome.

The form's rules are the API's: the posted form becomes the API's body
(``ReturnInterviewPut``) and goes through the same command (recording.py), so a
form can record nothing the API would refuse, and each refusal is shown by its
field with the API's words."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy import select
from starlette.datastructures import FormData

from events.calendar import LONDON
from events.contracts.missing import MissingReported
from events.contracts.returns import Concern, Deadline, OfferedBy
from events.store.sql import SqlEventStore
from events.streams import Category, stream_name
from services.api.container import Container
from services.api.web.pages import Pages, StaffVisit
from services.returns import interview, reasons, recording
from services.returns.schemas import ReturnInterviewPut
from services.returns.tables import return_interviews

router = APIRouter(include_in_schema=False)
PAGES = Pages("services.returns")
TITLE = "Return interview"
SHOWN = 200
"""At most this many interviews to do are listed, the oldest deadline first."""

OFFERED_BY = {
    OfferedBy.social_worker: "A social worker",
    OfferedBy.independent_provider: "An independent provider",
}
CONCERNS = {
    Concern.cse: "Child sexual exploitation",
    Concern.cce: "Child criminal exploitation",
    Concern.trafficking: "Trafficking",
    Concern.gangs: "Gangs",
}
FIELDS = {
    "offered": ("offered", "Offered"),
    "offered_at": ("offered_at-day", "Date offered"),
    "offered_by": ("offered_by", "Offered by"),
    "accepted": ("accepted", "Accepted"),
    "completed_at": ("completed_at-day", "Date completed"),
    "reasons": ("reasons", "Reasons"),
    "concerns": ("concerns", "Concerns"),
    "notes": ("notes", "Notes"),
}
"""Each of the API's fields: the form's element an error links to, and its label."""
WHEN_PARTS = ("day", "month", "year", "time")
TIME = re.compile(r"^\s*(\d{1,2})[:.](\d{2})\s*$")
NOT_A_TIME = "is not a date and time (day, month, year, and a time such as 14:30)"


EpisodeId = Annotated[uuid.UUID, Path()]


def _deps(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


# --- the list ------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    episode_id: uuid.UUID
    child: str
    returned_at: datetime
    deadline: str
    status: str
    section: str


def deadline_day(overdue_at: datetime) -> date:
    """The London day the enforced deadline falls on (its last instant's day)."""
    return (overdue_at - timedelta(microseconds=1)).astimezone(LONDON).date()


def section_of(
    status: str, overdue_at: datetime, now: datetime
) -> str:  # overdue, today or later
    if status == "overdue" or overdue_at <= now:
        return "overdue"
    today = now.astimezone(LONDON).date()
    return "today" if deadline_day(overdue_at) == today else "later"


def shown_when(at: datetime) -> str:
    return f"{at.astimezone(LONDON):%-d %b %Y, %H:%M}"


def shown_deadline(deadline: str, due_date: date, due_72h_at: datetime) -> str:
    if deadline == Deadline.hours_72:
        return f"By {shown_when(due_72h_at)} (72 hours)"
    return f"{due_date:%a %-d %b %Y} (3 working days)"


async def child_name(store: SqlEventStore, episode_id: uuid.UUID) -> str:
    """The child's name as the police reported it (the episode's first event)."""
    for envelope in await store.read_stream(stream_name(Category.episode, episode_id)):
        if isinstance(envelope.event, MissingReported):
            child = envelope.event.child
            return f"{child.given_name} {child.family_name}"
    return "Not known"


def progress(i: interview.Interview) -> str:
    if i.accepted:
        return "Accepted, not yet completed"
    if i.offered_at is not None:
        return f"Offered {shown_when(i.offered_at)}, no answer yet"
    return "Not offered"


async def rows(store: SqlEventStore, now: datetime) -> list[Row]:
    query = (
        select(return_interviews)
        .where(return_interviews.c.status.in_(("due", "overdue")))
        .order_by(return_interviews.c.overdue_at, return_interviews.c.episode_id)
        .limit(SHOWN)
    )
    found: list[Row] = []
    for r in await store.select(query):
        current, _ = await recording.current(store, r.episode_id)
        found.append(
            Row(
                episode_id=r.episode_id,
                child=await child_name(store, r.episode_id),
                returned_at=r.returned_at,
                deadline=shown_deadline(r.deadline, r.due_date, r.due_72h_at),
                status=progress(current),
                section=section_of(r.status, r.overdue_at, now),
            )
        )
    return found


@router.get("/return-interviews", response_class=HTMLResponse)
async def interviews_page(
    request: Request, visit: StaffVisit, recorded: bool = False
) -> Response:
    deps = _deps(request)
    listed = await rows(deps.store, deps.now())
    sections = [
        ("overdue", "Overdue", "The deadline to offer the interview has passed."),
        ("today", "Due today", "The deadline is the end of today."),
        ("later", "Coming up", "Due after today."),
    ]
    return PAGES.render(
        request,
        visit,
        "interviews.html.j2",
        title="Return interviews",
        sections=[
            {
                "id": key,
                "heading": heading,
                "hint": hint,
                "rows": [r for r in listed if r.section == key],
            }
            for key, heading, hint in sections
        ],
        recorded=recorded,
        shown=SHOWN,
        when=shown_when,
    )


# --- the form ------------------------------------------------------------------


def _when_parts(at: datetime | None) -> dict[str, str]:
    if at is None:
        return dict.fromkeys(WHEN_PARTS, "")
    local = at.astimezone(LONDON)
    return {
        "day": str(local.day),
        "month": str(local.month),
        "year": str(local.year),
        "time": f"{local:%H:%M}",
    }


def values_of(i: interview.Interview) -> dict[str, Any]:
    """The form filled in as recorded: the whole interview, as the API's body is."""
    return {
        "offered": "yes" if i.offered_at is not None else "no",
        "offered_at": _when_parts(i.offered_at),
        "offered_by": i.offered_by.value if i.offered_by else "",
        "accepted": {True: "yes", False: "no", None: ""}[i.accepted],
        "completed_at": _when_parts(i.completed_at),
        "reasons": list(i.reasons),
        "concerns": [c.value for c in i.concerns],
        "notes": i.notes or "",
    }


def values_posted(form: FormData) -> dict[str, Any]:
    def text(name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""

    return {
        "offered": text("offered"),
        "offered_at": {p: text(f"offered_at-{p}") for p in WHEN_PARTS},
        "offered_by": text("offered_by"),
        "accepted": text("accepted"),
        "completed_at": {p: text(f"completed_at-{p}") for p in WHEN_PARTS},
        "reasons": [v for v in form.getlist("reasons") if isinstance(v, str)],
        "concerns": [v for v in form.getlist("concerns") if isinstance(v, str)],
        "notes": text("notes"),
    }


def parse_when(parts: Mapping[str, str], recorded: datetime | None) -> datetime | None:
    """A London date and time, or None when all blank; ValueError when not one. The
    minute shown for what is recorded stands for it (the form has no seconds)."""
    if not any(v.strip() for v in parts.values()):
        return None
    clock = TIME.match(parts["time"])
    if clock is None:
        raise ValueError(NOT_A_TIME)
    at = datetime(
        int(parts["year"]),
        int(parts["month"]),
        int(parts["day"]),
        int(clock[1]),
        int(clock[2]),
        tzinfo=LONDON,
    )
    if recorded is not None and _when_parts(recorded) == _when_parts(at):
        return recorded
    return at


def body_of(
    values: Mapping[str, Any], i: interview.Interview
) -> tuple[ReturnInterviewPut | None, list[interview.Problem]]:
    """The API's body from the form, or the problems, named as the API names them."""
    raw: dict[str, Any] = {
        "offered": values["offered"] == "yes",
        "offered_by": values["offered_by"] or None,
        "accepted": {"yes": True, "no": False}.get(values["accepted"]),
        "reasons": values["reasons"],
        "concerns": values["concerns"],
        "notes": values["notes"] if values["notes"].strip() else None,
    }
    found: list[interview.Problem] = []
    for name, recorded in (
        ("offered_at", i.offered_at),
        ("completed_at", i.completed_at),
    ):
        try:
            raw[name] = parse_when(values[name], recorded)
        except (ValueError, OverflowError):
            found.append((name, NOT_A_TIME))
    try:
        body = ReturnInterviewPut.model_validate(raw)
    except ValidationError as invalid:
        found += [(".".join(map(str, e["loc"])), e["msg"]) for e in invalid.errors()]
        return None, found
    return (None if found else body), found


def field_errors(problems: Sequence[interview.Problem]) -> dict[str, str]:
    """By the form's field: the API's field's label and the API's reason (the first,
    when a field has several)."""
    errors: dict[str, str] = {}
    for name, reason in problems:
        field = re.split(r"[.\[]", name, maxsplit=1)[0]
        label = FIELDS.get(field, (field, field.capitalize()))[1]
        errors.setdefault(field if field in FIELDS else "offered", f"{label} {reason}")
    return errors


async def _form(
    request: Request,
    visit: StaffVisit,
    episode_id: uuid.UUID,
    current: interview.Interview,
    values: Mapping[str, Any],
    problems: Sequence[interview.Problem] = (),
) -> HTMLResponse:
    deps = _deps(request)
    errors = field_errors(problems)
    return PAGES.render(
        request,
        visit,
        "interview.html.j2",
        title=TITLE,
        status_code=422 if problems else 200,
        episode_id=episode_id,
        child=await child_name(deps.store, episode_id),
        i=current,
        returned=shown_when(current.opened.returned_at),
        deadline=shown_deadline(
            current.opened.deadline, current.opened.due_date, current.opened.due_72h_at
        ),
        overdue=current.overdue or current.opened.overdue_at <= deps.now(),
        v=values,
        field_errors=errors,
        errors={FIELDS[f][0]: m for f, m in errors.items()},
        groups=[
            (name, [(code, reasons.REASONS[code]) for code in codes])
            for name, codes in reasons.GROUPS
        ],
        offered_by=[(k.value, label) for k, label in OFFERED_BY.items()],
        concerns=[(k.value, label) for k, label in CONCERNS.items()],
    )


def _not_found(request: Request, visit: StaffVisit) -> HTMLResponse:
    return PAGES.render(
        request,
        visit,
        "message.html.j2",
        title="No return interview",
        message="There is no return interview for this episode: the child has not "
        "returned, or the link is wrong.",
        link={"href": "/return-interviews", "label": "Go to return interviews"},
        status_code=404,
    )


@router.get("/return-interviews/{episode_id}", response_class=HTMLResponse)
async def interview_form(
    request: Request, visit: StaffVisit, episode_id: EpisodeId
) -> Response:
    try:
        current, _ = await recording.current(_deps(request).store, episode_id)
    except recording.NotReturned:
        return _not_found(request, visit)
    return await _form(request, visit, episode_id, current, values_of(current))


@router.post("/return-interviews/{episode_id}", response_class=HTMLResponse)
async def record_interview(
    request: Request, visit: StaffVisit, episode_id: EpisodeId
) -> Response:
    form = await visit.checked_form(request)
    deps = _deps(request)
    try:
        current, _ = await recording.current(deps.store, episode_id)
    except recording.NotReturned:
        return _not_found(request, visit)
    values = values_posted(form)
    body, problems = body_of(values, current)
    if body is None:
        return await _form(request, visit, episode_id, current, values, problems)
    try:
        await recording.record(
            deps.store, episode_id, body, actor=visit.person.actor, now=deps.now
        )
    except recording.Refused as refused:
        current, _ = await recording.current(deps.store, episode_id)
        return await _form(
            request, visit, episode_id, current, values, refused.problems
        )
    return RedirectResponse("/return-interviews?recorded=true", 303)
