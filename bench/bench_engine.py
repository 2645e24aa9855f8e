"""Answer-engine benchmark: run by hand, prints a table.

    python bench/bench_engine.py [--rounds 5]

Measures, each as the median of several rounds, with a baseline run in the
same process (these machines are shared and noisy, so ratios travel better
than absolute figures):

* per-question latency p50/p99 on the shipped KB (wall clock, and the p99 in this
  thread's CPU time, which a busy shared machine does not inflate), against a baseline of
  rapidfuzz ``extractOne`` over the same sample questions (fuzzy-only search);
  the questions cover every class the engine answers (rules, facts, task numbers,
  lists, details, definitions, English, follow-ups with their previous question,
  out of scope, junk), asked as on one day (deadline notes on);
* the same on a generated KB of 10,000 facts;
* the cold start of ``lvdong ask`` as a new process, against ``python -c pass``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from rapidfuzz import fuzz, process

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import percentile

from knowledge.engine import Engine
from knowledge.loader import load_kb
from knowledge.model import Fact, KnowledgeBase
from knowledge.normalize import normalize

QUESTIONS = [
    "燃煤热风炉什么时候必须淘汰？",
    "炉膛直径2.5米的煤气发生炉还能用吗",
    "铸造企业12吨每小时的冲天炉",
    "岩棉行业的冲天炉怎么处理",
    "木器涂料执行什么标准",
    "胶水VOCs限量标准",
    "门禁系统什么时候建完",
    "淘汰落后产能归哪个处管",
    "重型柴油车国六什么时候执行",
    "黄河流域排放标准现有企业何时执行",
    "錯峰生產涉及哪些行業",
    "冲天护要淘汰吗",
    "今天天气怎么样",
    "帮我订一张火车票",
    "",
    "<b>x</b> & * _ ' OR 1=1 --",
    "😀😀😀",
    "土壤重点监管单位自行监测率",
    "电镀企业拆除设备要备案吗",
    "新建项目绩效分级要达到什么级别",
    # structured lookups, details, definitions, English (issue 10)
    "第13项任务由谁负责",
    "土壤污染防治有哪些任务",
    "2021年10月底前要完成什么",
    "涂料要用什么标准",
    "土壤重点监管单位要做哪些改造",
    "VOCs是什么意思",
    "Which office is responsible for the door access systems?",
    "违规新增产能项目罚款多少钱",
    # issue 19: several questions, comparisons, lists an official asks, not in the plan
    "我们是洛阳做铸造的，厂里有一台8吨/小时的冲天炉，想问下是不是必须淘汰？最晚什么时候之前？"
    "另外我们想再新上一个铸造项目还能批吗",
    "铸造厂有两台冲天炉，一台8吨一台12吨，分别要淘汰吗",
    "铝工业和有色金属冶炼及压延的炉窑目标哪个高",
    "哪些任务要配合省市场监管局？",
    "哪个处负责的任务最多",
    "企业拆除活动要提前多少天去备案",
    "When was this plan issued, and by which authority?",
]
# Follow-ups, each timed with the question before it as the chat's previous question.
FOLLOW_UPS = [
    ("陶瓷企业工业炉窑治理要达到啥目标", "那石灰窑呢？"),
    ("大宗物料运输企业门禁系统有多少个行业要建", "哪个处负责？"),
    ("炉膛直径2米的燃料类煤气发生炉要淘汰吗", "那直径4米的呢"),
    ("黄河流域水污染物排放标准新建企业啥时候执行", "那现有企业呢"),
]
TODAY = dt.date(2026, 12, 1)


def time_each(fn: object, questions: list[str], repeat: int) -> tuple[list[float], list[float]]:
    """Milliseconds per call, every question ``repeat`` times: wall clock, and this thread's
    CPU time (which leaves out the time other processes on a shared machine took)."""
    wall, cpu = [], []
    for _ in range(repeat):
        for q in questions:
            start, start_cpu = time.perf_counter(), time.thread_time()
            fn(q)  # type: ignore[operator]
            wall.append((time.perf_counter() - start) * 1000)
            cpu.append((time.thread_time() - start_cpu) * 1000)
    return wall, cpu


def generated_kb(base: KnowledgeBase, size: int) -> KnowledgeBase:
    """``size`` facts: the real ones, then variants with distinct topic words and questions."""
    facts: list[Fact] = list(base.facts)
    i = 0
    while len(facts) < size:
        src = base.facts[i % len(base.facts)]
        n = len(facts)
        facts.append(
            dataclasses.replace(
                src,
                id=f"gen-{n}",
                topics=tuple(tuple(f"{alt}{n}号" for alt in group) for group in src.topics),
                questions=tuple(f"{q}（第{n}号）" for q in src.questions),
            )
        )
        i += 1
    return dataclasses.replace(base, facts=tuple(facts))


def fuzzy_baseline(kb: KnowledgeBase) -> object:
    choices = [normalize(q) for f in kb.facts for q in f.questions]

    def ask(q: str) -> object:
        return process.extractOne(normalize(q), choices, scorer=fuzz.ratio)

    return ask


def latency_row(name: str, kb: KnowledgeBase, rounds: int) -> list[str]:
    engine = Engine(kb)
    baseline = fuzzy_baseline(kb)
    previous = {q: engine.ask(p, today=TODAY).understood for p, q in FOLLOW_UPS}
    questions = QUESTIONS + [q for _, q in FOLLOW_UPS]

    def ask(question: str) -> object:
        return engine.ask(question, today=TODAY, previous=previous.get(question))

    p50s, p99s, cpu99s, base50 = [], [], [], []
    for _ in range(rounds):
        times, cpu = time_each(ask, questions, repeat=5)
        base, _ = time_each(baseline, questions, repeat=5)
        p50s.append(percentile(times, 0.5))
        p99s.append(percentile(times, 0.99))
        cpu99s.append(percentile(cpu, 0.99))
        base50.append(percentile(base, 0.5))
    p50, p99, cpu99, b50 = (statistics.median(x) for x in (p50s, p99s, cpu99s, base50))
    return [name, f"{len(kb.facts)}", f"{p50:.3f}", f"{p99:.3f}", f"{cpu99:.3f}", f"{b50:.3f}",
            f"{p50 / b50:.1f}x"]


def cold_start(rounds: int) -> tuple[float, float]:
    lvdong = shutil.which("lvdong") or str(Path(sys.executable).with_name("lvdong"))
    runs, base = [], []
    for _ in range(rounds):
        start = time.perf_counter()
        subprocess.run([lvdong, "ask", "燃煤热风炉什么时候淘汰"], check=True, capture_output=True)
        runs.append(time.perf_counter() - start)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True, capture_output=True)
        base.append(time.perf_counter() - start)
    return statistics.median(runs), statistics.median(base)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    kb = load_kb()
    # The shipped KB first, alone in the process as in the bot: a 10,000-fact KB kept
    # alive would make every garbage collection, and so the shipped p99, slower.
    shipped = latency_row("shipped", kb, args.rounds)
    start = time.perf_counter()
    big = generated_kb(kb, 10_000)
    Engine(big)
    build_ms = (time.perf_counter() - start) * 1000
    rows = [
        ["KB", "facts", "p50 ms", "p99 ms", "p99 CPU ms", "fuzzy-only p50 ms",
         "p50 vs fuzzy-only"],
        shipped,
        latency_row("generated", big, args.rounds),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))
    print(f"\nbuilding the engine over 10,000 facts: {build_ms:.0f} ms")
    cold, python = cold_start(args.rounds)
    print(
        f"cold start `lvdong ask`: median {cold:.2f} s (bare `python -c pass`: {python:.2f} s, "
        f"{cold / python:.1f}x)"
    )


if __name__ == "__main__":
    main()
