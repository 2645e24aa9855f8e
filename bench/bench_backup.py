"""Backup benchmark, run by hand: ``python bench/bench_backup.py [--enterprises N]``.

Measures :func:`storage.backup.backup_database` (SQLite's online backup API, copy
checked with ``integrity_check``, fsynced, renamed) on the storage benchmark's
database (N enterprises × 26 tasks × 3 reports):

1. the backup alone, against a baseline plain file copy (``shutil.copyfile`` of the
   checkpointed file, no check, no fsync) of the same database in the same process;
   The backup's time is also split: the snapshot (the backup API) and the rest
   (``integrity_check`` of the copy, fsync, rename);
2. the backup while a writer commits reports through :func:`storage.reports.add_report`
   (as the bot does) from a thread of the same process, and the writer's commit rate
   during backups against its rate alone: what a running bot loses while a backup is
   taken (in production the backup is another process; here they share one).

Medians of ``--repeats`` runs; the ratio to the baseline is what to compare between runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_storage import REPORT_STATUSES, T0, TASKS, populate

from storage.backup import backup_database
from storage.db import open_db
from storage.reports import ReportDraft, add_report


def writer(path: Path, enterprises: int, stop: threading.Event, commits: list[float]) -> None:
    """Commit one report at a time until ``stop``; record each commit's time."""
    db = open_db(path)
    i = 0
    while not stop.is_set():
        draft = ReportDraft(enterprise_id=1 + i % enterprises, user_id=1, task=1 + i % TASKS,
                            status="进行中", percent=50, description="备份基准",
                            completion_date=dt.date(2021, 12, 31))
        add_report(db, draft, T0, task_numbers=range(1, TASKS + 1), statuses=REPORT_STATUSES)
        commits.append(time.perf_counter())
        i += 1
    db.conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=None, help="where to put the databases")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        live = Path(tmp) / "live.sqlite"
        db = open_db(live)
        reports = populate(db, args.enterprises, 3, random.Random(2021))
        db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.conn.close()
        size_mb = live.stat().st_size / 1e6

        def fresh(name: str) -> Path:
            target = Path(tmp) / name
            target.unlink(missing_ok=True)
            return target

        copies, backups, snapshots = [], [], []
        for _ in range(args.repeats):
            start = time.perf_counter()
            shutil.copyfile(live, fresh("plain.sqlite"))
            copies.append(time.perf_counter() - start)
            result = backup_database(live, fresh("backup.sqlite"))
            backups.append(result.seconds)
            snapshots.append(result.copy_seconds)

        stop = threading.Event()
        commits: list[float] = []
        thread = threading.Thread(target=writer, args=(live, args.enterprises, stop, commits))
        thread.start()
        time.sleep(0.5)
        during, alone_rates, during_rates = [], [], []
        window = max(statistics.median(backups), 0.5)
        for _ in range(args.repeats):  # alternate: a window alone, then one with a backup
            before, start = len(commits), time.perf_counter()
            time.sleep(window)
            alone_rates.append((len(commits) - before) / (time.perf_counter() - start))
            before = len(commits)
            result = backup_database(live, fresh("busy.sqlite"))
            during.append(result.seconds)
            during_rates.append((len(commits) - before) / result.seconds)
        stop.set()
        thread.join()

    copy_s, backup_s, snap_s, busy_s = (
        statistics.median(x) for x in (copies, backups, snapshots, during)
    )
    print(f"database: {args.enterprises:,} enterprises, {reports:,} reports, {size_mb:.0f} MB "
          f"(WAL, synchronous=FULL); medians of {args.repeats}")
    print(f"plain file copy (baseline):        {copy_s:6.2f} s")
    print(f"lvdong backup, idle:               {backup_s:6.2f} s  "
          f"({backup_s / copy_s:.1f}× the copy)")
    print(f"  of which the snapshot (backup API): {snap_s:6.2f} s  "
          f"({snap_s / copy_s:.1f}× the copy; the rest is integrity_check and fsync)")
    print(f"lvdong backup, writer committing:  {busy_s:6.2f} s")
    alone, busy = statistics.median(alone_rates), statistics.median(during_rates)
    print(f"writer: {alone:,.0f} commits/s alone, {busy:,.0f} commits/s during backups "
          f"({busy / alone:.0%})")


if __name__ == "__main__":
    main()
