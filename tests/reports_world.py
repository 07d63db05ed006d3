"""A world of children and episodes for the panel report's tests, generated, with
the edges planted by hand; and the report's figures computed from it plainly, by
the definitions of issue #19 as docs/reports.md states them, with none of the
product's code."""

from __future__ import annotations

import calendar
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays

LONDON = ZoneInfo("Europe/London")
COUNCIL = "886"
REASONS = [
    "family_friends_contact", "placement_unhappy", "peer_influence",
    "freedom_boundaries", "alcohol_substances", "exploitation", "conflict",
    "bullying", "emotional_wellbeing", "avoiding_consequences", "home_area",
    "other", "not_disclosed",
]  # fmt: skip
FIGURE_NAMES = [
    "looked_after_children", "incidents", "incidents_missing", "incidents_away",
    "children_missing", "rhi_eligible", "rhi_offered", "rhi_accepted",
    "rhi_completed", "rhi_completed_in_time", "children_missing_pct",
    "one_or_two_episodes_pct", "incidents_per_looked_after_child",
    "incidents_per_missing_child", "rhi_offered_pct", "rhi_accepted_pct",
    "rhi_completed_in_time_pct",
]  # fmt: skip


@dataclass
class Kid:
    id: str
    uasc: bool
    placing: str
    periods: list[tuple[date, date | None]]
    dob: date = date(2010, 1, 1)


@dataclass
class Ep:
    id: str
    child: str
    kind: str  # "M" or "A", as last reclassified
    start: datetime
    end: datetime | None = None
    in_error: bool = False
    offered: bool = False
    accepted: bool | None = None
    completed: datetime | None = None
    reasons: list[str] = field(default_factory=list)
    reported_as: str = ""  # "M"/"A" as first reported; reclassified when differs
    cancelled: bool = False  # withdrawn as cancelled: an episode, never ended

    def __post_init__(self) -> None:
        self.reported_as = self.reported_as or self.kind


@dataclass
class World:
    kids: list[Kid] = field(default_factory=list)
    eps: list[Ep] = field(default_factory=list)
    conferences: list[tuple[str, date]] = field(default_factory=list)


def london_day(t: datetime) -> date:
    return t.astimezone(LONDON).date()


def at_london(d: date, hour: int, minute: int = 0) -> datetime:
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=LONDON).astimezone(UTC)


def due_date(returned: datetime) -> date:
    """Three weekdays that are not England and Wales bank holidays, after the
    London day of the return."""
    day = london_day(returned)
    bank = holidays.country_holidays("GB", subdiv="ENG", years=[day.year, day.year + 1])
    counted = 0
    while counted < 3:
        day += timedelta(days=1)
        if day.isoweekday() <= 5 and day not in bank:
            counted += 1
    return day


def shift_months(d: date, n: int) -> date:
    y, m0 = divmod(d.month - 1 + n, 12)
    y, m = d.year + y, m0 + 1
    return date(y, m, min(d.day, calendar.monthrange(y, m)[1]))


def tenths(n: int, d: int) -> float | None:
    """100 n / d to one place, half up."""
    return None if d == 0 else ((2000 * n + d) // (2 * d)) / 10


def hundredths(n: int, d: int) -> float | None:
    return None if d == 0 else ((200 * n + d) // (2 * d)) / 100


def one_place(n: int, d: int) -> float | None:
    return None if d == 0 else ((20 * n + d) // (2 * d)) / 10


# -- the figures, plainly --------------------------------------------------------


def expected(
    world: World, start: date, end: date, comparators: dict[str, dict[str, float]]
) -> dict[str, Any]:
    length = end - start
    now = period_report(world, start, end)
    then = period_report(world, start - length, start)
    change: dict[str, Any] = {n: difference(n, now[n], then[n]) for n in FIGURE_NAMES}
    change["by_status"] = {
        s: {
            n: difference(n, now["by_status"][s][n], then["by_status"][s][n])
            for n in FIGURE_NAMES
        }
        for s in ("citizen", "uasc")
    }
    return {
        "period": {"from": start.isoformat(), "to": end.isoformat()},
        **now,
        "previous": {
            "period": {"from": (start - length).isoformat(), "to": start.isoformat()},
            **then,
        },
        "change": change,
        "family_group_conferences": conferences(world, start, end),
        "comparators": {
            name: {"value": now[name], "benchmarks": benchmarks}
            for name, benchmarks in comparators.items()
        },
    }


def difference(name: str, a: Any, b: Any) -> Any:
    if a is None or b is None:
        return None
    if name.endswith("_pct"):
        return round(a - b, 1)
    if name.startswith("incidents_per"):
        return round(a - b, 2)
    return a - b


def looked_after(world: World, start: date, end: date) -> list[Kid]:
    out = []
    for kid in world.kids:
        if kid.placing != COUNCIL:
            continue
        for s, e in kid.periods:
            if s < end and (e is None or e >= start):
                out.append(kid)
                break
    return out


def in_care(kid: Kid, day: date) -> bool:
    return any(s <= day and (e is None or day <= e) for s, e in kid.periods)


def incidents_of(world: World, kids: list[Kid], start: date, end: date) -> list[Ep]:
    by_id = {k.id: k for k in kids}
    out = []
    for ep in world.eps:
        if ep.in_error or ep.child not in by_id:
            continue
        day = london_day(ep.start)
        if start <= day < end and in_care(by_id[ep.child], day):
            out.append(ep)
    return out


def eligible(world: World, ep: Ep) -> bool:
    if ep.end is None:
        return False
    due = due_date(ep.end)
    for other in world.eps:
        if other is ep or other.in_error or other.child != ep.child:
            continue
        if other.start >= ep.end and london_day(other.start) <= due:
            return False
    return True


def group(world: World, kids: list[Kid], start: date, end: date) -> dict[str, Any]:
    incidents = incidents_of(world, kids, start, end)
    per_child = Counter(ep.child for ep in incidents)
    elig = [ep for ep in incidents if eligible(world, ep)]
    offered = [ep for ep in elig if ep.offered]
    accepted = [ep for ep in offered if ep.accepted]
    completed = [ep for ep in elig if ep.completed is not None]
    in_time = [
        ep
        for ep in completed
        if london_day(ep.completed) <= due_date(ep.end)  # type: ignore[arg-type]
    ]
    one_or_two = [c for c, n in per_child.items() if n in (1, 2)]
    return {
        "looked_after_children": len(kids),
        "incidents": len(incidents),
        "incidents_missing": len([ep for ep in incidents if ep.kind == "M"]),
        "incidents_away": len([ep for ep in incidents if ep.kind == "A"]),
        "children_missing": len(per_child),
        "rhi_eligible": len(elig),
        "rhi_offered": len(offered),
        "rhi_accepted": len(accepted),
        "rhi_completed": len(completed),
        "rhi_completed_in_time": len(in_time),
        "children_missing_pct": tenths(len(per_child), len(kids)),
        "one_or_two_episodes_pct": tenths(len(one_or_two), len(per_child)),
        "incidents_per_looked_after_child": hundredths(len(incidents), len(kids)),
        "incidents_per_missing_child": hundredths(len(incidents), len(per_child)),
        "rhi_offered_pct": tenths(len(offered), len(elig)),
        "rhi_accepted_pct": tenths(len(accepted), len(offered)),
        "rhi_completed_in_time_pct": tenths(len(in_time), len(completed)),
    }


def period_report(world: World, start: date, end: date) -> dict[str, Any]:
    kids = looked_after(world, start, end)
    citizen = [k for k in kids if not k.uasc]
    uasc = [k for k in kids if k.uasc]
    monthly: dict[str, dict[str, int]] = {}
    month = date(start.year, start.month, 1)
    while month < end:
        key = f"{month.year:04d}-{month.month:02d}"
        counts = {}
        for status, members in (("citizen", citizen), ("uasc", uasc)):
            children = set()
            for ep in incidents_of(world, members, start, end):
                day = london_day(ep.start)
                if (day.year, day.month) == (month.year, month.month):
                    children.add(ep.child)
            counts[status] = len(children)
        monthly[key] = counts
        month = shift_months(month, 1)
    reason_counts: Counter[str] = Counter()
    for ep in incidents_of(world, citizen, start, end):
        for reason in set(ep.reasons):
            reason_counts[reason] += 1
    ranked = sorted(reason_counts.items(), key=lambda kv: (-kv[1], kv[0]))[:12]
    return {
        **group(world, kids, start, end),
        "monthly": monthly,
        "reasons": [{"reason": r, "incidents": n} for r, n in ranked],
        "by_status": {
            "citizen": group(world, citizen, start, end),
            "uasc": group(world, uasc, start, end),
        },
    }


def conferences(world: World, start: date, end: date) -> dict[str, Any]:
    kids = {k.id: k for k in looked_after(world, start, end)}
    first: dict[str, date] = {}
    for child, held in sorted(world.conferences, key=lambda c: c[1]):
        if child in kids and start <= held < end and child not in first:
            first[child] = held
    before = after = 0
    for child, held in first.items():
        for ep in incidents_of(world, [kids[child]], date.min, date.max):
            day = london_day(ep.start)
            if shift_months(held, -3) <= day < held:
                before += 1
            if held <= day < shift_months(held, 3):
                after += 1
    return {
        "children": len(first),
        "average_episodes_before": one_place(before, len(first)),
        "average_episodes_after": one_place(after, len(first)),
    }


# -- the world -------------------------------------------------------------------


def generate(seed: int, *, kids: int, first: date, last: date, now: datetime) -> World:
    """Random children with care periods (some ended, some OLA, some UASC) and, per
    child, episodes one after another between ``first`` and ``last``, the last one
    sometimes still open, with their interviews."""
    rng = random.Random(seed)
    world = World()
    span = (last - first).days
    for n in range(kids):
        start = first - timedelta(days=rng.randint(0, 400))
        periods: list[tuple[date, date | None]] = []
        if rng.random() < 0.3:
            ended = first + timedelta(days=rng.randint(0, span))
            periods.append((start, ended))
            if rng.random() < 0.5:
                periods.append((ended + timedelta(days=rng.randint(1, 90)), None))
        else:
            periods.append((start, None))
        kid = Kid(
            id=f"G{seed}_{n}",
            uasc=rng.random() < 0.3,
            placing=COUNCIL if rng.random() < 0.85 else "316",
            periods=periods,
        )
        world.kids.append(kid)
        t = datetime.combine(first, datetime.min.time(), LONDON).astimezone(UTC)
        t += timedelta(minutes=rng.randint(0, 60 * 24 * 60))
        for k in range(rng.choice([0, 0, 1, 1, 2, 3, 4, 6])):
            if london_day(t) >= last or t > now - timedelta(days=20):
                break
            world.eps.append(_episode(rng, f"{kid.id}-{k}", kid.id, t, now))
            end = world.eps[-1].end
            if end is None:
                break
            gap = rng.choice([2, 30, 60, 24 * 3, 24 * 4, 24 * 10, 24 * 40, 24 * 90])
            t = end + timedelta(hours=gap, minutes=rng.randint(0, 59))
    return world


def _episode(rng: random.Random, id: str, child: str, t: datetime, now: datetime) -> Ep:
    kind = "M" if rng.random() < 0.7 else "A"
    ep = Ep(id=id, child=child, kind=kind, start=t, reported_as=kind)
    if rng.random() < 0.1:
        ep.reported_as = "A" if kind == "M" else "M"  # reclassified since
    if rng.random() < 0.05:
        ep.in_error = True  # withdrawn: it never ends
        return ep
    if rng.random() < 0.05:
        ep.cancelled = True  # withdrawn as cancelled: still one, never ended
        return ep
    if rng.random() < 0.1:
        return ep  # still open
    ep.end = t + timedelta(hours=rng.randint(1, 120), minutes=rng.randint(0, 59))
    if rng.random() < 0.85:
        ep.offered = True
        if rng.random() < 0.75:
            ep.accepted = True
            if rng.random() < 0.85:
                done = ep.end + timedelta(hours=rng.randint(3, 24 * 9))
                ep.completed = min(done, now - timedelta(hours=1))
        elif rng.random() < 0.8:
            ep.accepted = False
    if ep.offered and rng.random() < 0.9:
        reasons = rng.sample(REASONS[:6], 1) if rng.random() < 0.6 else []
        reasons += rng.sample(REASONS, rng.randint(0, 2))
        ep.reasons = list(dict.fromkeys(reasons))
    return ep


PERIOD = (date(2025, 6, 1), date(2026, 6, 1))
"""The edges' period: a year in BST at both ends, across both clock changes."""


def z(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def edges() -> World:
    """The edges of PERIOD, one child each (E...), all the council's citizen
    children in care throughout unless said otherwise."""
    w = World()
    open_care = [(date(2020, 1, 1), None)]

    def kid(id: str, **kw: Any) -> Kid:
        k = Kid(id=id, uasc=kw.pop("uasc", False), placing=kw.pop("placing", COUNCIL),
                periods=kw.pop("periods", open_care))  # fmt: skip
        w.kids.append(k)
        return k

    def ep(child: str, n: int, start: str, end: str | None = None, **kw: Any) -> Ep:
        e = Ep(id=f"{child}-{n}", child=child, kind=kw.pop("kind", "M"),
               start=z(start), end=z(end) if end else None, **kw)  # fmt: skip
        w.eps.append(e)
        return e

    interview = {"offered": True, "accepted": True}
    # the period's first minute in London (BST) is the previous day in UTC
    kid("E1")
    ep("E1", 1, "2025-05-31T23:30", "2025-06-01T10:00", **interview,
       completed=z("2025-06-02T12:00"), reasons=["family_friends_contact"])  # fmt: skip
    ep("E1", 2, "2025-08-01T10:00", in_error=True)
    kid("E1b")
    ep("E1b", 1, "2025-05-31T22:30", "2025-06-01T09:00", **interview)  # 31 May: before
    # the period's last minute counts; its end (exclusive) does not
    kid("E2")
    ep("E2", 1, "2026-05-31T22:59", "2026-05-31T23:40", kind="A")
    kid("E2b")
    ep("E2b", 1, "2026-05-31T23:00", "2026-06-01T08:00")
    # a month's first minute in BST is the previous month in UTC
    kid("E3", uasc=True)
    ep("E3", 1, "2025-09-30T23:30", "2025-10-01T06:00", offered=True, accepted=False)
    # across midnight at the clocks going back (26 Oct 2025), and going forward
    # (29 Mar 2026), then completed at 00:30 London on the due date's next day
    ep("E3", 2, "2025-10-25T23:30", "2025-10-26T01:30", **interview,
       completed=z("2025-10-29T23:30"), reasons=["peer_influence"])  # fmt: skip
    kid("E3b")
    ep("E3b", 1, "2026-03-28T23:30", "2026-03-29T02:00", **interview,
       completed=z("2026-04-01T23:30"), reasons=["conflict", "bullying"])  # fmt: skip
    ep("E3b", 2, "2026-04-20T23:30", "2026-04-21T02:00", **interview,
       completed=z("2026-04-23T22:30"), reasons=["conflict"])  # fmt: skip
    # care ends mid-period: counted, and its episodes while in care only
    kid("E4", periods=[(date(2020, 1, 1), date(2025, 12, 31))])
    ep("E4", 1, "2025-11-10T18:00", "2025-11-11T09:00", **interview)
    ep("E4", 2, "2025-12-31T20:00", "2026-01-01T09:00")  # its last day in care
    ep("E4", 3, "2026-02-10T18:00", "2026-02-11T09:00")  # after
    # still open; and withdrawn as cancelled (an episode, never ended)
    kid("E5")
    ep("E5", 1, "2026-05-01T18:00")
    kid("E12")
    ep("E12", 1, "2025-12-01T10:00", cancelled=True)
    # missing again on the due date itself: not eligible; the day after: eligible
    kid("E6")
    ep("E6", 1, "2026-01-10T18:00", "2026-01-12T10:00", **interview)  # due Thu 15
    ep("E6", 2, "2026-01-15T20:00", "2026-01-16T08:00", **interview)
    kid("E7")
    ep("E7", 1, "2026-01-10T18:00", "2026-01-12T10:00", offered=True)  # due Thu 15
    ep("E7", 2, "2026-01-16T00:30", "2026-01-16T08:00")
    kid("E8")  # found Mon 7 Jul 2025 (BST): due Thu 10; again at 00:30 on the 11th
    ep("E8", 1, "2025-07-06T18:00", "2025-07-07T09:00", **interview)
    ep("E8", 2, "2025-07-10T23:30", "2025-07-11T08:00", kind="A", reported_as="M")
    # a conference: six episodes in the three months before, two from its day
    kid("E9", uasc=True)
    for n in range(6):
        ep("E9", n, f"2025-0{6 + n // 3}-{10 + 6 * (n % 3):02d}T18:00",
           f"2025-0{6 + n // 3}-{10 + 6 * (n % 3):02d}T21:00")  # fmt: skip
    ep("E9", 8, "2025-09-01T08:00", "2025-09-01T09:00")  # the conference's day
    ep("E9", 9, "2025-10-01T18:00", "2025-10-01T21:00")
    w.conferences += [("E9", date(2025, 9, 1)), ("E9", date(2025, 11, 1)),
                      ("E1", date(2025, 3, 1))]  # fmt: skip
    # another council's child: none of it counts
    kid("E10", placing="316")
    ep("E10", 1, "2025-08-01T10:00", "2025-08-01T12:00")
    w.conferences.append(("E10", date(2025, 9, 1)))
    # the previous period's first minute (and the report's window's) in London
    kid("E13")
    ep("E13", 1, "2024-05-31T23:30", "2024-06-01T08:00", offered=True)
    # in care from mid-period, a UASC child, nothing else
    kid("E11", uasc=True, periods=[(date(2026, 2, 1), None)])
    return w


def merged(*worlds: World) -> World:
    out = World()
    for w in worlds:
        out.kids += w.kids
        out.eps += w.eps
        out.conferences += w.conferences
    return out
