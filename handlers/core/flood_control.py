"""Per-user token buckets: a burst of questions is fine, a flood is slowed down.

Pure logic with the time passed in, so tests drive it with a fake clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Verdict(Enum):
    ALLOW = "allow"
    WARN = "warn"  # first refusal of a flood: tell the user to slow down
    DROP = "drop"  # further refusals: stay quiet, the user has been told


@dataclass
class Bucket:
    tokens: float
    updated: float
    warned: bool = False


class FloodGate:
    """``burst`` updates at once, refilled at ``per_minute`` a minute, per user."""

    def __init__(self, burst: int, per_minute: float) -> None:
        if burst < 1 or per_minute <= 0:
            raise ValueError("burst must be >= 1 and per_minute > 0")
        self.burst = float(burst)
        self.rate = per_minute / 60.0  # tokens per second
        self._buckets: dict[int, Bucket] = {}

    def check(self, user_id: int, now: float) -> Verdict:
        bucket = self._buckets.get(user_id)
        if bucket is None:
            if len(self._buckets) >= 10_000:
                self._forget_idle(now)
            bucket = self._buckets[user_id] = Bucket(tokens=self.burst, updated=now)
        elapsed = max(0.0, now - bucket.updated)
        bucket.tokens = min(self.burst, bucket.tokens + elapsed * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            bucket.warned = False
            return Verdict.ALLOW
        if bucket.warned:
            return Verdict.DROP
        bucket.warned = True
        return Verdict.WARN

    def _forget_idle(self, now: float) -> None:
        """Drop buckets that have refilled completely: they hold no information."""
        for user_id, bucket in list(self._buckets.items()):
            if bucket.tokens + (now - bucket.updated) * self.rate >= self.burst:
                del self._buckets[user_id]

    def __len__(self) -> int:
        return len(self._buckets)
