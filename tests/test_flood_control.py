"""Per-user token buckets, driven by an injected clock."""

from __future__ import annotations

import pytest

from handlers.core.flood_control import FloodGate, Verdict


def test_burst_then_warn_once_then_drop() -> None:
    gate = FloodGate(burst=3, per_minute=6)
    verdicts = [gate.check(1, now=100.0) for _ in range(6)]
    assert verdicts == [Verdict.ALLOW] * 3 + [Verdict.WARN, Verdict.DROP, Verdict.DROP]


def test_tokens_refill_with_time() -> None:
    gate = FloodGate(burst=2, per_minute=6)  # one token every 10 s
    assert [gate.check(1, 0.0) for _ in range(3)] == [Verdict.ALLOW, Verdict.ALLOW, Verdict.WARN]
    assert gate.check(1, 9.0) is Verdict.DROP
    assert gate.check(1, 10.5) is Verdict.ALLOW
    assert gate.check(1, 10.6) is Verdict.WARN, "a new flood is announced again"
    assert gate.check(1, 1000.0) is Verdict.ALLOW
    assert gate.check(1, 1000.0) is Verdict.ALLOW, "refill is capped at the burst"
    assert gate.check(1, 1000.0) is Verdict.WARN


def test_users_are_independent() -> None:
    gate = FloodGate(burst=1, per_minute=1)
    assert gate.check(1, 0.0) is Verdict.ALLOW
    assert gate.check(1, 0.0) is Verdict.WARN
    assert gate.check(2, 0.0) is Verdict.ALLOW


def test_clock_going_backwards_does_not_mint_tokens() -> None:
    gate = FloodGate(burst=1, per_minute=60)
    assert gate.check(1, 100.0) is Verdict.ALLOW
    assert gate.check(1, 50.0) is Verdict.WARN


def test_idle_buckets_are_forgotten() -> None:
    gate = FloodGate(burst=1, per_minute=60)
    for user in range(10_000):
        gate.check(user, 0.0)
    gate.check(-1, 3600.0)
    assert len(gate) == 1


def test_rejects_nonsense_limits() -> None:
    with pytest.raises(ValueError):
        FloodGate(burst=0, per_minute=1)
