"""Requests per second per API key: a token bucket per key, in each server process.

A key allowed R requests/s may burst to 2R (at least one request: a key of 0.1/s makes one request every 10 s);
with N processes behind a load balancer the effective limit is N x R (state it when sizing). One request is
one token, whatever it holds (a batch of 1,000 events too).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from uuid import UUID


def burst(rate: float) -> float:
    return max(1.0, 2 * rate)


@dataclass
class TokenBucket:
    rate: float
    tokens: float
    updated: float = field(default_factory=time.monotonic)

    def take(self) -> float:
        """0 when a request may pass now (and is counted), else the seconds until one may."""
        now = time.monotonic()
        self.tokens = min(burst(self.rate), self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return 0.0
        return (1 - self.tokens) / self.rate


@dataclass
class RateLimiter:
    buckets: dict[UUID, TokenBucket] = field(default_factory=dict)

    def retry_after(self, key_id: UUID, rate: float | None) -> float:
        """0 if the key's request may pass; no rate means unlimited."""
        if rate is None:
            return 0.0
        bucket = self.buckets.get(key_id)
        if bucket is None or bucket.rate != rate:
            bucket = self.buckets[key_id] = TokenBucket(rate=rate, tokens=burst(rate))
        return bucket.take()
