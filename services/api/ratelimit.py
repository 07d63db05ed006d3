"""Per-client token buckets: a burst is allowed, a sustained flood gets 429."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class RateLimiter:
    per_minute: int
    burst: int
    _buckets: dict[object, _Bucket] = field(default_factory=dict)

    def take(self, key: object, now: float) -> float:
        """Take one token; returns 0 if allowed, else seconds until one is free."""
        rate = self.per_minute / 60
        bucket = self._buckets.setdefault(key, _Bucket(self.burst, now))
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / rate
