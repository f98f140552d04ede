"""Per-key token buckets (Send API requests per token), kept in this process's memory."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from outpost.errors import RateLimited


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Allow ``rate`` requests per second per key, with bursts up to ``burst``."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str, now: float | None = None) -> RateLimited | None:
        """Take one request from ``key``'s bucket, or the refusal (with a Retry-After)."""
        now = time.monotonic() if now is None else now
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) > 100_000:
                self._forget_full(now)
            bucket = self._buckets[key] = _Bucket(tokens=float(self.burst), updated=now)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        if bucket.tokens < 1:
            wait = math.ceil((1 - bucket.tokens) / self.rate)
            return RateLimited(
                f"Rate limit of {self.rate:g} requests per second exceeded; retry in {wait} s.",
                retry_after=wait,
                code="rate_limited",
            )
        bucket.tokens -= 1
        return None

    def _forget_full(self, now: float) -> None:
        full_after = self.burst / self.rate
        self._buckets = {key: b for key, b in self._buckets.items() if now - b.updated < full_after}
