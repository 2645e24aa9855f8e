"""Benchmark fairness under a flood (issue 14): one user floods a dialog, 20 users ask.

    .venv/bin/python bench/bench_flood.py [--rounds 3] [--flood 600] [--rtt-ms 50]

Two processes, as in production, where Telegram is a remote server (the layout of
``bench_outbox.py``):

* the **driver** (a child process): the HTTP Bot API stand-in of
  ``tests/botapi_server.py`` with a simulated round trip, and the simulated users.
  ``--users`` users each ask a question, wait for the answer, think ``--think``
  seconds and ask again; a reply's latency is measured here, from the update being
  queued to the bot's ``sendMessage`` arriving.
* the **bot** (this process): the real ``Application`` as ``lvdong run`` builds it,
  long polling the stand-in, **as shipped** (``LVDONG_MAX_RATE=30``,
  ``LVDONG_CONCURRENCY=64``, ``LVDONG_USER_BACKLOG=8``, the send budget's per-chat
  share) — except the question flood limit, lifted so that the askers' steady
  questions are never throttled (a dialog's steps never counted against it anyway).

Each round: the users ask on the idle bot (``--idle-seconds``: the baseline), then
the same users ask while one more user, in the middle of ``/register``, sends
``--flood`` messages spread evenly over ``--flood-seconds`` (a dialog step each).
The table shows per round the askers' p50 and p95 and their ratio to the idle
phase of the same round, then the medians over the rounds. The goal of issue 14:
the askers' p95 within 1.5x idle.

Then (``--throttle-seconds``, 0 to skip) the same users ask while Telegram answers one
more chat, asking once a second, with 429 ``retry_after=--retry-after`` on every
message: with the 429 scoped to that chat, the others are answered at idle speed.

``--backlog N`` changes the per-user backlog (a huge value shows the bot without
that limit; the per-chat send share stays).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import statistics
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import percentile_ms, recv  # noqa: E402
from telegram.request import HTTPXRequest  # noqa: E402

from bot.app import build_application  # noqa: E402
from bot.lifecycle import polling  # noqa: E402
from bot.settings import Settings  # noqa: E402

QUESTIONS = ("冲天炉要淘汰吗？", "木器涂料执行什么标准？", "门禁系统什么时候建完",
             "落后产能淘汰由哪个处负责？", "VOCs治理有什么要求？")
FLOODER = 777_777
THROTTLED = 888_888  # a chat Telegram answers with 429 throughout the throttle phase
ASKERS = 10_000
SLOW_DOWN = "慢一点"


# ---------------------------------------------------------------------- driver process


async def _drive(conn: Connection, rtt: float, users: int, think: float) -> None:
    from bot.local_api import ApiCall
    from tests.botapi_server import BotApiServer

    async with BotApiServer(latency=rtt) as server:
        api = server.api
        loop = asyncio.get_running_loop()
        waiting: dict[int, asyncio.Future[float]] = {}
        flooder_replies: list[str] = []

        def on_call(call: ApiCall) -> None:
            if call.method != "sendMessage":
                return
            chat = int(call.params["chat_id"])
            if chat == FLOODER:
                flooder_replies.append(str(call.params.get("text", "")))
                return
            future = waiting.pop(chat, None)
            if future is not None and not future.done():
                future.set_result(time.perf_counter())

        api.listeners.append(on_call)
        conn.send(("ready", server.base_url, server.token))

        async def ask(seconds: float) -> list[float]:
            end = time.perf_counter() + seconds
            latencies: list[float] = []

            async def user(user_id: int) -> None:
                n = 0
                while time.perf_counter() < end:
                    future: asyncio.Future[float] = loop.create_future()
                    waiting[user_id] = future
                    sent = time.perf_counter()
                    api.send_text(user_id, QUESTIONS[(user_id + n) % len(QUESTIONS)])
                    latencies.append(await asyncio.wait_for(future, 120) - sent)
                    n += 1
                    await asyncio.sleep(think)

            await asyncio.gather(*(user(ASKERS + i) for i in range(users)))
            return latencies

        async def flood(count: int, seconds: float) -> None:
            interval = seconds / count
            start = time.perf_counter()
            for n in range(count):
                api.send_text(FLOODER, f"公司{n}")
                delay = start + (n + 1) * interval - time.perf_counter()
                await asyncio.sleep(max(0.0, delay))

        while True:
            command = await asyncio.to_thread(recv, conn)
            if command[0] == "ask":
                conn.send(("latencies", await ask(command[1])))
            elif command[0] == "flood":
                _, count, seconds = command
                flooder_replies.clear()
                api.send_text(FLOODER, "/cancel")
                api.send_text(FLOODER, "/register")
                await asyncio.sleep(1.0)
                asking = asyncio.create_task(ask(seconds))
                await flood(count, seconds)
                latencies = await asking
                await asyncio.sleep(2.0)  # the flooder's last replies
                conn.send(("latencies", latencies, len(flooder_replies),
                           sum(SLOW_DOWN in text for text in flooder_replies)))
            elif command[0] == "throttle":
                _, seconds, retry_after = command
                fault = server.inject("sendMessage", "429", chat_id=THROTTLED,
                                      retry_after=retry_after, times=1_000_000)

                async def throttled_user(seconds: float) -> None:
                    end = time.perf_counter() + seconds
                    while time.perf_counter() < end:
                        api.send_text(THROTTLED, QUESTIONS[0])
                        await asyncio.sleep(1.0)

                pestering = asyncio.create_task(throttled_user(seconds))
                latencies = await ask(seconds)
                await pestering
                fault.times = fault.hits  # Telegram lets the chat go again
                conn.send(("latencies", latencies, fault.hits))
            elif command[0] == "quit":
                api.close()
                return


def driver_main(conn: Connection, rtt: float, users: int, think: float) -> None:
    try:
        asyncio.run(_drive(conn, rtt, users, think))
    finally:
        conn.close()


# ---------------------------------------------------------------------- bot process


async def run(args: argparse.Namespace, workdir: Path) -> None:
    from knowledge.engine import load_engine
    from storage.db import open_db

    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    driver = ctx.Process(target=driver_main, args=(child, args.rtt_ms / 1000, args.users,
                                                   args.think), daemon=True)
    driver.start()
    rows = []
    throttle_rows: list[tuple[list[float], list[float], int]] = []
    try:
        _, base_url, token = await asyncio.to_thread(recv, parent, 60)
        path = workdir / "bot.sqlite"
        db = open_db(path)
        settings = Settings(token=token, api_base_url=base_url, db_path=path,
                            flood_burst=1_000_000, flood_per_minute=1e9,
                            user_backlog=args.backlog)
        shipped = args.backlog == Settings().user_backlog
        app = build_application(settings, engine=load_engine(), db=db,
                                request=HTTPXRequest(connection_pool_size=64),
                                get_updates_request=HTTPXRequest())
        async with polling(app, poll_timeout=1.0):
            parent.send(("ask", args.warmup_seconds))  # connections, caches: not measured
            await asyncio.to_thread(recv, parent)
            for _ in range(args.rounds):
                parent.send(("ask", args.idle_seconds))
                idle = (await asyncio.to_thread(recv, parent))[1]
                parent.send(("flood", args.flood, args.flood_seconds))
                _, busy, answered, slow = await asyncio.to_thread(recv, parent)
                rows.append((idle, busy, answered, slow))
                if args.throttle_seconds:
                    parent.send(("throttle", args.throttle_seconds, args.retry_after))
                    _, throttled, hits = await asyncio.to_thread(recv, parent)
                    throttle_rows.append((idle, throttled, hits))
        parent.send(("quit",))
    finally:
        driver.join(10)
        if driver.is_alive():
            driver.terminate()

    print(f"\n## One user floods /register with {args.flood} messages over "
          f"{args.flood_seconds:g} s while {args.users} users ask (think {args.think:g} s); "
          f"lvdong {'as shipped' if shipped else 'as shipped except the backlog'} "
          f"(LVDONG_MAX_RATE={settings.max_rate:g}, "
          f"LVDONG_CONCURRENCY={settings.max_concurrent_updates}, "
          f"LVDONG_USER_BACKLOG={settings.user_backlog}), question flood limit lifted for "
          f"the askers; simulated RTT {args.rtt_ms:g} ms, stand-in in a separate process\n")
    print("| round | idle p50 / p95 ms | flood p50 / p95 ms | p50 ratio | p95 ratio | "
          "flood messages answered | of them 慢一点 |")
    print("|--:|--:|--:|--:|--:|--:|--:|")
    ratios50, ratios95 = [], []
    for n, (idle, busy, answered, slow) in enumerate(rows, start=1):
        r50 = percentile_ms(busy, .5) / percentile_ms(idle, .5)
        r95 = percentile_ms(busy, .95) / percentile_ms(idle, .95)
        ratios50.append(r50)
        ratios95.append(r95)
        print(f"| {n} | {percentile_ms(idle, .5):.0f} / {percentile_ms(idle, .95):.0f} | "
              f"{percentile_ms(busy, .5):.0f} / {percentile_ms(busy, .95):.0f} | "
              f"{r50:.2f}x | {r95:.2f}x | {answered} of {args.flood} | {slow} |")
    idle_all = [statistics.median(percentile_ms(i, q) for i, _, _, _ in rows) for q in (.5, .95)]
    busy_all = [statistics.median(percentile_ms(b, q) for _, b, _, _ in rows) for q in (.5, .95)]
    print(f"| median | {idle_all[0]:.0f} / {idle_all[1]:.0f} | {busy_all[0]:.0f} / "
          f"{busy_all[1]:.0f} | {statistics.median(ratios50):.2f}x | "
          f"{statistics.median(ratios95):.2f}x | | |")


    if not throttle_rows:
        return
    print(f"\n## One chat answered 429 (retry_after={args.retry_after}) on every message for "
          f"{args.throttle_seconds:g} s, asking once a second, while the {args.users} users "
          "ask; same bot, same rounds\n")
    print("| round | idle p50 / p95 ms | throttled phase p50 / p95 ms | p50 ratio | p95 ratio "
          "| 429s given |")
    print("|--:|--:|--:|--:|--:|--:|")
    t50, t95 = [], []
    for n, (idle, busy, hits) in enumerate(throttle_rows, start=1):
        r50 = percentile_ms(busy, .5) / percentile_ms(idle, .5)
        r95 = percentile_ms(busy, .95) / percentile_ms(idle, .95)
        t50.append(r50)
        t95.append(r95)
        print(f"| {n} | {percentile_ms(idle, .5):.0f} / {percentile_ms(idle, .95):.0f} | "
              f"{percentile_ms(busy, .5):.0f} / {percentile_ms(busy, .95):.0f} | "
              f"{r50:.2f}x | {r95:.2f}x | {hits} |")
    print(f"| median | | | {statistics.median(t50):.2f}x | {statistics.median(t95):.2f}x | |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--flood", type=int, default=600)
    parser.add_argument("--flood-seconds", type=float, default=15.0)
    parser.add_argument("--rtt-ms", type=float, default=50.0)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--think", type=float, default=2.0)
    parser.add_argument("--warmup-seconds", type=float, default=5.0)
    parser.add_argument("--idle-seconds", type=float, default=15.0)
    parser.add_argument("--backlog", type=int, default=Settings().user_backlog)
    parser.add_argument("--throttle-seconds", type=float, default=15.0,
                        help="then a phase with one chat answered 429 throughout (0: none)")
    parser.add_argument("--retry-after", type=int, default=10)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(args, Path(tmp)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
