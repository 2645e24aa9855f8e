"""Benchmark the whole bot stack against a bare python-telegram-bot bot. Run by hand:

    .venv/bin/python bench/bench_bot.py [--users 50] [--rounds 5] [--seconds 3] [--rtt-ms 0]

Two processes, as in production, where Telegram is a remote server:

* the **driver** (a child process): the HTTP Bot API stand-in of
  ``tests/botapi_server.py`` on 127.0.0.1 and the simulated users. Each user
  sends a question, waits for the reply, and sends the next (closed loop). The
  latency of a reply is measured here, from the update being queued to the
  bot's ``sendMessage`` arriving. The stand-in's own work (parsing the request,
  validating HTML and keyboards like Telegram does) is charged to this process,
  not to the bot under test.
* the **bot** (this process): the real ``Application`` over real HTTP (httpx),
  long polling the stand-in.

The rate of a round is the number of replies that arrived within its measured
window (after ``--warmup``) divided by the window's length; p50/p95 are over
those replies. Every round starts a fresh stand-in in the same driver process, so both bots
meet the same stand-in in the same run. Variants are interleaved round by round
to share any drift of this shared, noisy machine; the table shows the median of
the rounds and the ratios against the bare bot of the same run.

Pacing: as shipped, lvdong sends at most ``LVDONG_MAX_RATE`` (default 30) messages
a second, replies and outbox together — Telegram's overall limit — so a shipped
bot can never reply faster than that, whatever its CPU. To compare the bots' own
work like with like, the "pacing off" variants run with that limit lifted
(``PacedRateLimiter(SendBudget(0, 0))``: retries stay on) and a flood limit high
enough not to trigger; the bare bot has no limiter. The "as shipped" variant keeps
the default pacing (and flood limit lifted only for the simulated users), to show
what users get. Everything else (engine, SQLite question log with the project's
pragmas, access policy, handlers, escaping, buttons) is what ``lvdong run`` does.
Variants: both bots sequential (python-telegram-bot's default) and both with
per-user ordering + concurrency across users. ``--no-cache`` adds an lvdong
variant whose answer cache is off, i.e. every question goes through the engine
(the default question mix repeats a few questions, so the cache always hits).

``--rtt-ms`` adds a simulated network round trip to every Bot API request
(Telegram is tens of milliseconds away). ``--profile FILE`` runs cProfile in the
bot process during the lvdong rounds and writes the stats to FILE.

Only loopback addresses are used; every wait has a deadline, and the driver
exits by itself if the bot process goes away.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import multiprocessing
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import percentile_ms, recv  # noqa: E402
from telegram import Update  # noqa: E402
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler  # noqa: E402
from telegram.ext import filters as tg_filters  # noqa: E402
from telegram.request import HTTPXRequest  # noqa: E402

from bot.app import build_application  # noqa: E402
from bot.lifecycle import polling  # noqa: E402
from bot.sending import PacedRateLimiter, SendBudget  # noqa: E402
from bot.settings import Settings  # noqa: E402
from bot.update_order import PerUserUpdateProcessor  # noqa: E402

QUESTIONS = (
    "燃煤锅炉什么时候要淘汰？",
    "冲天炉要淘汰吗？",
    "VOCs治理有什么要求？",
    "今天天气怎么样？",
    "这个方案是哪个部门发的？",
)
App = Application[Any, Any, Any, Any, Any, Any]
REPLY_DEADLINE = 30.0  # a user gives up (and the round fails) after this long without a reply
DRIVER_IDLE_LIMIT = 600.0  # the driver exits when the bot process is silent this long


@dataclass(frozen=True)
class RoundResult:
    replies: int
    seconds: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.replies / self.seconds


# ---------------------------------------------------------------------- driver process


async def _drive_round(
    conn: Connection, users: int, warmup: float, seconds: float, rtt: float
) -> None:
    """One round: serve a fresh stand-in, play ``users`` users, report, tear down."""
    from bot.local_api import ApiCall
    from tests.botapi_server import BotApiServer

    async with BotApiServer(latency=rtt) as server:
        api = server.api
        loop = asyncio.get_running_loop()
        waiting: dict[int, asyncio.Future[float]] = {}

        def on_call(call: ApiCall) -> None:
            if call.method == "sendMessage":
                future = waiting.pop(int(call.params["chat_id"]), None)
                if future is not None and not future.done():
                    future.set_result(time.perf_counter())

        api.listeners.append(on_call)
        conn.send(("ready", server.base_url, server.token))
        if await asyncio.to_thread(recv, conn, DRIVER_IDLE_LIMIT) != "go":
            raise RuntimeError("protocol error: expected 'go'")

        start = time.perf_counter() + warmup
        end = start + seconds
        latencies: list[float] = []

        async def user(user_id: int) -> None:
            n = 0
            while time.perf_counter() < end:
                future: asyncio.Future[float] = loop.create_future()
                waiting[user_id] = future
                sent = time.perf_counter()
                api.send_text(user_id, QUESTIONS[(user_id + n) % len(QUESTIONS)])
                received = await asyncio.wait_for(future, REPLY_DEADLINE)
                if start <= received <= end:  # the replies of the measured window
                    latencies.append(received - sent)
                n += 1
                # bounded: each iteration is a reply or a TimeoutError, and time runs on

        await asyncio.gather(*(user(10_000 + i) for i in range(users)))
        conn.send(("done", len(latencies), seconds, latencies))
        if await asyncio.to_thread(recv, conn, DRIVER_IDLE_LIMIT) != "stop":
            raise RuntimeError("protocol error: expected 'stop'")
        api.close()
    conn.send("stopped")


async def _driver(conn: Connection) -> None:
    while True:
        command = await asyncio.to_thread(recv, conn, DRIVER_IDLE_LIMIT)
        if command[0] == "quit":
            return
        _, users, warmup, seconds, rtt = command
        await _drive_round(conn, users, warmup, seconds, rtt)


def driver_main(conn: Connection) -> None:
    """Entry point of the driver process (the stand-in and the simulated users)."""
    try:
        asyncio.run(_driver(conn))
    finally:
        conn.close()


# ---------------------------------------------------------------------- bot process


def _engine() -> Any:
    from knowledge.engine import load_engine

    try:
        return load_engine(None)
    except Exception as exc:  # the shipped KB may be mid-edit: fall back to the test KB
        print(f"(shipped KB not loadable: {str(exc)[:80]}; using tests/data/mini-kb.yaml)")
        return load_engine(ROOT / "tests" / "data" / "mini-kb.yaml")


def _requests() -> tuple[HTTPXRequest, HTTPXRequest]:
    return HTTPXRequest(connection_pool_size=128), HTTPXRequest()


def lvdong_app(
    base_url: str, token: str, workdir: Path, concurrency: int, *, cache: bool = True,
    paced: bool = False,
) -> App:
    from storage.db import open_db

    settings = Settings(
        token=token, api_base_url=base_url, db_path=workdir / "bench.sqlite",
        flood_burst=1_000_000, flood_per_minute=1e9, max_concurrent_updates=concurrency,
    )
    request, updates = _requests()
    app = build_application(
        settings, engine=ENGINE, db=open_db(settings.db_path),
        request=request, get_updates_request=updates,
        rate_limiter=None if paced else PacedRateLimiter(SendBudget(0, 0)),
    )
    if not cache:
        from handlers.core.answer_cache import AnswerCache

        app.bot_data.answer_cache = AnswerCache(capacity=0)
    return app


def lvdong_nocache_app(base_url: str, token: str, workdir: Path, concurrency: int) -> App:
    return lvdong_app(base_url, token, workdir, concurrency, cache=False)


def lvdong_shipped_app(base_url: str, token: str, workdir: Path, concurrency: int) -> App:
    return lvdong_app(base_url, token, workdir, concurrency, paced=True)


async def _fixed_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text("收到")


def bare_app(base_url: str, token: str, workdir: Path, concurrency: int) -> App:
    request, updates = _requests()
    builder = (
        ApplicationBuilder().token(token).base_url(base_url)
        .request(request).get_updates_request(updates)
    )
    if concurrency > 1:
        builder = builder.concurrent_updates(PerUserUpdateProcessor(concurrency))
    app = builder.build()
    app.add_handler(MessageHandler(tg_filters.TEXT, _fixed_reply))
    return app


MakeApp = Callable[[str, str, Path, int], App]


async def one_round(
    conn: Connection, make_app: MakeApp, concurrency: int, args: argparse.Namespace,
    workdir: Path, profiler: cProfile.Profile | None = None,
) -> RoundResult:
    conn.send(("round", args.users, args.warmup, args.seconds, args.rtt_ms / 1000))
    reply = await asyncio.to_thread(recv, conn, 60.0)
    if reply[0] != "ready":
        raise RuntimeError(f"protocol error: {reply!r}")
    _, base_url, token = reply
    app = make_app(base_url, token, workdir, concurrency)
    async with polling(app, poll_timeout=1.0):
        if profiler is not None:
            profiler.enable()
        conn.send("go")
        done = await asyncio.to_thread(
            recv, conn, args.warmup + args.seconds + REPLY_DEADLINE + 30
        )
        if profiler is not None:
            profiler.disable()
    conn.send("stop")
    if await asyncio.to_thread(recv, conn, 60.0) != "stopped":
        raise RuntimeError("protocol error: expected 'stopped'")
    _, replies, seconds, latencies = done
    return RoundResult(replies, seconds, latencies)


BARE_SEQ = "bare PTB, sequential (PTB default)"
LV_SEQ = "lvdong, sequential, pacing off"
BARE_CONC = "bare PTB, per-user order, 64 concurrent"
LV_CONC = "lvdong, per-user order, 64 conc., pacing off"
LV_SHIPPED = "lvdong as shipped (LVDONG_MAX_RATE=30)"
LV_NOCACHE = "lvdong, 64 conc., pacing off, answer cache off"


async def run(args: argparse.Namespace) -> int:
    variants: list[tuple[str, MakeApp, int]] = [
        (BARE_SEQ, bare_app, 1),
        (LV_SEQ, lvdong_app, 1),
        (BARE_CONC, bare_app, 64),
        (LV_CONC, lvdong_app, 64),
        (LV_SHIPPED, lvdong_shipped_app, 64),
    ]
    if args.no_cache:
        variants.append((LV_NOCACHE, lvdong_nocache_app, 64))
    profiler = cProfile.Profile() if args.profile else None
    results: dict[str, list[RoundResult]] = {name: [] for name, _, _ in variants}
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    driver = ctx.Process(target=driver_main, args=(child,), daemon=True, name="bench-driver")
    driver.start()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for round_no in range(args.rounds):  # interleave variants to share any drift
                for index, (name, make_app, concurrency) in enumerate(variants):
                    workdir = Path(tmp) / f"{round_no}-{index}"
                    workdir.mkdir()
                    result = await one_round(
                        parent, make_app, concurrency, args, workdir,
                        profiler if make_app is not bare_app else None,
                    )
                    results[name].append(result)
                    print(f"round {round_no + 1}: {name:<46} {result.rate:7.1f} replies/s",
                          file=sys.stderr)
        parent.send(("quit",))
    finally:
        driver.join(10)
        if driver.is_alive():
            driver.terminate()
            driver.join(5)
    if profiler is not None:
        profiler.dump_stats(args.profile)
        print(f"profile of the lvdong rounds written to {args.profile}", file=sys.stderr)

    print(f"\n{args.users} users, {args.rounds} rounds x {args.seconds:g}s "
          f"(after {args.warmup:g}s warm-up), simulated RTT {args.rtt_ms:g} ms, "
          "stand-in and users in a separate process; median of rounds\n")
    print(f"| {'variant':<46} | {'replies/s':>9} | {'p50 ms':>7} | {'p95 ms':>7} | "
          f"{'vs bare':>7} |")
    print(f"|{'-' * 48}|{'-' * 10}:|{'-' * 8}:|{'-' * 8}:|{'-' * 8}:|")
    medians = {name: statistics.median(r.rate for r in rounds) for name, rounds in results.items()}
    baseline = {BARE_SEQ: BARE_SEQ, LV_SEQ: BARE_SEQ, BARE_CONC: BARE_CONC,
                LV_CONC: BARE_CONC, LV_SHIPPED: BARE_CONC, LV_NOCACHE: BARE_CONC}
    for name, rounds in results.items():
        p50 = statistics.median(percentile_ms(r.latencies, 0.50) for r in rounds)
        p95 = statistics.median(percentile_ms(r.latencies, 0.95) for r in rounds)
        ratio = medians[name] / medians[baseline[name]]
        print(f"| {name:<46} | {medians[name]:>9.1f} | {p50:>7.1f} | {p95:>7.1f} | "
              f"{ratio:>7.0%} |")
    own = medians[LV_CONC] / medians[BARE_CONC]
    print(f"\nlvdong's own work (pacing off) / bare PTB of the same setup: {own:.0%}; "
          f"as shipped it is paced at {Settings().max_rate:g} messages/s")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0, help="measured time per round")
    parser.add_argument("--warmup", type=float, default=0.5,
                        help="time per round before measuring (connections, caches)")
    parser.add_argument("--rtt-ms", type=float, default=0.0,
                        help="simulated network round trip per Bot API request (Telegram: ~50+)")
    parser.add_argument("--no-cache", action="store_true",
                        help="also run lvdong with its answer cache off")
    parser.add_argument("--profile", metavar="FILE",
                        help="cProfile the bot process during the lvdong rounds")
    args = parser.parse_args(argv)
    if args.users < 1 or args.rounds < 1 or args.seconds <= 0 or args.warmup < 0:
        parser.error("--users and --rounds must be >= 1, --seconds > 0, --warmup >= 0")
    return asyncio.run(run(args))


ENGINE: Any = None

if __name__ == "__main__":
    ENGINE = _engine()
    sys.exit(main())
