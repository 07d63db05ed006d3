"""Webhook subscriptions: integrators without Kafka receive the events they may see as
signed CloudEvents POSTed to their own URL, in order, at least once, with replay."""
