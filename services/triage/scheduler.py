"""Reviews: looks at open episodes again when time alone may change their risk
(missing 24 h, 72 h: the policy's ``missing_hours``) or a source had not answered.

The schedule is the ``assessments`` read model (``next_review_at``), so it survives a
restart: a process that was down catches up on every review that fell due meanwhile.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import structlog
from opentelemetry.trace import SpanKind
from sqlalchemy import select, update

from events import tracing
from events.envelope import NewEvent
from events.ids import derive_id
from events.polling import Poller
from events.store import Append, Commit
from services.records.tables import episodes
from services.triage.handlers import NAME, EpisodeView, Triage
from services.triage.tables import assessments

log = structlog.get_logger()


class ReviewScheduler(Poller):
    def __init__(
        self, triage: Triage, *, poll_s: float = 5.0, batch: int = 100
    ) -> None:
        super().__init__(
            self.review_due, failed="review_failed", poll_s=poll_s, batch=batch
        )
        self.triage = triage

    async def review_due(self) -> int:
        """Review every open episode whose time has come; returns how many."""
        now = self.triage.now()
        query = (
            select(assessments.c.episode_id, assessments.c.next_review_at)
            .join(episodes, episodes.c.episode_id == assessments.c.episode_id)
            .where(episodes.c.status == "open", assessments.c.next_review_at <= now)
            .order_by(assessments.c.next_review_at)
            .limit(self.batch)
        )
        async with self.triage.store.engine.connect() as conn:
            due = (await conn.execute(query)).all()
        for episode_id, due_at in due:
            await self._review(episode_id, due_at)
        return len(due)

    async def _review(self, episode_id: UUID, due_at: datetime) -> None:
        view = await self.triage.load(episode_id)
        if view is None or view.last is None:
            return
        with tracing.following(view.trace_context, "review", SpanKind.INTERNAL):
            await self._assess_again(view, episode_id, due_at)

    async def _assess_again(
        self, view: EpisodeView, episode_id: UUID, due_at: datetime
    ) -> None:
        assessment, review = await self.triage.assess(view)
        changed = self.triage.change(view, assessment, review, trigger="review")
        if changed:
            new = NewEvent(
                event=changed,
                event_id=derive_id(NAME, "review", episode_id, due_at),
                causation_id=None,
                actor=NAME,
            )
            await self.triage.store.commit(Commit([Append(view.stream_id, [new])]))
            log.info("episode_reviewed", stream_id=view.stream_id, status="changed")
            return
        async with self.triage.store.engine.begin() as conn:
            await conn.execute(
                update(assessments)
                .where(assessments.c.episode_id == episode_id)
                .values(next_review_at=review)
            )
