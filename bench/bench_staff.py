"""Benchmark the staff views over a province of reports. Run by hand:

    .venv/bin/python bench/bench_staff.py [--enterprises 20000] [--reports 200000]

A real SQLite file with the project's pragmas (WAL, synchronous=FULL), filled with
``executemany`` through the ``reports_keep_latest`` trigger (so ``latest_reports`` is
what the bot would have kept): enterprises spread over Henan's 28 regions with one or
two of the shipped plan's industries and random answers to its qualifiers (15% 是),
90% approved, 10% of those never reporting; the
others report one to three times on tasks that concern them, 20% of reports with a
file, 5% reviewed. Figures, each the median of several runs, with a baseline measured
in the same process (the machine is shared and noisy: compare ratios between runs):

1. ``/reports``: one page of ``latest_page`` for typical filters (target ≤ 200 ms);
2. ``/overdue`` for the province: ``overdue`` with the shipped plan's deadlines as of
   2022-01-01, when all of 2021's have passed (target ≤ 500 ms);
3. ``/stats``: ``completion_by_city`` / ``completion_by_task`` and the PNG
   (target ≤ 2 s);
4. the full .xlsx ledger: time (target ≤ 30 s) and peak memory (target ≤ 200 MB), in a
   fresh process that imports only the export (peak RSS: ``VmHWM``), against the same
   process before it exports; and the
   per-cell cost of the ledger's row writer against openpyxl's own;
5. the reply time of questions asked while a ledger is exported (target ≤ 1.5× idle):
   the real bot (``build_application``) polling the HTTP Bot API stand-in, which runs in
   a separate process with the simulated users (bench_outbox.py's driver), while an
   export runs in a worker thread on its own read connection, as ``/export`` does.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import io
import json
import multiprocessing
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_outbox import driver_main  # noqa: E402
from bench_storage import credit_code  # noqa: E402
from common import median_ms, percentile_ms, recv  # noqa: E402
from sqlite_utils import Database  # noqa: E402

from handlers.core.plan import plan_entries  # noqa: E402
from handlers.staff.charts import (  # noqa: E402
    city_labels,
    completion_chart,
    task_labels,
)
from knowledge.loader import load_kb  # noqa: E402
from knowledge.model import KnowledgeBase  # noqa: E402
from storage.clock import to_db  # noqa: E402
from storage.db import connect, open_db  # noqa: E402
from storage.ledger import export_ledger  # noqa: E402
from storage.progress import (  # noqa: E402
    Approval,
    Due,
    ReportFilter,
    completion_by_city,
    completion_by_task,
    latest_page,
    overdue,
)
from storage.regions import REGIONS  # noqa: E402

T0 = dt.datetime(2021, 6, 1, 1, 0, tzinfo=dt.UTC)
TODAY = dt.date(2022, 1, 1)


# ---------------------------------------------------------------------- data


def populate(db: Database, kb: KnowledgeBase, enterprises: int, reports: int,
             rng: random.Random) -> dict[str, int]:
    """Fill the database (setup, not measured); returns the row counts."""
    stamp = to_db(T0)
    statuses = [s.name for s in kb.statuses]
    firms = []
    industries_of: dict[int, tuple[str, ...]] = {}
    for n in range(1, enterprises + 1):
        status = "approved" if rng.random() < 0.9 else "pending"
        firms.append((n, f"河南{n}号实业有限公司", credit_code(n), REGIONS[n % len(REGIONS)],
                      status, stamp, stamp, stamp if status == "approved" else None))
        industries_of[n] = tuple(rng.sample(kb.industries, 1 + n % 2))
    # qualifier answers: 15% yes, 55% no, 10% 不清楚, 20% never asked
    answers_of = {n: {q.key: value for q in kb.qualifiers
                      for value in [rng.choices(("yes", "no", "unknown", ""),
                                                (15, 55, 10, 20))[0]] if value}
                  for n in industries_of}
    reporting = [n for n in industries_of if rng.random() < 0.9]
    plan: list[tuple[int, int]] = []  # (enterprise, task) for each report, in filing order
    while len(plan) < reports:
        n = rng.choice(reporting)
        concerned = [t.number for t in kb.tasks_concerning(industries_of[n], answers_of[n])]
        if concerned:
            plan.extend([(n, rng.choice(concerned))] * rng.randint(1, 3))
    plan = plan[:reports]
    rng.shuffle(plan)
    span = (dt.datetime(2021, 12, 31, tzinfo=dt.UTC) - T0).total_seconds()
    times = sorted(T0 + dt.timedelta(seconds=rng.uniform(0, span)) for _ in plan)
    rows = []
    for (n, task), at in zip(plan, times, strict=True):
        status = rng.choice(statuses)
        percent = rng.randint(5, 95) if status == "进行中" else None
        date = (at.date() + dt.timedelta(days=rng.randint(-30, 120))).isoformat() \
            if status in ("进行中", "已完成") else None
        rows.append((n, 100_000 + n, task, status, percent, "已按要求推进，详见附件。", date,
                     int(rng.random() < 0.02), to_db(at)))
    with db.conn:
        db.conn.executemany(
            """INSERT INTO enterprises (id, name, credit_code, city, contact_name, phone,
                   status, created_at, updated_at, decided_at)
               VALUES (?, ?, ?, ?, '联系人', '13812345678', ?, ?, ?, ?)""", firms)
        db.conn.executemany(
            "INSERT INTO enterprise_industries (enterprise_id, industry) VALUES (?, ?)",
            [(n, i) for n, industries in industries_of.items() for i in industries])
        db.conn.executemany(
            """INSERT INTO enterprise_qualifiers (enterprise_id, qualifier, value, updated_at)
               VALUES (?, ?, ?, ?)""",
            [(n, k, v, stamp) for n, answers in answers_of.items() for k, v in answers.items()])
        db.conn.executemany(  # the reports_keep_latest trigger fills latest_reports
            """INSERT INTO reports (enterprise_id, user_id, task, status, percent, description,
                   completion_date, from_pending, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""", rows)
        ids = [r[0] for r in db.conn.execute("SELECT id FROM reports")]
        db.conn.executemany(
            """INSERT INTO attachments (report_id, file_id, file_unique_id, kind)
               VALUES (?, ?, ?, 'photo')""",
            [(i, f"file{i}", f"u{i}") for i in ids if rng.random() < 0.2])
        db.conn.executemany(
            """INSERT INTO reviews (report_id, reviewer_id, verdict, comment, created_at)
               VALUES (?, 7, ?, ?, ?)""",
            [(i, v, "" if v == "verified" else "请补充照片", stamp) for i in ids
             if rng.random() < 0.05 for v in [rng.choice(["verified", "problem", "rejected"])]])
    db.conn.execute("ANALYZE")
    return {table: int(db.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
            for table in ("enterprises", "reports", "latest_reports", "attachments", "reviews")}


def table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> None:
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


# ---------------------------------------------------------------------- in-process figures


def query_figures(db: Database, kb: KnowledgeBase, repeats: int) -> None:
    scan_ms = median_ms(lambda: db.execute(
        "SELECT count(*) FROM reports WHERE description = 'x'").fetchone(), repeats)
    base = f"{scan_ms:.0f} ms"
    pages = [
        ("province, no filter, page 1", ReportFilter(), 0),
        ("郑州市 + task 13, page 1", ReportFilter(regions=frozenset({"郑州市"}),
                                                tasks=frozenset({13})), 0),
        ("province, status 进行中, page 50", ReportFilter(statuses=frozenset({"进行中"})), 490),
        ("钢铁 + approved + task 3, page 1", ReportFilter(industries=frozenset({"钢铁"}),
                                                         tasks=frozenset({3}),
                                                         approval=Approval.APPROVED), 0),
        ("洛阳市, filed 2021-09-01..09-30, page 2",
         ReportFilter(regions=frozenset({"洛阳市"}), since=dt.date(2021, 9, 1),
                      until=dt.date(2021, 9, 30)), 10),
    ]
    rows = []
    for label, flt, offset in pages:
        total = latest_page(db, flt, offset=offset, limit=10)[1]
        ms = median_ms(lambda f=flt, o=offset: latest_page(db, f, offset=o, limit=10), repeats)
        rows.append((f"/reports: latest_page, {label} [{total:,} matching]", f"{ms:.1f} ms",
                     "≤ 200 ms", f"{ms / scan_ms:.2f} × scan ({base})"))
    dues = [Due(e.task, e.due, e.who, e.regions) for e in plan_entries(kb) if not e.starts]
    done = kb.done_statuses
    result = overdue(db, dues, today=TODAY, done=done)
    ms = median_ms(lambda: overdue(db, dues, today=TODAY, done=done), repeats)
    rows.append((f"/overdue: overdue, province, the plan's {len(dues)} deadlines as of {TODAY} "
                 f"[{result.total:,} overdue pairs, {result.enterprises:,} enterprises]",
                 f"{ms:.0f} ms", "≤ 500 ms", f"{ms / scan_ms:.2f} × scan"))
    city = REGIONS[0]
    ms = median_ms(lambda: overdue(db, dues, today=TODAY, done=done,
                                   regions=frozenset({city})), repeats)
    rows.append((f"/overdue: overdue, {city}", f"{ms:.0f} ms", "", f"{ms / scan_ms:.2f} × scan"))
    concern = kb.concern()
    titles = {t.number: t.title for t in kb.tasks}

    def city_chart() -> bytes:
        found = completion_by_city(db, task=16, who=concern[16], done=done)
        return completion_chart(found, city_labels(task=16, task_title=titles[16], scope="全省"))

    def task_chart(industry: str | None) -> bytes:
        found = completion_by_task(db, concern=concern, done=done, industry=industry)
        return completion_chart(found, task_labels(titles=titles, scope="全省",
                                                   industry=industry))

    for label, action in (
        ("by city, task 16 (ten industries), province", city_chart),
        ("by task, all tasks, province", lambda: task_chart(None)),
        ("by task, industry 钢铁, province", lambda: task_chart("钢铁")),
    ):
        ms = median_ms(action, repeats)
        rows.append((f"/stats: query + PNG, {label}", f"{ms:.0f} ms", "≤ 2 s",
                     f"{ms / scan_ms:.2f} × scan"))
    by_task_ms = median_ms(lambda: completion_by_task(db, concern=concern, done=done), repeats)
    rows.append(("/stats: completion_by_task alone (the query part)", f"{by_task_ms:.0f} ms", "",
                 f"{by_task_ms / scan_ms:.2f} × scan"))
    print(f"\n## Queries and charts (medians of {repeats}; baseline: a full scan of reports, "
          f"{base})\n")
    table(rows, ("measure", "median", "target", "vs baseline"))


def writer_figures(db: Database, kb: KnowledgeBase, rows: int) -> None:
    """µs per cell: the ledger's row writer against openpyxl's own, same rows."""
    import openpyxl

    from storage.ledger import COLUMNS, LATEST, _latest, _Sheet
    from tests.test_ledger import append_as_openpyxl_would

    titles = {t.number: t.title for t in kb.tasks}
    data = []
    for row in _latest(db, ReportFilter(), titles):
        data.append(row)
        if len(data) == rows:
            break
    cells = sum(v is not None for row in data for v in row)

    def ours() -> None:
        book = openpyxl.Workbook(write_only=True)
        sheet = _Sheet(book, LATEST, COLUMNS[LATEST])
        for row in data:
            sheet.append(row)
        sheet.close()
        book.save(io.BytesIO())

    def theirs() -> None:
        book = openpyxl.Workbook(write_only=True)
        append_as_openpyxl_would(book.create_sheet(LATEST), COLUMNS[LATEST], data)
        book.save(io.BytesIO())

    ours_us = median_ms(ours, 3) * 1000 / cells
    theirs_us = median_ms(theirs, 3) * 1000 / cells
    print(f"\n## Ledger row writer, {len(data):,} rows of 最新进展 ({cells:,} non-empty cells), "
          "to memory, medians of 3\n")
    table([("storage.ledger._Sheet (row XML in one piece)", f"{ours_us:.1f} µs/cell",
            f"{ours_us / theirs_us:.2f} ×"),
           ("openpyxl's own write-only writer (WriteOnlyCell per cell)", f"{theirs_us:.1f} µs/cell",
            "1.00 ×")], ("writer", "median", "vs openpyxl"))


# ---------------------------------------------------------------------- export in a child


# The exporting child imports only what an export needs (not this module, whose charts
# and bot imports would weigh on the figure); it prints one JSON line.
EXPORT_CHILD = """
import json, sys, time
sys.path[:0] = [{root!r}, {bench!r}]
from sqlite_utils import Database
from bench_staff_memory import peak_rss_mb
from knowledge.loader import load_kb
from storage.db import connect
from storage.ledger import export_ledger
from storage.progress import ReportFilter
titles = {{t.number: t.title for t in load_kb().tasks}}
db = Database(connect({path!r}))
before = peak_rss_mb()
start = time.perf_counter()
summary = export_ledger(db, ReportFilter(), {out!r}, task_titles=titles)
print(json.dumps([time.perf_counter() - start, before, peak_rss_mb(), summary.describe()]))
"""


def export_figures(path: Path, workdir: Path, runs: int) -> None:
    results = []
    for n in range(runs):
        out = workdir / f"ledger{n}.xlsx"
        code = EXPORT_CHILD.format(root=str(ROOT), bench=str(ROOT / "bench"), path=str(path),
                                   out=str(out))
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=600, check=True)
        results.append((*json.loads(done.stdout.splitlines()[-1]), out.stat().st_size / 1e6))
    seconds = statistics.median(r[0] for r in results)
    peak = max(r[2] for r in results)
    before = statistics.median(r[1] for r in results)
    read_s = _read_only_seconds(path)
    print(f"\n## Full .xlsx ledger, province, {runs} runs, each in a fresh process that "
          "imports only the export (openpyxl write-only)\n")
    print(f"- wrote: {results[0][3]}; {results[0][4]:.1f} MB\n")
    table([
        ("export time (median)", f"{seconds:.1f} s", "≤ 30 s",
         f"{seconds / read_s:.1f} × only reading the same rows ({read_s:.1f} s)"),
        ("peak memory of the exporting process (max VmHWM)", f"{peak:.0f} MB", "≤ 200 MB",
         f"+{peak - before:.0f} MB over the same process before exporting ({before:.0f} MB)"),
    ], ("measure", "figure", "target", "vs baseline"))


def _read_only_seconds(path: Path) -> float:
    from storage.ledger import _enterprises, _history, _latest

    db = Database(connect(path))
    titles: dict[int, str] = {}
    flt = ReportFilter()

    def read() -> None:
        for rows in (_latest(db, flt, titles), _history(db, flt, titles),
                     _enterprises(db, flt)):
            for _ in rows:
                pass

    seconds = median_ms(read, 3) / 1000
    db.conn.close()
    return seconds


# ---------------------------------------------------------------------- reply time


async def reply_figures(args: argparse.Namespace, path: Path, workdir: Path) -> None:
    from telegram.request import HTTPXRequest

    from bot.app import build_application
    from bot.lifecycle import polling
    from bot.settings import Settings
    from knowledge.engine import load_engine

    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    driver = ctx.Process(target=driver_main, args=(child, args.rtt_ms / 1000, args.users,
                                                   args.think), daemon=True)
    driver.start()
    exports: list[float] = []
    try:
        _, base_url, token = await asyncio.to_thread(recv, parent, 60)
        settings = Settings(token=token, api_base_url=base_url, db_path=path,
                            flood_burst=1_000_000, flood_per_minute=1e9)
        engine = load_engine()
        titles = {t.number: t.title for t in engine.kb.tasks}
        db = open_db(path)
        app = build_application(settings, engine=engine, db=db,
                                request=HTTPXRequest(connection_pool_size=64),
                                get_updates_request=HTTPXRequest())
        stop = threading.Event()

        def export_until_stopped() -> None:
            """As /export will: a worker thread with a read connection of its own."""
            reader = Database(connect(path))
            try:
                while not stop.is_set():
                    start = time.perf_counter()
                    export_ledger(reader, ReportFilter(), workdir / "busy.xlsx",
                                  task_titles=titles)
                    exports.append(time.perf_counter() - start)
            finally:
                reader.conn.close()

        async with polling(app, poll_timeout=1.0):
            parent.send(("phase", 10.0))  # warm-up (answer cache, connections): not counted
            await asyncio.to_thread(recv, parent)
            parent.send(("phase", args.idle_seconds))
            idle = (await asyncio.to_thread(recv, parent))[1]
            worker = asyncio.create_task(asyncio.to_thread(export_until_stopped))
            await asyncio.sleep(1.0)  # the export is under way
            parent.send(("phase", args.busy_seconds))
            busy = (await asyncio.to_thread(recv, parent))[1]
            stop.set()
            await worker
        parent.send(("quit",))
        db.conn.close()
    finally:
        driver.join(10)
        if driver.is_alive():
            driver.terminate()
    print(f"\n## Reply time of questions while the ledger is exported, {args.users} users "
          f"(think {args.think:g} s, simulated RTT {args.rtt_ms:g} ms, stand-in in a separate "
          f"process, GIL switch interval {sys.getswitchinterval() * 1000:g} ms); the export "
          "runs in a worker thread of the bot process on its own read "
          f"connection, back to back ({len(exports)} exports, median "
          f"{statistics.median(exports) if exports else float('nan'):.1f} s each)\n")
    table([("idle", str(len(idle)), f"{percentile_ms(idle, .5):.0f}",
            f"{percentile_ms(idle, .95):.0f}"),
           ("while exporting", str(len(busy)), f"{percentile_ms(busy, .5):.0f}",
            f"{percentile_ms(busy, .95):.0f}")], ("bot", "questions", "p50 ms", "p95 ms"))
    print(f"\nbusy/idle: p50 {percentile_ms(busy, .5) / percentile_ms(idle, .5):.2f}x, "
          f"p95 {percentile_ms(busy, .95) / percentile_ms(idle, .95):.2f}x (target ≤ 1.5x)")


# ---------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--enterprises", type=int, default=20_000)
    parser.add_argument("--reports", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--export-runs", type=int, default=3)
    parser.add_argument("--rtt-ms", type=float, default=50.0)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--think", type=float, default=2.0)
    parser.add_argument("--idle-seconds", type=float, default=30.0)
    parser.add_argument("--busy-seconds", type=float, default=40.0)
    parser.add_argument("--switch-interval", type=float, default=None,
                        help="sys.setswitchinterval for the bot process (default: Python's 5 ms)")
    parser.add_argument("--skip", action="append", default=[],
                        choices=["queries", "writer", "export", "reply"])
    parser.add_argument("--dir", type=Path, default=None, help="where to put the database")
    args = parser.parse_args(argv)
    if args.switch_interval is not None:
        sys.setswitchinterval(args.switch_interval)
    kb = load_kb()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        workdir = Path(tmp)
        path = workdir / "staff.sqlite"
        db = open_db(path)
        start = time.perf_counter()
        counts = populate(db, kb, args.enterprises, args.reports, random.Random(2021))
        print(f"setup: {', '.join(f'{v:,} {k}' for k, v in counts.items())} in "
              f"{time.perf_counter() - start:.1f} s (SQLite WAL, synchronous=FULL, "
              f"{sys.version.split()[0]})")
        if "queries" not in args.skip:
            query_figures(db, kb, args.repeats)
        if "writer" not in args.skip:
            writer_figures(db, kb, 20_000)
        db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.conn.close()
        if "export" not in args.skip:
            export_figures(path, workdir, args.export_runs)
        if "reply" not in args.skip:
            asyncio.run(reply_figures(args, path, workdir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
