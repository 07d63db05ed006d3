"""Integrators' webhook subscriptions (services/webhooks): what is recorded of them
in the log. The subscriptions themselves are rows, with their checkpoints."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from events.registry import Event


class WebhookSubscriptionPaused(Event):
    """Deliveries failed for longer than allowed: Lantern paused the subscription.
    Its owner (``client_id``) sees it paused, with ``reason``, and resumes it."""

    subscription_id: UUID
    client_id: UUID
    failing_since: datetime
    last_error: str
    reason: str
    paused_at: datetime
