"""Benchmark the whole bot stack against a bare python-telegram-bot bot. Run by hand:

    .venv/bin/python bench/bench_bot.py [--users 50] [--rounds 5] [--seconds 3]

Each simulated user sends a question, waits for the reply, and sends the next
(closed loop), for ``--seconds`` per round. Both bots run the real
``Application`` over real HTTP (httpx → the aiohttp Bot API stand-in of
``tests/botapi_server.py`` on 127.0.0.1) in this one process; the table shows
the median of the rounds.

Like with like: the AIORateLimiter paces the bot at Telegram's 30 messages a
second, which would make the comparison meaningless, so lvdong runs here with
pacing off (``ResilientRateLimiter(paced=False)``: retries stay on) and a flood
limit high enough not to trigger; the bare bot has no limiter. Everything else
(engine, SQLite log with the project's pragmas, handlers, escaping, buttons) is
what ``lvdong run`` does. Variants: both bots sequential (python-telegram-bot's
default) and both with per-user ordering + concurrency across users.

``--rtt-ms`` adds a simulated network round trip to every Bot API request. At 0
(the default) the stand-in answers in microseconds and everything is CPU in one
process, which is the worst case for lvdong's relative cost; with a realistic
round trip (Telegram is tens of milliseconds away) sequential processing is
bounded by the round trip and concurrency across users is what matters.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from telegram import Update  # noqa: E402
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler  # noqa: E402
from telegram.ext import filters as tg_filters  # noqa: E402
from telegram.request import HTTPXRequest  # noqa: E402

from bot.app import build_application  # noqa: E402
from bot.lifecycle import polling  # noqa: E402
from bot.local_api import ApiCall  # noqa: E402
from bot.sending import ResilientRateLimiter  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.update_order import PerUserUpdateProcessor  # noqa: E402
from knowledge.engine import load_engine  # noqa: E402
from storage.db import open_db  # noqa: E402
from tests.botapi_server import BotApiServer  # noqa: E402

QUESTIONS = (
    "燃煤锅炉什么时候要淘汰？",
    "冲天炉要淘汰吗？",
    "VOCs治理有什么要求？",
    "今天天气怎么样？",
    "这个方案是哪个部门发的？",
)
App = Application[Any, Any, Any, Any, Any, Any]


@dataclass(frozen=True)
class RoundResult:
    replies: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.replies / self.seconds


def _engine() -> Any:
    try:
        return load_engine(None)
    except Exception as exc:  # the shipped KB may be mid-edit: fall back to the test KB
        print(f"(shipped KB not loadable: {str(exc)[:80]}; using tests/data/mini-kb.yaml)")
        return load_engine(ROOT / "tests" / "data" / "mini-kb.yaml")


def _requests() -> tuple[HTTPXRequest, HTTPXRequest]:
    return HTTPXRequest(connection_pool_size=128), HTTPXRequest()


def lvdong_app(server: BotApiServer, workdir: Path, concurrency: int) -> App:
    settings = Settings(
        token=server.token, api_base_url=server.base_url, db_path=workdir / "bench.sqlite",
        flood_burst=1_000_000, flood_per_minute=1e9, max_concurrent_updates=concurrency,
    )
    request, updates = _requests()
    return build_application(
        settings, engine=ENGINE, db=open_db(settings.db_path),
        request=request, get_updates_request=updates,
        rate_limiter=ResilientRateLimiter(paced=False),
    )


async def _fixed_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text("收到")


def bare_app(server: BotApiServer, workdir: Path, concurrency: int) -> App:
    request, updates = _requests()
    builder = (
        ApplicationBuilder().token(server.token).base_url(server.base_url)
        .request(request).get_updates_request(updates)
    )
    if concurrency > 1:
        builder = builder.concurrent_updates(PerUserUpdateProcessor(concurrency))
    app = builder.build()
    app.add_handler(MessageHandler(tg_filters.TEXT, _fixed_reply))
    return app


async def one_round(
    make_app: Callable[[BotApiServer, Path, int], App], concurrency: int, users: int,
    seconds: float, workdir: Path, rtt: float = 0.0,
) -> RoundResult:
    async with BotApiServer(latency=rtt) as server:
        api = server.api
        waiting: dict[int, asyncio.Future[float]] = {}

        def on_call(call: ApiCall) -> None:
            if call.method == "sendMessage":
                future = waiting.pop(int(call.params["chat_id"]), None)
                if future is not None and not future.done():
                    future.set_result(time.perf_counter())

        api.listeners.append(on_call)
        app = make_app(server, workdir, concurrency)
        latencies: list[float] = []
        async with polling(app, poll_timeout=1.0):
            deadline = time.perf_counter() + seconds
            loop = asyncio.get_running_loop()

            async def user(user_id: int) -> None:
                n = 0
                while time.perf_counter() < deadline:
                    future: asyncio.Future[float] = loop.create_future()
                    waiting[user_id] = future
                    sent = time.perf_counter()
                    api.send_text(user_id, QUESTIONS[(user_id + n) % len(QUESTIONS)])
                    latencies.append(await asyncio.wait_for(future, 30) - sent)
                    n += 1

            started = time.perf_counter()
            await asyncio.gather(*(user(10_000 + i) for i in range(users)))
            elapsed = time.perf_counter() - started
            api.close()
        return RoundResult(len(latencies), elapsed, latencies)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rtt-ms", type=float, default=0.0,
                        help="simulated network round trip per Bot API request (Telegram: ~50+)")
    args = parser.parse_args(argv)

    variants: list[tuple[str, Callable[[BotApiServer, Path, int], App], int]] = [
        ("bare PTB, sequential (PTB default)", bare_app, 1),
        ("lvdong, sequential", lvdong_app, 1),
        ("bare PTB, per-user order, 64 concurrent", bare_app, 64),
        ("lvdong, per-user order, 64 concurrent", lvdong_app, 64),
    ]
    results: dict[str, list[RoundResult]] = {name: [] for name, _, _ in variants}
    with tempfile.TemporaryDirectory() as tmp:
        for round_no in range(args.rounds):  # interleave variants to share any drift
            for name, make_app, concurrency in variants:
                workdir = Path(tmp) / f"{round_no}-{concurrency}-{make_app.__name__}"
                workdir.mkdir()
                result = await one_round(
                    make_app, concurrency, args.users, args.seconds, workdir, args.rtt_ms / 1000
                )
                results[name].append(result)
                print(f"round {round_no + 1}: {name:<42} {result.rate:7.1f} replies/s",
                      file=sys.stderr)

    print(f"\n{args.users} users, {args.rounds} rounds x {args.seconds:g}s, "
          f"simulated RTT {args.rtt_ms:g} ms, median of rounds\n")
    print(f"{'variant':<42} {'replies/s':>10} {'p50 ms':>8} {'p95 ms':>8}")
    medians: dict[str, float] = {}
    for name, rounds in results.items():
        rate = statistics.median(r.rate for r in rounds)
        p50 = statistics.median(_pct(r.latencies, 0.50) for r in rounds)
        p95 = statistics.median(_pct(r.latencies, 0.95) for r in rounds)
        medians[name] = rate
        print(f"{name:<42} {rate:>10.1f} {p50:>8.1f} {p95:>8.1f}")
    seq = medians["lvdong, sequential"] / medians["bare PTB, sequential (PTB default)"]
    conc = (medians["lvdong, per-user order, 64 concurrent"]
            / medians["bare PTB, per-user order, 64 concurrent"])
    best = medians["lvdong, per-user order, 64 concurrent"]
    bare_default = medians["bare PTB, sequential (PTB default)"]
    print(f"\nlvdong / bare, sequential: {seq:.0%}; concurrent: {conc:.0%}; "
          f"lvdong as shipped / bare PTB default: {best / bare_default:.0%} (target >= 90%)")
    return 0


ENGINE = _engine()

if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
