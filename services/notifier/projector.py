"""Keeps the alerts and deliveries read models from the alert events, in the same
transaction as the events: a delivery is queued exactly when its cause is recorded.
News and a raised level that go into one update message queue one delivery, due at
the earliest time any of them asked for."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Boolean,
    Table,
    Update,
    bindparam,
    case,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.sql import Executable

from events.contracts.alerts import (
    AlertAcknowledged,
    AlertClosed,
    AlertContact,
    AlertDelivered,
    AlertDeliveryFailed,
    AlertEscalated,
    AlertFailureReported,
    AlertNewsAdded,
    AlertRaised,
    AlertSendAttempted,
    AlertSent,
    AlertUpdated,
    ChannelName,
    DeliveryKind,
)
from events.envelope import Envelope
from events.registry import Event
from services.notifier.channels import idempotency_key
from services.notifier.tables import alerts, deliveries

TYPES = frozenset(
    cls.type_name
    for cls in (
        AlertRaised,
        AlertUpdated,
        AlertNewsAdded,
        AlertClosed,
        AlertAcknowledged,
        AlertEscalated,
        AlertFailureReported,
        AlertSendAttempted,
        AlertSent,
        AlertDeliveryFailed,
        AlertDelivered,
    )
)
QUEUEING = frozenset(
    cls.type_name
    for cls in (
        AlertRaised,
        AlertUpdated,
        AlertNewsAdded,
        AlertEscalated,
        AlertFailureReported,
        AlertClosed,
        AlertDeliveryFailed,
    )
)
"""What may queue a message that is due at once: the dispatcher wakes for these."""
UNSENT = ("pending", "attempting")


def delivery_id(
    alert_id: UUID, kind: DeliveryKind, contact: AlertContact, occasion: str = ""
) -> str:
    return idempotency_key(alert_id, kind, contact.recipient_id, occasion)


class AlertsProjector:
    tables: Sequence[Table] = (alerts, deliveries)

    def apply(self, conn: Connection, envelopes: Sequence[Envelope]) -> None:
        writes = _Writes()
        for envelope in envelopes:
            if envelope.type in TYPES:
                writes.trace_context = envelope.trace_context
                _apply(conn, writes, envelope)
        writes.flush(conn)


KEYS = {alerts: alerts.c.alert_id, deliveries: deliveries.c.delivery_id}
INSERT_ALERTS = insert(alerts)


class _Writes:
    """The group's writes, held back and sent as one statement per table and kind
    (insert, update): the append lock is held while they run, and one round trip per
    event made up most of a busy notifier's transactions. Changes to one row are
    merged in event order; ``flush`` before reading what they change."""

    def __init__(self) -> None:
        self.inserts: dict[Table, dict[Any, dict[str, Any]]] = {
            alerts: {},
            deliveries: {},
        }
        self.changes: dict[Table, dict[Any, dict[str, Any]]] = {
            alerts: {},
            deliveries: {},
        }
        self.trace_context: str | None = None
        """The trace of the event being applied."""

    def insert(self, table: Table, row: dict[str, Any]) -> None:
        """A row queued twice in one group (one message asked for twice) is one, due
        at the earlier time: a statement may not write one row twice. A message
        keeps the trace of the event that queued it, for its send to carry on."""
        if table is deliveries:
            row["trace_context"] = self.trace_context
        key = row[KEYS[table].name]
        queued = self.inserts[table].setdefault(key, row)
        if queued is not row:  # a delivery: alerts are raised once
            queued["due_at"] = min(queued["due_at"], row["due_at"])

    def change(self, table: Table, key: Any, values: dict[str, Any]) -> None:
        self.changes[table].setdefault(key, {}).update(values)

    def flush(self, conn: Connection) -> None:
        if self.inserts[alerts]:
            conn.execute(INSERT_ALERTS, list(self.inserts[alerts].values()))
        if self.inserts[deliveries]:
            postgres = conn.dialect.name == "postgresql"
            rows = list(self.inserts[deliveries].values())
            conn.execute(_insert_deliveries(postgres), rows)
        for table, changes in self.changes.items():
            if changes:
                conn.execute(*_changes(table, changes))
        for queued in self.inserts.values():
            queued.clear()
        for changed in self.changes.values():
            changed.clear()


def _changes(
    table: Table, changes: dict[Any, dict[str, Any]]
) -> tuple[Update, list[dict[str, Any]]]:
    """One UPDATE for rows that change different columns: a column that only some
    of them change is set where its ``set_`` flag is true and kept elsewhere."""
    columns = tuple(sorted({c for values in changes.values() for c in values}))
    everywhere = frozenset.intersection(*(frozenset(v) for v in changes.values()))
    rows = [
        {"key": key}
        | {f"new_{c}": values.get(c) for c in columns}
        | {f"set_{c}": c in values for c in columns if c not in everywhere}
        for key, values in changes.items()
    ]
    return _change_statement(table, columns, everywhere), rows


@functools.lru_cache(maxsize=256)  # the shapes a group's changes take are few
def _change_statement(
    table: Table, columns: tuple[str, ...], everywhere: frozenset[str]
) -> Update:
    """Built once per shape: building it per group cost more than running it."""
    new = {c: bindparam(f"new_{c}", type_=table.c[c].type) for c in columns}
    return (
        update(table)
        .where(KEYS[table] == bindparam("key"))
        .values({
            c: new[c] if c in everywhere
            else case((bindparam(f"set_{c}", type_=Boolean), new[c]), else_=table.c[c])
            for c in columns
        })
    )  # fmt: skip


@functools.cache
def _insert_deliveries(postgres: bool) -> Executable:
    """A message queued again (news for an update still waiting, a failure reported
    again) stays one; while unsent, it goes at the earliest time asked for."""
    stmt = (pg_insert if postgres else sqlite_insert)(deliveries)
    earliest = (func.least if postgres else func.min)(
        deliveries.c.due_at, stmt.excluded.due_at
    )
    return stmt.on_conflict_do_update(
        index_elements=["delivery_id"],
        set_={"due_at": earliest},
        where=deliveries.c.status == "pending",
    )


def _apply(conn: Connection, writes: _Writes, envelope: Envelope) -> None:
    event, version = envelope.event, envelope.stream_version
    if isinstance(event, AlertRaised):
        writes.insert(
            alerts,
            {
                "alert_id": event.alert_id,
                "episode_id": event.episode_id,
                "version": version,
                "role": event.role,
                "scope": event.scope,
                "recipient_id": event.contact.recipient_id,
                "level": event.level,
                "status": "open",
                "raised_at": event.raised_at,
                "escalation_step": 0,
                "escalate_at": event.escalate_at,
                "acknowledged_at": None,
                "acknowledged_by": None,
                "closed_at": None,
                "matter": event.matter.kind if event.matter else None,
            },
        )
        _queue(
            writes, event.alert_id, "alert", event.contact, event.channels,
            due=event.raised_at,
        )  # fmt: skip
        return
    alert_id: UUID = event.alert_id  # type: ignore[attr-defined]
    changes: dict[str, Any] = {"version": version}
    if isinstance(event, AlertUpdated):
        changes |= {"level": event.level, "escalate_at": event.escalate_at}
        contact, channels = _raised(conn, writes, alert_id)
        _queue(
            writes, alert_id, "update", contact, channels, due=event.updated_at,
            occasion=event.occasion,
        )  # fmt: skip
    elif isinstance(event, AlertNewsAdded):
        contact, channels = _raised(conn, writes, alert_id)
        _queue(
            writes, alert_id, "update", contact, channels, due=event.send_at,
            occasion=event.occasion,
        )  # fmt: skip
    elif isinstance(event, AlertAcknowledged):
        changes |= {
            "status": "acknowledged",
            "escalate_at": None,
            "acknowledged_at": event.acknowledged_at,
            "acknowledged_by": envelope.actor,
        }
    elif isinstance(event, AlertEscalated):
        changes |= {
            "escalation_step": event.step,
            "escalate_at": event.next_escalation_at,
        }
        _queue(
            writes, alert_id, "escalation", event.contact, event.channels,
            due=event.escalated_at, occasion=str(event.step),
        )  # fmt: skip
    elif isinstance(event, AlertFailureReported):
        _queue(
            writes, alert_id, "failure", event.contact, event.channels,
            due=event.reported_at,
        )  # fmt: skip
    elif isinstance(event, AlertClosed):
        changes |= {
            "status": "closed",
            "escalate_at": None,
            "closed_at": event.closed_at,
        }
        _close(conn, writes, alert_id, event.closed_at)
    else:
        _delivery_progress(conn, writes, event)
    writes.change(alerts, alert_id, changes)


def _raised(
    conn: Connection, writes: _Writes, alert_id: UUID
) -> tuple[AlertContact, list[ChannelName]]:
    """The alert's own recipient and channels, as its first message has them."""
    writes.flush(conn)
    query = select(deliveries.c.contact, deliveries.c.channels).where(
        deliveries.c.alert_id == alert_id, deliveries.c.kind == "alert"
    )
    row = (conn.execute(query)).one()
    return AlertContact.model_validate(row.contact), row.channels


def _queue(
    writes: _Writes,
    alert_id: UUID,
    kind: DeliveryKind,
    contact: AlertContact,
    channels: Sequence[ChannelName],
    *,
    due: datetime,
    occasion: str = "",
) -> None:
    """A message to send; the same message queued twice (the same failure reported
    again, say) stays one."""
    writes.insert(
        deliveries,
        {
            "delivery_id": delivery_id(alert_id, kind, contact, occasion),
            "alert_id": alert_id,
            "kind": kind,
            "occasion": occasion,
            "contact": contact.model_dump(mode="json"),
            "channels": list(channels),
            "channel_index": 0,
            "attempt": 0,
            "status": "pending" if channels else "failed",
            "due_at": due,
            "last_error": None if channels else "no_channel",
            "provider_id": None,
        },
    )


def _close(conn: Connection, writes: _Writes, alert_id: UUID, at: datetime) -> None:
    """Unsent news about an episode that is over is dropped; whoever was told that a
    child is missing is told it is over."""
    writes.flush(conn)
    of_alert = deliveries.c.alert_id == alert_id
    told = conn.scalar(
        select(deliveries.c.delivery_id)
        .where(of_alert, deliveries.c.status.not_in(("pending", "cancelled", "failed")))
        .limit(1)
    )
    conn.execute(
        update(deliveries)
        .where(of_alert, deliveries.c.status == "pending")
        .values(status="cancelled", due_at=None)
    )
    if told is not None:
        contact, channels = _raised(conn, writes, alert_id)
        _queue(writes, alert_id, "closed", contact, channels, due=at)


def _delivery_progress(conn: Connection, writes: _Writes, event: Event) -> None:
    key = event.delivery_id  # type: ignore[attr-defined]
    values: dict[str, Any]
    if isinstance(event, AlertSendAttempted):
        values = {
            "status": "attempting",
            "attempt": event.attempt,
            "due_at": event.lease_until,
        }
    elif isinstance(event, AlertSent):
        values = {"status": "sent", "provider_id": event.provider_id, "due_at": None}
    elif isinstance(event, AlertDelivered):
        values = {"status": "delivered"}
    elif isinstance(event, AlertDeliveryFailed) and not event.permanent:
        values = {
            "status": "pending",
            "due_at": event.retry_at,
            "last_error": event.code,
        }
    elif isinstance(event, AlertDeliveryFailed):  # permanent: the next channel
        writes.flush(conn)
        current = (
            conn.execute(
                select(deliveries.c.channel_index, deliveries.c.channels).where(
                    deliveries.c.delivery_id == key
                )
            )
        ).one()
        following = current.channel_index + 1
        values = {
            "channel_index": following,
            "last_error": event.code,
            "provider_id": None,
        }
        if following < len(current.channels):
            values |= {"status": "pending", "due_at": event.failed_at}
        else:
            values |= {"status": "failed", "due_at": None}
    else:
        return
    writes.change(deliveries, key, values)
