"""A consistent copy of the live database, taken while the bot runs and writes.

Copying the ``.sqlite`` file alone is not a backup: in WAL mode committed
transactions may still sit in the ``-wal`` file, and a copy taken during a
checkpoint can be torn. SQLite's online backup API reads every page inside one
read transaction, so the copy is exactly the database as of one commit; in WAL
mode that read transaction does not block the bot's writes, which go on into the
WAL meanwhile (and are in the next backup).

The copy is written next to the target as ``<name>.partial``, checked with
``PRAGMA integrity_check``, fsynced and only then renamed into place, so a
backup interrupted half-way never looks like a good one.
"""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from storage.db import connect


class BackupError(Exception):
    """The backup was not made; the message says why and what to do."""


@dataclass(frozen=True)
class BackupResult:
    target: Path
    pages: int
    bytes: int
    seconds: float  # all of it
    copy_seconds: float  # the snapshot alone (the rest is the integrity check and fsync)


def backup_target(target: Path, now: dt.datetime) -> Path:
    """``target`` itself, or a time-stamped file inside it when it is a directory."""
    if target.is_dir():
        return target / f"lvdong-{now:%Y%m%d-%H%M%S}.sqlite"
    return target


def backup_database(source: Path, target: Path) -> BackupResult:
    """Copy the lvdong database at ``source`` to the new file ``target`` (never overwritten)."""
    if not source.is_file():
        raise BackupError(f"没有数据库 {source}（请检查 LVDONG_DB / LVDONG_DATA_DIR）")
    if target.exists():
        raise BackupError(f"{target} 已存在，备份不会覆盖它；请换一个文件名或目录")
    if not target.parent.is_dir():
        raise BackupError(f"目录 {target.parent} 不存在；请先创建它")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    started = time.perf_counter()
    src = connect(source)  # refuses a file that is not lvdong's; does not migrate
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)  # all pages in one step: one snapshot, writers go on (WAL)
            copied = time.perf_counter() - started
            pages = int(dst.execute("PRAGMA page_count").fetchone()[0])
            check = [row[0] for row in dst.execute("PRAGMA integrity_check")]
        finally:
            dst.close()
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"备份到 {target} 失败（{exc}）；请检查目标磁盘的空间和权限") from exc
    finally:
        src.close()
    if check != ["ok"]:
        partial.unlink(missing_ok=True)
        raise BackupError(f"副本没有通过 integrity_check（{'；'.join(check[:3])}）；"
                          "请运行 lvdong doctor 检查原数据库")
    _fsync(partial)
    partial.rename(target)
    _fsync(target.parent)
    return BackupResult(target, pages, target.stat().st_size, time.perf_counter() - started,
                        copied)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

