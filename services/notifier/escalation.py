"""Escalation: an open high-risk alert that nobody acknowledged in time goes to the
next contact of the council's escalation chain, then the next (``next_escalation``
in routing.py says which and when).

The timers are the ``alerts`` read model (``escalate_at``), so they survive a restart:
a notifier that was down escalates, when it is back, everything that fell due. Each
step is appended at the alert stream's version, so an acknowledgement that lands at
the same moment wins, and two notifiers never escalate one step twice.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import structlog
from sqlalchemy import select, update

from events.contracts.alerts import AlertEscalated
from events.envelope import NewEvent
from events.ids import derive_id
from events.polling import Poller
from events.store import Append, Commit, ConcurrencyError
from events.streams import Category, stream_name
from services.notifier.handlers import NAME, Notifier, alert_contact
from services.notifier.routing import (
    AlertClock,
    Escalation,
    channels_for,
    next_escalation,
)
from services.notifier.tables import alerts

log = structlog.get_logger()


class EscalationScheduler(Poller):
    def __init__(
        self, notifier: Notifier, *, poll_s: float = 5.0, batch: int = 100
    ) -> None:
        super().__init__(
            self.escalate_due, failed="escalation_failed", poll_s=poll_s, batch=batch
        )
        self.notifier = notifier

    async def escalate_due(self) -> int:
        now = self.notifier.now()
        query = (
            select(
                alerts.c.alert_id,
                alerts.c.version,
                alerts.c.status,
                alerts.c.escalate_at,
                alerts.c.escalation_step,
            )
            .where(alerts.c.status == "open", alerts.c.escalate_at <= now)
            .order_by(alerts.c.escalate_at)
            .limit(self.batch)
        )
        async with self.notifier.store.engine.connect() as conn:
            due = (await conn.execute(query)).all()
        for row in due:
            clock = AlertClock(row.status, row.escalate_at, row.escalation_step)
            await self._escalate(row.alert_id, row.version, clock, now)
        return len(due)

    async def _escalate(
        self, alert_id: UUID, version: int, clock: AlertClock, now: datetime
    ) -> None:
        chain = (await self.notifier.directory()).escalation
        step = next_escalation(clock, chain, now, after=self.notifier.escalate_after)
        if step is None:  # due, yet nobody further up
            await self._stop_timer(alert_id)
            return
        new = NewEvent(
            event=self._escalated(alert_id, step, now),
            event_id=derive_id(NAME, "escalate", alert_id, step.step),
            actor=NAME,
        )
        try:
            await self.notifier.store.commit(
                Commit([Append(stream_name(Category.alert, alert_id), [new], version)])
            )
        except ConcurrencyError:
            return  # acknowledged or escalated elsewhere meanwhile: look again
        log.info("alert_escalated", alert_id=str(alert_id), step=step.step)

    def _escalated(
        self, alert_id: UUID, step: Escalation, now: datetime
    ) -> AlertEscalated:
        return AlertEscalated(
            alert_id=alert_id,
            step=step.step,
            contact=alert_contact(step.contact),
            channels=channels_for(step.contact, self.notifier.configured_channels),
            next_escalation_at=step.next_at,
            escalated_at=now,
        )

    async def _stop_timer(self, alert_id: UUID) -> None:
        """The chain is exhausted: no more steps, but the alert stays open."""
        async with self.notifier.store.engine.begin() as conn:
            await conn.execute(
                update(alerts)
                .where(alerts.c.alert_id == alert_id)
                .values(escalate_at=None)
            )
        log.warning("escalation_chain_exhausted", alert_id=str(alert_id))
