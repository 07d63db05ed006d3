"""Return interviews due and overdue, read from the interviews' read model on a
timer (its status index): overdue ones are a statutory duty missed."""

from __future__ import annotations

from prometheus_client import Gauge
from sqlalchemy import func, select

from events.metrics import Probe, owned
from events.store.sql import SqlEventStore
from services.returns.tables import return_interviews

INTERVIEWS_DUE = Gauge(
    "lantern_interviews_due",
    "Return interviews to offer, not yet overdue",
    registry=None,
)
INTERVIEWS_OVERDUE = Gauge(
    "lantern_interviews_overdue",
    "Return interviews not done by their deadline",
    registry=None,
)
BY_STATUS = (
    select(return_interviews.c.status, func.count())
    .where(return_interviews.c.status.in_(("due", "overdue")))
    .group_by(return_interviews.c.status)
)


def probe(store: SqlEventStore) -> Probe:
    async def interviews() -> None:
        counts: dict[str, int] = dict(await store.select(BY_STATUS))
        INTERVIEWS_DUE.set(counts.get("due", 0))
        INTERVIEWS_OVERDUE.set(counts.get("overdue", 0))
        owned(INTERVIEWS_DUE, INTERVIEWS_OVERDUE)  # once read: never a 0 not read

    return interviews
