"""Overdue: at the end of the enforced deadline an interview neither completed nor
refused becomes overdue, recorded as an event the notifier can act on.

The timer is the ``return_interviews`` read model (``overdue_at`` of the interviews
still ``due``), so it survives a restart: a process that was down records on its
return every interview that fell overdue meanwhile, each once (a derived event id).
Before recording one it looks once more for a later episode of the child: one
reported while the return was being handled supersedes the interview instead.
"""

from __future__ import annotations

from uuid import UUID

import structlog
from sqlalchemy import select

from events.contracts.returns import ReturnInterviewOverdue
from events.envelope import NewEvent
from events.ids import derive_id
from events.polling import Poller
from events.registry import Event
from events.store import ConcurrencyError
from services.returns import rules
from services.returns.handlers import NAME, Returns, interview_stream
from services.returns.tables import return_interviews

log = structlog.get_logger()


class OverdueScheduler(Poller):
    def __init__(
        self, returns: Returns, *, poll_s: float = 30.0, batch: int = 100
    ) -> None:
        super().__init__(
            self.mark_overdue, failed="overdue_failed", poll_s=poll_s, batch=batch
        )
        self.returns = returns

    async def mark_overdue(self) -> int:
        """Record every interview whose deadline has passed; returns how many."""
        query = (
            select(return_interviews.c.episode_id)
            .where(
                return_interviews.c.status == "due",
                return_interviews.c.overdue_at <= self.returns.now(),
            )
            .order_by(return_interviews.c.overdue_at)
            .limit(self.batch)
        )
        async with self.returns.store.engine.connect() as conn:
            due = (await conn.execute(query)).scalars().all()
        for episode_id in due:
            await self._mark(episode_id)
        return len(due)

    async def _mark(self, episode_id: UUID) -> None:
        current, version = await self.returns.interview(episode_id)
        report = await self.returns.report(episode_id)
        if current is None or report is None or current.status != "due":
            return
        opened = current.opened
        event: Event
        due = rules.Due(
            opened.due_date, opened.due_72h_at, opened.deadline, opened.overdue_at
        )
        later = await self.returns.later_episode(report, opened.returned_at, due)
        if later is not None:
            event = self.returns.superseded(episode_id, later).event
        else:
            event = ReturnInterviewOverdue(
                episode_id=episode_id,
                la_child_id=opened.la_child_id,
                due_date=opened.due_date,
                due_72h_at=opened.due_72h_at,
                deadline=opened.deadline,
                overdue_at=opened.overdue_at,
            )
        new = NewEvent(
            event=event,
            # The deadline in the id: a rescheduled interview may fall overdue again.
            event_id=derive_id(NAME, event.type_name, episode_id, opened.overdue_at),
            actor=NAME,
        )
        try:
            await self.returns.store.append(
                interview_stream(episode_id), [new], expected_version=version
            )
        except ConcurrencyError:
            return  # recorded meanwhile (completed, refused): looked at next round
        log.info("interview_overdue", episode_id=str(episode_id), type=event.type_name)
