"""One-click acknowledgement links: the message names its delivery and carries an
HMAC of it, so the link works without a login and cannot be made up for another
alert. The delivery id is opaque (a uuid5): the URL carries no personal data."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlencode
from uuid import UUID


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
