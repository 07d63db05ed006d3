"""What the return interviews of a child's earlier episodes said that weighs on a
later episode: the exploitation concerns they raised. Read from the log (the
interviews' ``ReturnReasonsRecorded``), as triage reads nothing of the returns
service's own tables; the latest record of each interview counts, so concerns
staff took back no longer weigh."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from sqlalchemy import bindparam, or_, select

from events.contracts.missing import MissingReported, WithdrawalReason
from events.contracts.returns import ReturnReasonsRecorded
from events.registry import decode
from events.store.sql import SqlEventStore
from events.store.tables import events
from events.streams import Category, stream_name
from services.records.tables import episodes

CONCERNS_DAYS = 365
"""How far back an interview's concerns weigh: the longest window of history."""

EARLIER = select(episodes.c.episode_id).where(
    episodes.c.child_key
    == select(episodes.c.child_key)
    .where(episodes.c.episode_id == bindparam("episode_id"))
    .scalar_subquery(),
    episodes.c.episode_id != bindparam("episode_id"),
    episodes.c.missing_since < bindparam("since"),
    episodes.c.missing_since >= bindparam("from"),
    or_(
        episodes.c.withdrawal_reason.is_(None),
        episodes.c.withdrawal_reason != WithdrawalReason.reported_in_error.value,
    ),
)
REASONS = (
    select(events.c.stream_id, events.c.schema_version, events.c.data)
    .where(
        events.c.type == ReturnReasonsRecorded.type_name,
        events.c.stream_id.in_(bindparam("streams", expanding=True)),
    )
    .order_by(events.c.position)
)


async def interview_concerns(
    store: SqlEventStore, report: MissingReported
) -> list[str]:
    """The concerns raised at the interviews of the child's earlier episodes."""
    since = report.missing_since
    earlier = await store.select(
        EARLIER,
        {
            "episode_id": report.episode_id,
            "since": since,
            "from": since - timedelta(days=CONCERNS_DAYS),
        },
    )
    if not earlier:
        return []
    streams = [stream_name(Category.interview, row[0]) for row in earlier]
    latest: dict[str, ReturnReasonsRecorded] = {}
    for row in await store.select(REASONS, {"streams": streams}):
        event = decode(ReturnReasonsRecorded.type_name, row.schema_version, row.data)
        latest[row.stream_id] = cast(ReturnReasonsRecorded, event)
    return sorted({c.value for r in latest.values() for c in r.concerns})
