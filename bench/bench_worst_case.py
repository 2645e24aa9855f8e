"""Worst-case input benchmark: run by hand, prints a table and checks two time claims.

    python bench/bench_worst_case.py [--examples 400]

The property tests (tests/test_engine_properties.py, tests/test_dialog_properties.py)
check what the engine and the dialog parsers *do* with anything typed — 10,000
characters, odd scripts, controls, the plan's words shuffled. How long they take
is a timing claim, so it is measured here rather than asserted in the suite
(where a loaded machine would fail it): the same inputs (the tests' own
strategies and bodies, derandomized), each call timed in wall clock and in this
thread's CPU time (which other processes on a shared machine do not inflate).

Claims, on CPU time: one question < 1 s (p99 is about a millisecond; the explicit
examples once took a second of regex backtracking), all parsers on one input
< 0.5 s. Exits 1 when a claim fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from common import percentile  # noqa: E402

from tests import test_dialog_properties as dialogs  # noqa: E402
from tests import test_engine_properties as engine_props  # noqa: E402
from tests.bot_harness import shipped_engine  # noqa: E402

QUESTION_LIMIT = 1.0  # seconds of CPU for one question, whatever it is
PARSERS_LIMIT = 0.5  # seconds of CPU for every parser on one input of up to 10,000 chars
WORST_QUESTIONS = [  # the explicit examples of the engine's property test
    ("0" * 10_000, None),
    ("9" * 9_990 + "吨每小时", "1." * 5_000),
]


WORST: dict[int, str] = {}  # id(cpu list) -> the input of its slowest call


def timed(call: Callable[[], Any], wall: list[float], cpu: list[float], what: object) -> None:
    start, start_cpu = time.perf_counter(), time.thread_time()
    call()
    wall.append(time.perf_counter() - start)
    cpu.append(time.thread_time() - start_cpu)
    if cpu[-1] >= max(cpu):
        WORST[id(cpu)] = repr(what)[:70]


def questions(examples: int) -> tuple[list[float], list[float]]:
    engine = shipped_engine()
    body = engine_props.test_any_question_gets_a_bounded_answer.hypothesis.inner_test
    wall: list[float] = []
    cpu: list[float] = []
    for question, previous in WORST_QUESTIONS:
        timed(lambda q=question, p=previous: body(engine, q, p, 0), wall, cpu,
              (question, previous))

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(question=engine_props.QUESTIONS,
           previous=st.one_of(st.none(), engine_props.QUESTIONS),
           days=st.integers(min_value=-2000, max_value=4000))
    def run(question: str, previous: str | None, days: int) -> None:
        timed(lambda: body(engine, question, previous, days), wall, cpu,
              (question, previous, days))

    run()
    return wall, cpu


def parsers(examples: int) -> tuple[list[float], list[float]]:
    engine = shipped_engine()
    body = dialogs.test_parsers_return_a_value_or_a_clear_message.hypothesis.inner_test
    wall: list[float] = []
    cpu: list[float] = []

    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(text=dialogs.TEXTS)
    def run(text: str) -> None:
        timed(lambda: body(text, engine), wall, cpu, text)

    run()
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=400)
    args = parser.parse_args()
    print(f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {args.examples} examples each")
    print(f"{'what':<34}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'max CPU ms':>12}"
          f"{'claim ms':>10}")
    failed = False
    for name, measure, limit in (
        ("one question (engine)", questions, QUESTION_LIMIT),
        ("every parser on one input", parsers, PARSERS_LIMIT),
    ):
        wall, cpu = measure(args.examples)
        worst = max(cpu)
        failed |= worst >= limit
        print(f"{name:<34}{percentile(wall, 0.5) * 1000:>9.2f}"
              f"{percentile(wall, 0.99) * 1000:>9.2f}{max(wall) * 1000:>9.1f}"
              f"{worst * 1000:>12.1f}{limit * 1000:>10.0f}{'  FAILED' if worst >= limit else ''}")
        print(f"  slowest input: {WORST[id(cpu)]}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
