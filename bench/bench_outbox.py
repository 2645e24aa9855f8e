"""Benchmark the outbox: one notice to 10,000 recipients at the default pace. Run by hand:

    .venv/bin/python bench/bench_outbox.py [--recipients 10000] [--rtt-ms 50] [--users 20]

Three measures, each labelled with the configuration it ran under:

1. **Queue and preview** an audience of N approved enterprises (in process, a real
   SQLite file with the project's pragmas): ``preview`` (count the audience) and
   ``queue_notice`` (store the notice and N outbox rows, one transaction), medians
   of 5, against a baseline in the same process: a bare ``executemany`` INSERT of N
   two-column rows, committed.
2. **Delivery rate**: the real bot (``build_application`` as ``lvdong run`` builds it,
   default settings: ``LVDONG_MAX_RATE=30``, ``LVDONG_SEND_RATE=25``, outbox
   concurrency 8) sends the notice through the HTTP Bot API stand-in, which runs in
   a separate process (as Telegram is remote) and timestamps every message it
   receives. First the outbox runs alone (``--alone-seconds``): its achieved rate is
   compared with the configured one, and "never over" is checked on every
   one-second window. Then users ask questions while it goes on: replies go first,
   so the outbox gets less, and the check is that replies + outbox together never
   exceed ``LVDONG_MAX_RATE`` in any one-second window.
3. **Reply time** of those questions against the same users asking on the idle bot
   just before: ``--users`` users, each asking a question, waiting for the answer,
   then thinking ``--think`` seconds (flood control is lifted for them; everything
   else is as shipped).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import median_ms, percentile_ms, recv  # noqa: E402
from telegram.request import HTTPXRequest  # noqa: E402

from bot.app import build_application  # noqa: E402
from bot.lifecycle import polling  # noqa: E402
from bot.settings import Settings  # noqa: E402

QUESTIONS = ("冲天炉要淘汰吗？", "木器涂料执行什么标准？", "门禁系统什么时候建完",
             "落后产能淘汰由哪个处负责？", "VOCs治理有什么要求？")
NOTICE = "请各企业于本月底前完成门禁系统建设情况填报。"
USER_BASE = 900_000


# ---------------------------------------------------------------------- driver process


async def _drive(conn: Connection, rtt: float, users: int, think: float) -> None:
    from bot.local_api import ApiCall
    from tests.botapi_server import BotApiServer

    async with BotApiServer(latency=rtt) as server:
        api = server.api
        loop = asyncio.get_running_loop()
        waiting: dict[int, asyncio.Future[float]] = {}
        notice_times: list[float] = []
        reply_times: list[float] = []

        def on_call(call: ApiCall) -> None:
            if call.method != "sendMessage":
                return
            chat = int(call.params["chat_id"])
            if NOTICE in str(call.params.get("text", "")):
                notice_times.append(time.perf_counter())
                return
            reply_times.append(time.perf_counter())
            future = waiting.pop(chat, None)
            if future is not None and not future.done():
                future.set_result(time.perf_counter())

        api.listeners.append(on_call)
        conn.send(("ready", server.base_url, server.token))

        async def phase(seconds: float) -> list[float]:
            end = time.perf_counter() + seconds
            latencies: list[float] = []

            async def user(user_id: int) -> None:
                n = 0
                while time.perf_counter() < end:
                    future: asyncio.Future[float] = loop.create_future()
                    waiting[user_id] = future
                    sent = time.perf_counter()
                    api.send_text(user_id, QUESTIONS[(user_id + n) % len(QUESTIONS)])
                    latencies.append(await asyncio.wait_for(future, 60) - sent)
                    n += 1
                    await asyncio.sleep(think)

            await asyncio.gather(*(user(10_000 + i) for i in range(users)))
            return latencies

        while True:
            command = await asyncio.to_thread(recv, conn)
            if command[0] == "phase":
                started = time.perf_counter()
                latencies = await phase(command[1])
                conn.send(("latencies", latencies, started, time.perf_counter()))
            elif command[0] == "wait":
                await asyncio.sleep(command[1])
                conn.send(("waited",))
            elif command[0] == "deliveries":
                conn.send(("deliveries", list(notice_times), list(reply_times)))
            elif command[0] == "quit":
                api.close()
                return


def driver_main(conn: Connection, rtt: float, users: int, think: float) -> None:
    try:
        asyncio.run(_drive(conn, rtt, users, think))
    finally:
        conn.close()


# ---------------------------------------------------------------------- bot process


def _populate(path: Path, count: int) -> Any:
    """``count`` approved enterprises in 郑州市, one user each; returns the open db."""
    import datetime as dt

    from storage.db import open_db

    db = open_db(path)
    now = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
    with db.conn:
        db.conn.executemany(
            "INSERT INTO enterprises (id, name, credit_code, city, contact_name, phone, status, "
            "created_at, updated_at) VALUES (?, ?, ?, '郑州市', '联系人', '13800000000', "
            "'approved', ?, ?)",
            [(n, f"企业{n}", f"CODE{n:014d}", now, now) for n in range(1, count + 1)])
        db.conn.executemany(
            "INSERT INTO accounts (user_id, enterprise_id, kind, status, contact_name, phone, "
            "created_at) VALUES (?, ?, 'founder', 'approved', '联系人', '13800000000', ?)",
            [(USER_BASE + n, n, now) for n in range(1, count + 1)])
    return db


def queue_figures(workdir: Path, count: int) -> None:
    import datetime as dt

    from handlers.officials.notices import preview, queue_notice
    from knowledge.loader import load_kb
    from storage.audiences import Audience, AudienceKind
    from storage.users import PROVINCE

    kb = load_kb()
    db = _populate(workdir / "queue.sqlite", count)
    audience = Audience(AudienceKind.ALL)
    now = dt.datetime.now(dt.UTC)
    shown = preview(db, kb, audience, PROVINCE)
    assert len(shown.recipients) == count
    preview_ms = median_ms(lambda: preview(db, kb, audience, PROVINCE), 5)
    queue_ms = median_ms(lambda: queue_notice(db, kb, by=1, scope=PROVINCE, audience=audience,
                                              text=NOTICE, send_at=now, now=now), 5)
    db.execute("CREATE TABLE baseline (a INTEGER, b INTEGER)")

    def bare() -> None:
        with db.conn:
            db.conn.executemany("INSERT INTO baseline VALUES (?, ?)",
                                [(n, n) for n in range(count)])

    bare_ms = median_ms(bare, 5)
    print(f"\n## Queue and preview, {count:,} recipients (SQLite, WAL, synchronous=FULL; "
          "medians of 5)\n")
    print("| step | ms | vs bare INSERT of the same rows |")
    print("|---|--:|--:|")
    print(f"| preview (count the audience and its users) | {preview_ms:.0f} | "
          f"{preview_ms / bare_ms:.1f}x |")
    print(f"| queue_notice (notice + {count:,} outbox rows, one transaction) | {queue_ms:.0f} | "
          f"{queue_ms / bare_ms:.1f}x |")
    print(f"| baseline: bare executemany INSERT, committed | {bare_ms:.0f} | 1.0x |")
    db.conn.close()


def _record_sends(app: Any) -> list[tuple[str, float]]:
    """Timestamps of every slot the bot's send budget hands out (outbox or reply), taken
    in the bot process: what the pacing itself does, before any network jitter."""
    budget = app.bot.rate_limiter.budget
    sent: list[tuple[str, float]] = []

    def recorded(kind: str, take: Any) -> Any:
        async def wrapper() -> None:
            await take()
            sent.append((kind, time.perf_counter()))
        return wrapper

    budget.take_outbox = recorded("outbox", budget.take_outbox)
    budget.take_reply = recorded("reply", budget.take_reply)
    app.bot_data.outbox.pace = budget.take_outbox
    return sent


def _most_in_a_second(times: list[float]) -> int:
    """The most of ``times`` (sorted) in any window of one second."""
    most, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


async def delivery_figures(args: argparse.Namespace, workdir: Path) -> None:
    import datetime as dt

    from handlers.officials.notices import queue_notice
    from knowledge.engine import load_engine
    from storage.audiences import Audience, AudienceKind
    from storage.users import PROVINCE

    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    driver = ctx.Process(target=driver_main, args=(child, args.rtt_ms / 1000, args.users,
                                                   args.think), daemon=True)
    driver.start()
    try:
        _, base_url, token = await asyncio.to_thread(recv, parent, 60)
        path = workdir / "bot.sqlite"
        db = _populate(path, args.recipients)
        # as shipped, except flood control: the simulated users ask faster than it allows
        settings = Settings(token=token, api_base_url=base_url, db_path=path,
                            flood_burst=1_000_000, flood_per_minute=1e9)
        engine = load_engine()
        app = build_application(settings, engine=engine, db=db,
                                request=HTTPXRequest(connection_pool_size=64),
                                get_updates_request=HTTPXRequest())
        sent = _record_sends(app)
        async with polling(app, poll_timeout=1.0):
            parent.send(("phase", args.warmup_seconds))  # connections, caches: not measured
            await asyncio.to_thread(recv, parent)
            parent.send(("phase", args.idle_seconds))
            idle = (await asyncio.to_thread(recv, parent))[1]
            now = dt.datetime.now(dt.UTC)
            queue_notice(db, engine.kb, by=1, scope=PROVINCE, audience=Audience(AudienceKind.ALL),
                         text=NOTICE, send_at=now, now=now)
            app.bot_data.outbox.wake()
            parent.send(("wait", args.alone_seconds))
            await asyncio.to_thread(recv, parent)
            parent.send(("phase", args.busy_seconds))
            _, busy, busy_start, busy_end = await asyncio.to_thread(recv, parent)
            while db.execute("SELECT count(*) FROM outbox WHERE status IN ('queued', 'sending')"
                             ).fetchone()[0]:
                await asyncio.sleep(1)
            parent.send(("deliveries",))
            _, notice_times, reply_times = await asyncio.to_thread(recv, parent)
        parent.send(("quit",))
    finally:
        driver.join(10)
        if driver.is_alive():
            driver.terminate()
    outbox_sent = [t for kind, t in sent if kind == "outbox"]
    all_sent = sorted(t for _, t in sent)
    times = sorted(notice_times)
    first = times[0]
    alone = [t for t in times if t < busy_start]
    during = [t for t in times if busy_start <= t < busy_end]
    replies = [t for t in reply_times if busy_start <= t < busy_end]
    alone_rate = (len(alone) - 1) / (alone[-1] - first) if len(alone) > 1 else float("nan")
    span = times[-1] - first
    print(f"\n## Delivery of one notice to {args.recipients:,} recipients, as shipped "
          f"(LVDONG_MAX_RATE={settings.max_rate:g}, LVDONG_SEND_RATE={settings.send_rate:g}, "
          f"outbox concurrency {settings.outbox_concurrency}), simulated RTT {args.rtt_ms:g} ms, "
          "stand-in in a separate process\n")
    print(f"- outbox alone ({len(alone):,} messages): {alone_rate:.2f}/s = "
          f"{alone_rate / settings.send_rate:.1%} of the configured {settings.send_rate:g}/s")
    print(f"- most sends in any one-second window, as the bot sent them: outbox "
          f"{_most_in_a_second(outbox_sent)} (LVDONG_SEND_RATE {settings.send_rate:g}), outbox "
          f"and replies together {_most_in_a_second(all_sent)} (LVDONG_MAX_RATE "
          f"{settings.max_rate:g}); as the stand-in received them (network jitter bunches "
          f"arrivals): outbox {_most_in_a_second(times)}, together "
          f"{_most_in_a_second(sorted(times + sorted(reply_times)))}")
    seconds = busy_end - busy_start
    print(f"- with {args.users} users asking ({seconds:.0f} s): outbox "
          f"{len(during) / seconds:.2f}/s + replies {len(replies) / seconds:.2f}/s "
          "(replies go first; the outbox takes what is left)")
    print(f"- all {len(times):,} delivered in {span:.1f} s, each once")
    print(f"\n## Reply time of questions, {args.users} users (think {args.think:g} s), "
          "same run\n")
    print("| bot | questions | p50 ms | p95 ms |")
    print("|---|--:|--:|--:|")
    print(f"| idle | {len(idle)} | {percentile_ms(idle, .5):.0f} | "
          f"{percentile_ms(idle, .95):.0f} |")
    print(f"| while the notice goes out | {len(busy)} | {percentile_ms(busy, .5):.0f} | "
          f"{percentile_ms(busy, .95):.0f} |")
    ratio50 = percentile_ms(busy, .5) / percentile_ms(idle, .5)
    ratio95 = percentile_ms(busy, .95) / percentile_ms(idle, .95)
    print(f"\nbusy/idle: p50 {ratio50:.2f}x, p95 {ratio95:.2f}x")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--rtt-ms", type=float, default=50.0)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--think", type=float, default=2.0)
    parser.add_argument("--warmup-seconds", type=float, default=10.0)
    parser.add_argument("--idle-seconds", type=float, default=30.0)
    parser.add_argument("--alone-seconds", type=float, default=60.0)
    parser.add_argument("--busy-seconds", type=float, default=120.0)
    parser.add_argument("--skip-delivery", action="store_true", help="only the queue figures")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        queue_figures(Path(tmp), args.recipients)
        if not args.skip_delivery:
            asyncio.run(delivery_figures(args, Path(tmp)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
