"""The statutory returns' rows computed plainly from a reports world
(tests/reports_world.py), by the definitions of docs/reports.md#statutory-returns,
with none of the product's code; and their planted edges."""

from __future__ import annotations

from datetime import date

from tests.reports_world import (
    COUNCIL,
    Ep,
    Kid,
    World,
    in_care,
    london_day,
    shift_months,
    z,
)

YES, NO, UNKNOWN = "a) Yes", "b) No", "c) Unknown"


def dmy(d: date) -> str:
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def own(world: World) -> list[Kid]:
    return [k for k in world.kids if k.placing == COUNCIL]


def episodes_of(world: World, kid: Kid) -> list[Ep]:
    return [e for e in world.eps if e.child == kid.id and not e.in_error]


def missing_rows(world: World, year: int) -> list[tuple[str, ...]]:
    first, last = date(year - 1, 4, 1), date(year, 3, 31)
    rows = []
    for kid in own(world):
        if not any(s <= last and (e is None or e >= first) for s, e in kid.periods):
            continue
        for ep in episodes_of(world, kid):
            start = london_day(ep.start)
            end = london_day(ep.end) if ep.end else None
            if not in_care(kid, start) or start > last:
                continue
            if end is not None and end < first:
                continue
            if end is not None and end > last:
                end = None  # not yet ended at the year's end
            rows.append((kid.id, start, end or date.max, ep.kind))
    rows.sort()
    return [
        (c, dmy(date(2010, 1, 1)), kind, dmy(s), "" if e == date.max else dmy(e))
        for c, s, e, kind in rows
    ]


def list8_rows(world: World, at: date) -> list[tuple[str, ...]]:
    since = shift_months(at, -12)
    rows: list[tuple[str, ...]] = []
    for kid in sorted(own(world), key=lambda k: k.id):
        if not in_care(kid, at):
            continue
        eps = [e for e in episodes_of(world, kid) if since < london_day(e.start) <= at]
        missing = [e for e in eps if e.kind == "M"]
        away = [e for e in eps if e.kind == "A"]
        offered = accepted = UNKNOWN
        if missing:
            latest = sorted(missing, key=lambda e: e.start)[-1]
            if latest.offered:
                offered = YES
                if latest.accepted is not None:
                    accepted = YES if latest.accepted else NO
            elif latest.end is not None and london_day(latest.end) <= at:
                offered = NO
        rows.append((kid.id, str(len(missing)), str(len(away)), offered, accepted))
    return rows


def statutory_edges() -> World:
    """Children R... (the 903 year 2026's edges) and L... (List 8 on 29 March 2026,
    the day the clocks went forward), the council's own in care unless said."""
    w = World()

    def kid(id: str, **kw: object) -> None:
        w.kids.append(Kid(id=id, uasc=False, placing=str(kw.get("placing", COUNCIL)),
                          periods=kw.get("periods", [(date(2020, 1, 1), None)])))  # type: ignore[arg-type]  # fmt: skip

    def ep(child: str, n: int, start: str, end: str | None = None, **kw: object):
        w.eps.append(Ep(id=f"{child}-{n}", child=child, kind=str(kw.pop("kind", "M")),
                        start=z(start), end=z(end) if end else None, **kw))  # type: ignore[arg-type]  # fmt: skip

    kid("R1")  # across 1 April 2025
    ep("R1", 1, "2025-03-30T10:00", "2025-04-02T10:00")
    kid("R2")  # still open; and withdrawn as reported in error
    ep("R2", 1, "2025-12-01T10:00", kind="A")
    ep("R2", 2, "2025-06-01T10:00", in_error=True)
    kid("R3")  # 00:30 BST on 31 March 2025 (30 March in UTC) to 1 April
    ep("R3", 1, "2025-03-30T23:30", "2025-04-01T00:30")
    kid("R4")  # 00:30 BST on 1 April 2026: the next year; ended in the year after
    ep("R4", 1, "2026-03-31T23:30", "2026-04-01T08:00")
    ep("R4", 2, "2026-03-30T10:00", "2026-04-01T08:00")
    kid("R5")  # ended before the year
    ep("R5", 1, "2025-03-01T10:00", "2025-03-31T22:00")
    kid("R6", periods=[(date(2020, 1, 1), date(2025, 6, 30))])  # care ends
    ep("R6", 1, "2025-06-30T20:00", "2025-07-01T09:00")  # its last day in care
    ep("R6", 2, "2025-08-01T10:00", "2025-08-01T12:00")  # after
    kid("R7", placing="316")  # another council's
    ep("R7", 1, "2025-08-01T10:00", "2025-08-01T12:00")
    kid("R8", periods=[(date(2020, 1, 1), date(2025, 1, 1))])  # not in care in year
    ep("R8", 1, "2024-12-01T10:00")

    kid("L1")  # 12 months to 29 March 2026: from 30 March 2025, London
    ep("L1", 1, "2025-03-29T12:00", "2025-03-29T13:00")
    ep("L1", 2, "2025-03-30T00:30", "2025-03-30T05:00", offered=True, accepted=True)
    ep("L1", 3, "2026-03-20T10:00", "2026-03-21T10:00", offered=True, accepted=False)
    ep("L1", 4, "2026-03-25T10:00", "2026-03-25T12:00", kind="A")
    ep("L1", 5, "2026-03-29T23:30", "2026-03-30T05:00")  # 30 March, BST: after
    kid("L2")  # the latest missing one still open
    ep("L2", 1, "2025-10-01T10:00", "2025-10-02T10:00", offered=True, accepted=True)
    ep("L2", 2, "2026-03-28T23:30")
    kid("L3")  # returned, no interview offered
    ep("L3", 1, "2026-01-05T10:00", "2026-01-06T10:00")
    kid("L4")  # nothing
    kid("L5", periods=[(date(2020, 1, 1), date(2026, 3, 28))])  # left care
    ep("L5", 1, "2026-01-05T10:00", "2026-01-06T10:00")
    kid("L6")  # offered, no answer yet; away since
    ep("L6", 1, "2026-02-05T10:00", "2026-02-06T10:00", offered=True)
    ep("L6", 2, "2026-03-29T20:00", "2026-03-29T23:30", kind="A")
    kid("L7")  # found at 00:30 BST on the 30th: not yet returned on the day
    ep("L7", 1, "2026-03-29T20:00", "2026-03-29T23:30")
    return w


LIST8_DAY = date(2026, 3, 29)
