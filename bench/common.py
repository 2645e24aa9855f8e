"""What every benchmark needs: a driver process's next word, percentiles and medians.

Kept free of the bot's imports so any benchmark (and the export child of
bench_staff.py) can use it without loading python-telegram-bot.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any


def recv(conn: Connection, timeout: float = 3600.0) -> Any:
    """The other process's next message; a silent one is an error, not a hang."""
    if not conn.poll(timeout):
        raise TimeoutError("the other process went silent")
    return conn.recv()


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (nearest rank) of ``values``; nan when there are none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def percentile_ms(seconds: list[float], q: float) -> float:
    return percentile(seconds, q) * 1000


def median_ms(action: Callable[[], object], repeats: int) -> float:
    """The median wall time of ``repeats`` calls of ``action``, in milliseconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)
