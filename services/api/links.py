"""One-click acknowledgement links: the message names its delivery and carries an
HMAC of it, so the link works without a login and cannot be made up for another
alert. The delivery id is opaque (a uuid5): the URL carries no personal data.

The key is LANTERN_NOTIFIER_LINK_SECRET. Without it (never in production) the key is
made once and kept in the database (``signing_keys``): a key each process made up for
itself broke every link sent before a restart, and every link one process sent that
another process was asked to check."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode
from uuid import UUID

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine

from events.envelope import utcnow
from events.store.engine import writer
from services.api.tables import signing_keys

LINK_KEY = "ack_links"


@dataclass(frozen=True)
class AckLinks:
    secret: bytes
    base_url: str
    valid_for: timedelta = timedelta(days=7)

    def _mac(self, alert_id: UUID, delivery_id: str, expires: int) -> str:
        text = f"{alert_id}.{delivery_id}.{expires}".encode()
        return hmac.new(self.secret, text, hashlib.sha256).hexdigest()

    def url(self, alert_id: UUID, delivery_id: str, *, now: datetime) -> str:
        expires = int((now + self.valid_for).timestamp())
        query = urlencode(
            {
                "d": delivery_id,
                "e": expires,
                "s": self._mac(alert_id, delivery_id, expires),
            }
        )
        return f"{self.base_url.rstrip('/')}/v1/alerts/{alert_id}/ack-link?{query}"

    def valid(
        self, alert_id: UUID, delivery_id: str, expires: int, mac: str, *, now: datetime
    ) -> bool:
        expected = self._mac(alert_id, delivery_id, expires)
        return hmac.compare_digest(expected, mac) and now.timestamp() < expires


async def stored_link_key(engine: AsyncEngine) -> bytes:
    """The database's link key, made by the first process that asks; processes that
    start together agree, since only one insert can win."""
    upsert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    made = {"name": LINK_KEY, "secret": secrets.token_hex(32), "created_at": utcnow()}
    async with writer(engine).begin() as conn:
        await conn.execute(
            upsert(signing_keys)
            .values(made)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        secret = await conn.scalar(
            select(signing_keys.c.secret).where(signing_keys.c.name == LINK_KEY)
        )
    return str(secret).encode()
