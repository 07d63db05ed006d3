"""The return interview's stream in words, pure, for the episode page's timeline:
its deadlines, the offer, the answer, the reasons (how many; the reasons and
concerns themselves are on the interview's own page) and the notes (that there
are some, never what they say)."""

from __future__ import annotations

from collections.abc import Iterable

from events.contracts.returns import (
    ReturnInterviewAccepted,
    ReturnInterviewCompleted,
    ReturnInterviewNotesRecorded,
    ReturnInterviewOffered,
    ReturnInterviewOpened,
    ReturnInterviewOverdue,
    ReturnInterviewRefused,
    ReturnInterviewRescheduled,
    ReturnInterviewSuperseded,
    ReturnReasonsRecorded,
)
from events.envelope import Envelope
from events.registry import Event
from services.api.timeline import TimelineEntry, words


def _day(value: object) -> str:
    return f"{value:%a %d %b %Y}"


def described(event: Event) -> tuple[str, str]:
    """What happened, and a detail (may be empty)."""
    match event:
        case ReturnInterviewOpened():
            return "Return interview due", f"By {_day(event.due_date)}"
        case ReturnInterviewRescheduled():
            return "Return interview rescheduled", f"Now due by {_day(event.due_date)}"
        case ReturnInterviewSuperseded():
            return "Return interview taken over", "By the next episode's interview"
        case ReturnInterviewOffered():
            return "Return interview offered", f"By the {words(event.offered_by)}"
        case ReturnInterviewAccepted():
            return "Return interview accepted", ""
        case ReturnInterviewRefused():
            return "Return interview refused", ""
        case ReturnInterviewCompleted():
            return "Return interview completed", "Late" if event.late else "In time"
        case ReturnReasonsRecorded():
            count = len(event.reasons)
            concerns = len(event.concerns)
            return "Reasons recorded", (
                f"{count} reason{'' if count == 1 else 's'}"
                + (f"; {concerns} exploitation concern" if concerns else "")
                + ("s" if concerns > 1 else "")
            )
        case ReturnInterviewNotesRecorded():
            return "Interview notes recorded", ""
        case ReturnInterviewOverdue():
            return "Return interview overdue", f"It was due by {_day(event.due_date)}"
    return words(event.type_name), ""


def interview_entries(envelopes: Iterable[Envelope]) -> list[TimelineEntry]:
    return [
        TimelineEntry(
            at=e.occurred_at,
            what=(said := described(e.event))[0],
            actor=e.actor,
            position=e.position,
            detail=said[1],
        )
        for e in envelopes
    ]
