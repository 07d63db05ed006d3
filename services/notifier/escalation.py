"""Escalation: a high-risk episode that nobody of the child's care team acknowledged
in time goes to the next contact of the council's escalation chain, then the next
(``next_escalation`` in routing.py says which and when). It follows the episode, not
each alert: the chain is told once per step, and an acknowledgement of any of the care
team's alerts stops it for all of them.

The timers are the ``alerts`` read model (``escalate_at``), so they survive a restart:
a notifier that was down escalates, when it is back, everything that fell due. Each
step is recorded on one alert of the episode (the carrier), at its stream's version
and with an id derived from the episode and the step, so an acknowledgement of that
alert landing at the same moment wins, and no step is recorded twice, whichever
alert fell due and however many notifiers look. The other alerts' timers follow
the episode's: a read-model change, worked out again from the events when it is lost.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import structlog
from sqlalchemy import bindparam, select, update

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
    Hold,
    channels_for,
    next_escalation,
)
from services.notifier.tables import alerts

log = structlog.get_logger()
DUE = (
    select(alerts.c.episode_id)
    .where(alerts.c.status == "open", alerts.c.escalate_at <= bindparam("now"))
    .order_by(alerts.c.escalate_at)
    .limit(bindparam("limit"))
)
EPISODE_CLOCKS = select(
    alerts.c.alert_id,
    alerts.c.version,
    alerts.c.role,
    alerts.c.status,
    alerts.c.escalate_at,
    alerts.c.escalation_step,
).where(alerts.c.episode_id == bindparam("episode_id"), alerts.c.matter.is_(None))


class EscalationScheduler(Poller):
    def __init__(
        self, notifier: Notifier, *, poll_s: float = 5.0, batch: int = 100
    ) -> None:
        super().__init__(
            self.escalate_due, failed="escalation_failed", poll_s=poll_s, batch=batch
        )
        self.notifier = notifier

    async def escalate_due(self) -> int:
        """Each episode with an alert due, once; returns how many alerts were due."""
        now = self.notifier.now()
        due = await self.notifier.store.select(DUE, {"now": now, "limit": self.batch})
        for episode_id in dict.fromkeys(row.episode_id for row in due):
            await self._escalate(episode_id, now)
        return len(due)

    async def _escalate(self, episode_id: UUID, now: datetime) -> None:
        rows = await self.notifier.store.select(
            EPISODE_CLOCKS, {"episode_id": episode_id}
        )
        versions = {row.alert_id: row.version for row in rows}
        clocks = [
            AlertClock(r.alert_id, r.role, r.status, r.escalate_at, r.escalation_step)
            for r in rows
        ]
        chain = (await self.notifier.directory()).escalation
        step = next_escalation(clocks, chain, now, after=self.notifier.escalate_after)
        if isinstance(step, Hold):
            await self._set_timers(episode_id, step.until)
            return
        carrier = step.carrier.alert_id
        new = NewEvent(
            event=self._escalated(carrier, step, now),
            event_id=derive_id(NAME, "escalate", episode_id, step.step),
            actor=NAME,
        )
        append = Append(stream_name(Category.alert, carrier), [new], versions[carrier])
        try:
            await self.notifier.store.commit(Commit([append]))
        except ConcurrencyError:
            return  # acknowledged or escalated elsewhere meanwhile: look again
        await self._set_timers(episode_id, step.next_at)
        log.info("episode_escalated", episode_id=str(episode_id), step=step.step)

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

    async def _set_timers(self, episode_id: UUID, until: datetime | None) -> None:
        """The episode's open timers follow its next step (None: stopped; the alerts
        stay open), so an alert whose step another carried is not due again."""
        async with self.notifier.store.engine.begin() as conn:
            await conn.execute(
                update(alerts)
                .where(
                    alerts.c.episode_id == episode_id,
                    alerts.c.status == "open",
                    alerts.c.escalate_at.is_not(None),
                )
                .values(escalate_at=until)
            )
        if until is None:
            log.info("escalation_stopped", episode_id=str(episode_id))
