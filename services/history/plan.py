"""The events a council's history makes, pure: each episode the same events a live
one makes (the report, the return, the interview with its deadlines, what became of
it, overdue when it was), at their historical times, as history, with ids derived from
the facts, so importing the same folder again makes the same events and records none.

What the files do not say is filled in plainly, and marked where the contract lets it:
the force is ``HISTORY``, the police's grade ``no_apparent_risk`` reported as
``not_recorded``, the child returned to ``other`` with no safe and well check known;
an interview offered was offered on the return by an independent provider (DOMAIN.md
§1.5: normally independent), and the child's answer recorded then.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from functools import cached_property, partial
from uuid import UUID

from events.calendar import LONDON
from events.contracts.children import ChildRecorded, FamilyGroupConferenceRecorded
from events.contracts.missing import (
    Child,
    ChildFound,
    ChildMatch,
    Gender,
    MissingReported,
    Placement,
    PlacementType,
    ReturnedTo,
    RiskGrade,
)
from events.contracts.returns import (
    Deadline,
    OfferedBy,
    ReturnInterviewAccepted,
    ReturnInterviewCompleted,
    ReturnInterviewOffered,
    ReturnInterviewOpened,
    ReturnInterviewOverdue,
    ReturnInterviewRefused,
    ReturnInterviewSuperseded,
    ReturnReasonsRecorded,
)
from events.envelope import NewEvent
from events.ids import derive_id
from events.registry import Event
from events.streams import Category, stream_name
from services.history.files import ConferenceRow, EpisodeRow, History, PeriodRow
from services.intake.care_periods import format_care_periods
from services.returns import reasons as taxonomy
from services.returns import rules

FORCE = "HISTORY"
"""The police force of every imported episode: no force reported it to Lantern."""
NOT_RECORDED = "not_recorded"
Entry = tuple[str, NewEvent]
"""An event and the stream it goes to."""


def episode_id_of(row: EpisodeRow) -> UUID:
    """The child and the start: no two episodes of a child start together (rule 8).
    Apart from live ids (``episode/<force>/<reference>``), so never one of them."""
    return derive_id("history", "episode", row.la_child_id, _utc(row.start))


Planned = Callable[[ChildRecorded], list[Entry]]
"""A child's events, once given its record."""


def history_entries(
    history: History, *, deadline: Deadline, now: datetime, actor: str
) -> Iterator[tuple[str, Planned]]:
    """Each child's events together, in the order they are to be appended, made
    from its record: the caller reads the records a few at a time, not all at once."""
    periods, episodes = history.periods_by_child(), history.episodes_by_child()
    conferences: dict[str, list[ConferenceRow]] = {}
    for row in history.conferences:
        conferences.setdefault(row.la_child_id, []).append(row)
    for la_child_id in sorted({*periods, *episodes, *conferences}):
        yield (
            la_child_id,
            partial(
                _child_entries,
                periods=periods.get(la_child_id),
                conferences=conferences.get(la_child_id, []),
                episodes=episodes.get(la_child_id, []),
                deadline=deadline,
                now=now,
                actor=actor,
            ),
        )


def _child_entries(
    record: ChildRecorded,
    *,
    periods: list[PeriodRow] | None,
    conferences: list[ConferenceRow],
    episodes: list[EpisodeRow],
    deadline: Deadline,
    now: datetime,
    actor: str,
) -> list[Entry]:
    entries = _record_entries(record, periods, now, actor)
    entries += [_conference_entry(row, actor) for row in conferences]
    return entries + _episode_entries(episodes, record, deadline, now, actor)


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()


def _new(event: Event, *key: object, at: datetime, actor: str, **ids: UUID) -> NewEvent:
    return NewEvent(
        event=event,
        event_id=derive_id("history", *key, event.type_name),
        actor=actor,
        occurred_at=at.astimezone(UTC),
        **ids,
    )


def _record_entries(
    record: ChildRecorded, rows: Sequence[PeriodRow] | None, now: datetime, actor: str
) -> list[Entry]:
    """A new record when the file changes the child's periods of care."""
    if rows is None:
        return []
    periods = sorted((r.period for r in rows), key=lambda p: p.start_date)
    if periods == record.care_periods:
        return []
    before, after = (
        format_care_periods(record.care_periods),
        format_care_periods(periods),
    )
    changed = record.model_copy(update={"care_periods": periods})
    new = _new(changed, record.la_child_id, before, after, at=now, actor=actor)
    return [(stream_name(Category.child, record.la_child_id), new)]


def _conference_entry(row: ConferenceRow, actor: str) -> Entry:
    event = FamilyGroupConferenceRecorded(
        la_child_id=row.la_child_id, held_on=row.held_on
    )
    at = datetime.combine(row.held_on, time(0), LONDON)
    new = _new(event, row.la_child_id, row.held_on, at=at, actor=actor)
    return stream_name(Category.child, row.la_child_id), new


def _episode_entries(
    rows: Sequence[EpisodeRow],
    record: ChildRecorded,
    deadline: Deadline,
    now: datetime,
    actor: str,
) -> list[Entry]:
    """The child's episodes, earliest first; an interview is superseded when the next
    episode starts before its deadline, and covers the one it superseded (rule 14)."""
    ids = [episode_id_of(row) for row in rows]
    entries: list[Entry] = []
    covers: list[UUID] = []  # the interview the previous episode's return opened
    for i, row in enumerate(rows):
        episode = _Episode(row, ids[i], record, actor)
        entries += episode.report()
        if row.end is None:
            covers = []
            continue
        due = rules.due(row.end, deadline)
        later = rows[i + 1] if i + 1 < len(rows) else None
        by = None
        if later is not None and rules.supersedes(later.start, row.end, due):
            by = (ids[i + 1], later.start)
        entries += episode.interview(due, by, covers, now)
        covers = [ids[i]] if by is not None else []
    return entries


@dataclass(frozen=True)
class _Episode:
    row: EpisodeRow
    episode_id: UUID
    record: ChildRecorded
    actor: str

    @cached_property
    def key(self) -> tuple[str, str]:
        return self.row.la_child_id, _utc(self.row.start)

    @cached_property
    def correlation(self) -> UUID:
        """Its events share a correlation id: the report's."""
        return derive_id("history", *self.key, MissingReported.type_name)

    def new(self, event: Event, at: datetime) -> NewEvent:
        return _new(
            event, *self.key, at=at, actor=self.actor, correlation_id=self.correlation
        )

    def report(self) -> list[Entry]:
        row, record = self.row, self.record
        stream = stream_name(Category.episode, self.episode_id)
        report = MissingReported(
            episode_id=self.episode_id,
            police_force=FORCE,
            police_reference=f"history/{self.episode_id}",
            reported_at=row.start,
            missing_since=row.start,
            episode_type=row.episode_type,
            police_risk_grade=RiskGrade.no_apparent_risk,
            police_risk_grade_reported_as=NOT_RECORDED,
            child=Child(
                la_child_id=record.la_child_id,
                given_name=record.given_name,
                family_name=record.family_name,
                date_of_birth=record.date_of_birth,
                gender=Gender.not_known,
            ),
            placement=Placement(
                placing_authority=record.placing_authority,
                placement_type=PlacementType.other,
            ),
            match=ChildMatch(
                status="matched", la_child_id=record.la_child_id, candidates=1
            ),
        )
        entries = [(stream, self.new(report, row.start))]
        if row.end is not None:
            found = ChildFound(
                episode_id=self.episode_id,
                found_at=row.end,
                returned_to=ReturnedTo.other,
                safe_and_well_check=False,
            )
            entries.append((stream, self.new(found, row.end)))
        return entries

    def interview(
        self,
        due: rules.Due,
        superseded_by: tuple[UUID, datetime] | None,
        covers: list[UUID],
        now: datetime,
    ) -> list[Entry]:
        """Opened on the return; superseded by the next episode (when it started),
        offered, answered, completed, reasons; overdue if none of those came."""
        row, eid = self.row, self.episode_id
        returned = row.end
        assert returned is not None  # noqa: S101 - only for a return
        made: list[tuple[Event, datetime]] = [
            (
                ReturnInterviewOpened(
                    episode_id=eid,
                    la_child_id=row.la_child_id,
                    returned_at=returned,
                    due_date=due.due_date,
                    due_72h_at=due.due_72h_at,
                    deadline=due.deadline,
                    overdue_at=due.overdue_at,
                    covers=sorted(covers),
                ),
                returned,
            )
        ]
        if superseded_by is not None:
            made.append(_superseded(eid, *superseded_by))
        made += self.answers(due)
        if (
            superseded_by is None
            and row.completed_at is None
            and row.accepted != "N"
            and due.overdue_at <= now
        ):  # the import records it, so the live scheduler never has to
            made.append((_overdue(eid, row.la_child_id, due), due.overdue_at))
        stream = stream_name(Category.interview, eid)
        made.sort(key=lambda pair: pair[1])  # stable: the order above breaks ties
        return [(stream, self.new(event, at)) for event, at in made]

    def answers(self, due: rules.Due) -> list[tuple[Event, datetime]]:
        row, eid = self.row, self.episode_id
        returned = row.end
        assert returned is not None  # noqa: S101 - only for a return
        made: list[tuple[Event, datetime]] = []
        if row.offered == "Y":
            offer = ReturnInterviewOffered(
                episode_id=eid,
                offered_at=returned,
                offered_by=OfferedBy.independent_provider,
            )
            made.append((offer, returned))
        if row.accepted in ("Y", "N"):
            kind = (
                ReturnInterviewAccepted
                if row.accepted == "Y"
                else ReturnInterviewRefused
            )
            made.append((kind(episode_id=eid, recorded_at=returned), returned))
        if row.completed_at is not None:
            completed = ReturnInterviewCompleted(
                episode_id=eid,
                completed_at=row.completed_at,
                late=row.completed_at >= due.overdue_at,  # as interview.changes
            )
            made.append((completed, row.completed_at))
        if row.reasons:
            at = row.completed_at or returned
            given = ReturnReasonsRecorded(
                episode_id=eid,
                taxonomy_version=taxonomy.VERSION,
                reasons=sorted(set(row.reasons)),
                concerns=[],
                recorded_at=at,
            )
            made.append((given, at))
        return made


def _superseded(eid: UUID, by: UUID, at: datetime) -> tuple[Event, datetime]:
    event = ReturnInterviewSuperseded(
        episode_id=eid, by_episode_id=by, superseded_at=at
    )
    return event, at


def _overdue(eid: UUID, la_child_id: str, due: rules.Due) -> Event:
    return ReturnInterviewOverdue(
        episode_id=eid,
        la_child_id=la_child_id,
        due_date=due.due_date,
        due_72h_at=due.due_72h_at,
        deadline=due.deadline,
        overdue_at=due.overdue_at,
    )
