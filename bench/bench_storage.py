"""Storage benchmark, run by hand: ``python bench/bench_storage.py [--enterprises N]``.

Measures, on a real file with lvdong's settings (WAL, synchronous=FULL):

1. sustained report inserts, each through :func:`storage.reports.add_report` and so
   committed and fsynced on its own (target ≥ 1,000 reports/s), against a baseline
   of bare one-column INSERTs committed one by one on the same database;
2. the staff views of storage/progress.py over 20,000 enterprises × 26 tasks × 3
   reports: the latest reports of a city and task (target ≤ 100 ms), of a city, of a
   task and status; overdue in a city; completion of every task in the province —
   against a baseline full scan of ``reports``;
3. the database size.

The machine is shared and noisy, so each figure is the median of several
repetitions, and the ratio to a baseline measured in the same process is printed
alongside: the ratio is what to compare between runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import median_ms
from sqlite_utils import Database

from storage.clock import to_db
from storage.credit_code import check_character, org_check_character
from storage.db import open_db
from storage.progress import Due, ReportFilter, completion_by_task, latest_rows, overdue
from storage.regions import REGIONS
from storage.reports import ReportDraft, add_report

T0 = dt.datetime(2021, 6, 1, tzinfo=dt.UTC)
INDUSTRIES = ("钢铁", "焦化", "水泥", "玻璃", "铸造", "化工", "电解铝", "耐材", "砖瓦", "碳素")
TASKS = 26
# The shipped plan's statuses (the knowledge base's `progress` section).
REPORT_STATUSES = ("未开始", "进行中", "已完成", "不涉及")
DONE_STATUSES = ("已完成", "不涉及")


def credit_code(n: int) -> str:
    body = f"{n:08d}"
    first17 = "91410100" + body + org_check_character(body)
    return first17 + check_character(first17)


def populate(db: Database, enterprises: int, per_task: int, rng: random.Random) -> int:
    """Bulk-load enterprises and reports in one transaction (setup, not measured)."""
    stamp = to_db(T0)
    stamps = [to_db(T0 + dt.timedelta(days=round_)) for round_ in range(per_task)]
    with db.conn:
        db.conn.executemany(
            """INSERT INTO enterprises (id, name, credit_code, city, contact_name, phone,
                   status, created_at, updated_at)
               VALUES (?, ?, ?, ?, '联系人', '13812345678', 'approved', ?, ?)""",
            (
                (i, f"企业{i}", credit_code(i), REGIONS[i % len(REGIONS)], stamp, stamp)
                for i in range(1, enterprises + 1)
            ),
        )
        db.conn.executemany(
            "INSERT INTO enterprise_industries (enterprise_id, industry) VALUES (?, ?)",
            (
                (i, industry)
                for i in range(1, enterprises + 1)
                for industry in rng.sample(INDUSTRIES, 1 + i % 2)
            ),
        )
        rows = (
            (
                i,
                1000 + i,
                task,
                rng.choice(REPORT_STATUSES),
                rng.randint(0, 100),
                "说明",
                "2021-12-31",
                0,
                stamps[round_],
            )
            for round_ in range(per_task)
            for i in range(1, enterprises + 1)
            for task in range(1, TASKS + 1)
        )
        db.conn.executemany(
            """INSERT INTO reports (enterprise_id, user_id, task, status, percent, description,
                   completion_date, from_pending, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            rows,
        )
    db.conn.execute("ANALYZE")
    return int(db.conn.execute("SELECT count(*) FROM reports").fetchone()[0])


def rate(count: int, action: Callable[[int], None]) -> float:
    """Operations per second for ``count`` calls of ``action``."""
    start = time.perf_counter()
    for i in range(count):
        action(i)
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=20_000)
    parser.add_argument("--reports-per-task", type=int, default=3)
    parser.add_argument("--inserts", type=int, default=1_000, help="reports per insert run")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=None, help="where to put the database")
    args = parser.parse_args()
    rng = random.Random(2021)

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = Path(tmp) / "bench.db"
        db = open_db(path)
        start = time.perf_counter()
        total = populate(db, args.enterprises, args.reports_per_task, rng)
        setup_s = time.perf_counter() - start
        db.conn.execute("CREATE TABLE baseline (x INTEGER)")

        def one_report(i: int) -> None:
            draft = ReportDraft(
                enterprise_id=1 + i % args.enterprises,
                user_id=1,
                task=1 + i % TASKS,
                status="进行中",
                percent=50,
                description="基准测试",
                completion_date=dt.date(2021, 12, 31),
            )
            add_report(db, draft, T0, task_numbers=range(1, TASKS + 1),
                       statuses=REPORT_STATUSES)

        def one_baseline(i: int) -> None:
            db.conn.execute("INSERT INTO baseline (x) VALUES (?)", (i,))
            db.conn.commit()

        insert_rates, baseline_rates = [], []
        for _ in range(args.repeats):
            baseline_rates.append(rate(args.inserts, one_baseline))
            insert_rates.append(rate(args.inserts, one_report))
        report_rate = statistics.median(insert_rates)
        base_rate = statistics.median(baseline_rates)

        city, task = "郑州市", 5
        in_city = frozenset({city})

        def latest(flt: ReportFilter) -> list[object]:
            return list(latest_rows(db, flt))

        city_task = ReportFilter(regions=in_city, tasks=frozenset({task}))
        query_ms = median_ms(lambda: latest(city_task), args.repeats * 2)
        rows = len(latest(city_task))
        city_all_ms = median_ms(lambda: latest(ReportFilter(regions=in_city)), args.repeats)
        status_ms = median_ms(
            lambda: latest(ReportFilter(tasks=frozenset({task}), statuses=frozenset({"未开始"}))),
            args.repeats)
        dues = [Due(t, dt.date(2021, 6, 30), None) for t in range(1, TASKS + 1)]
        overdue_ms = median_ms(
            lambda: overdue(db, dues, today=dt.date(2021, 7, 1), done=DONE_STATUSES,
                            regions=in_city),
            args.repeats,
        )
        every_task = {t: None for t in range(1, TASKS + 1)}
        counts_ms = median_ms(
            lambda: completion_by_task(db, concern=every_task, done=DONE_STATUSES), args.repeats)
        scan_ms = median_ms(
            lambda: db.conn.execute(
                "SELECT count(*) FROM reports WHERE description = 'x'"
            ).fetchone(),
            args.repeats * 2,
        )
        db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size_mb = sum(p.stat().st_size for p in Path(tmp).iterdir()) / 1e6
        journal = db.conn.execute("PRAGMA journal_mode").fetchone()[0]
        sync = db.conn.execute("PRAGMA synchronous").fetchone()[0]
        db.close()

    print(
        f"setup: {args.enterprises:,} enterprises, {total:,} reports in {setup_s:.1f} s "
        f"(journal={journal}, synchronous={sync}, medians of {args.repeats}+ runs)"
    )
    table = [
        (
            "report inserts, each committed",
            f"{report_rate:,.0f} /s",
            "≥ 1,000 /s",
            f"{report_rate / base_rate:.2f} × bare committed INSERT ({base_rate:,.0f} /s)",
        ),
        (
            f"latest_rows(city, task) [{rows} rows]",
            f"{query_ms:.1f} ms",
            "≤ 100 ms",
            f"{query_ms / scan_ms:.2f} × full scan of reports ({scan_ms:.0f} ms)",
        ),
        (
            "latest_rows(city), all 26 tasks",
            f"{city_all_ms:.1f} ms",
            "",
            f"{city_all_ms / scan_ms:.2f} × scan",
        ),
        (
            "latest_rows(task, status), province",
            f"{status_ms:.1f} ms",
            "",
            f"{status_ms / scan_ms:.2f} × scan",
        ),
        (
            "overdue(city), 26 deadlines, never-reported included",
            f"{overdue_ms:.1f} ms",
            "",
            f"{overdue_ms / scan_ms:.2f} × scan",
        ),
        (
            "completion_by_task(), province, all 26 tasks",
            f"{counts_ms:.1f} ms",
            "",
            f"{counts_ms / scan_ms:.2f} × scan",
        ),
        ("database size (after checkpoint)", f"{size_mb:.0f} MB", "", ""),
    ]
    widths = [max(len(row[i]) for row in table) for i in range(4)]
    header = ("measure", "median", "target", "ratio to baseline")
    widths = [max(w, len(h)) for w, h in zip(widths, header, strict=True)]
    for row in (header, tuple("-" * w for w in widths), *table):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


if __name__ == "__main__":
    main()
