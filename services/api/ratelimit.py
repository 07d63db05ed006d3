"""Token buckets by key: a burst is allowed, a sustained flood gets 429. Keyed by
API client for requests, and by source address for failed authentications."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field


@dataclass
class _Bucket:
    tokens: float
    updated: float


@dataclass
class RateLimiter:
    per_minute: int
    burst: int
    max_keys: int = 100_000
    """Buckets kept; past it the oldest goes (a full bucket is no bucket): a flood
    from many addresses must not grow memory without end."""
    _buckets: dict[Hashable, _Bucket] = field(default_factory=dict)

    def take(self, key: Hashable, now: float) -> float:
        """Take one token; returns 0 if allowed, else seconds until one is free."""
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                del self._buckets[next(iter(self._buckets))]
            bucket = self._buckets[key] = _Bucket(self.burst, now)
        wait = self._refill(bucket, now)
        if not wait:
            bucket.tokens -= 1
        return wait

    def wait(self, key: Hashable, now: float) -> float:
        """Seconds until ``key`` has a token, taking none; 0 if it has one now."""
        bucket = self._buckets.get(key)
        return self._refill(bucket, now) if bucket else 0.0

    def _refill(self, bucket: _Bucket, now: float) -> float:
        rate = self.per_minute / 60
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * rate)
        bucket.updated = now
        return 0.0 if bucket.tokens >= 1 else (1 - bucket.tokens) / rate
