"""The alerts read models, written a group at a time under the append lock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

from sqlalchemy import select

from events.contracts.alerts import (
    AlertContact,
    AlertDeliveryFailed,
    AlertRaised,
    AlertSendAttempted,
    AlertSent,
)
from events.contracts.missing import RiskGrade
from events.envelope import NewEvent
from events.store import Append, Commit
from events.store.engine import create_engine
from events.store.sql import SqlEventStore
from services.notifier.projector import AlertsProjector, delivery_id
from services.notifier.tables import alerts, deliveries

AT = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


async def test_rows_that_change_different_columns_in_one_group_each_keep_the_rest(
    database_url: str,
):
    """In one group, one message is claimed again after a failure, one is claimed
    and sent, one is claimed and fails: one UPDATE sets what each event changed and
    keeps the rest (the first one's last error, the others' provider ids)."""
    store = SqlEventStore(create_engine(database_url), projectors=[AlertsProjector()])
    contact = AlertContact(recipient_id="duty", webhook_url="http://127.0.0.1:9/hook")
    claimed, sent, failing = uuid4(), uuid4(), uuid4()
    lease, retry = AT + timedelta(seconds=90), AT + timedelta(seconds=2)

    def raised(alert_id: UUID) -> NewEvent:
        return NewEvent(event=AlertRaised(
            alert_id=alert_id, episode_id=uuid4(), role="duty_team", scope="full",
            level=RiskGrade.high, contact=contact, channels=["webhook"],
            escalate_at=None, raised_at=AT))  # fmt: skip

    def attempted(alert_id: UUID, attempt: int) -> NewEvent:
        return NewEvent(event=AlertSendAttempted(
            alert_id=alert_id, delivery_id=delivery_id(alert_id, "alert", contact),
            kind="alert", channel="webhook", attempt=attempt, attempted_at=AT,
            lease_until=lease))  # fmt: skip

    def failed(alert_id: UUID, code: str) -> NewEvent:
        return NewEvent(event=AlertDeliveryFailed(
            alert_id=alert_id, delivery_id=delivery_id(alert_id, "alert", contact),
            kind="alert", channel="webhook", attempt=1, code=code, status=503,
            permanent=False, retry_at=retry, failed_at=AT))  # fmt: skip

    try:
        everyone = [Append(f"alert-{a}", [raised(a)]) for a in (claimed, sent, failing)]
        await store.commit(Commit(everyone))
        first_try = [attempted(claimed, 1), failed(claimed, "timeout")]
        await store.commit(Commit([Append(f"alert-{claimed}", first_try)]))
        await store.commit(Commit([
            Append(f"alert-{claimed}", [attempted(claimed, 2)]),
            Append(f"alert-{sent}", [attempted(sent, 1), NewEvent(event=AlertSent(
                alert_id=sent, delivery_id=delivery_id(sent, "alert", contact),
                kind="alert", channel="webhook", attempt=1, provider_id="p-1",
                accepted_at=AT))]),
            Append(f"alert-{failing}", [attempted(failing, 1),
                                        failed(failing, "http_503")]),
        ]))  # fmt: skip

        rows = await store.select(
            select(
                deliveries.c.alert_id, deliveries.c.status, deliveries.c.attempt,
                deliveries.c.due_at, deliveries.c.provider_id,
                deliveries.c.last_error, alerts.c.version,
            ).join(alerts, alerts.c.alert_id == deliveries.c.alert_id)
        )  # fmt: skip
        assert {row.alert_id: tuple(row)[1:] for row in rows} == {
            claimed: ("attempting", 2, lease, None, "timeout", 4),
            sent: ("sent", 1, None, "p-1", None, 3),
            failing: ("pending", 1, retry, None, "http_503", 3),
        }
    finally:
        await store.close()
