"""Opening the one SQLite database lvdong keeps everything in.

Settings, and why:

* ``journal_mode=WAL`` — staff queries read while dialogs write; WAL lets readers
  and the single writer proceed without blocking each other.
* ``synchronous=FULL`` — the bot tells an enterprise "已收到" only after
  :func:`storage.reports.add_report` returns. In WAL mode ``NORMAL`` survives a
  process crash but may lose the last commits on power loss or an OS crash, so an
  acknowledged report could vanish. ``FULL`` fsyncs the WAL on every commit; with
  WAL that is a single fsync per transaction, cheap enough for our write rate
  (see ``bench/bench_storage.py``).
* ``foreign_keys=ON`` — off by default in SQLite; our child tables rely on it.
* ``busy_timeout`` — a second process (the CLI, a backup) may hold the write lock
  briefly; waiting beats failing a user's report with "database is locked".
"""

from __future__ import annotations

import errno
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from storage.migrations import (
    NewerSchema,
    NotLvdongDatabase,
    SchemaError,
    check_database,
    migrate,
)

BUSY_TIMEOUT_MS = 5_000
SYNCHRONOUS = "FULL"
MEMORY = ":memory:"
CACHE_KIB = 32_768  # staff queries over ~1.5M reports touch tens of MB; the default is 2 MB


class DatabaseUnusable(Exception):
    """lvdong cannot use the database file. ``str()`` is one paragraph for the operator:
    the file, what is wrong, that the file was left as it was, and what to do."""

    def __init__(self, path: str | Path, problem: str, remedy: str) -> None:
        self.path = Path(path)
        self.problem = problem
        self.remedy = remedy
        super().__init__(f"不能使用数据库 {path}：{problem}。文件未被改动。{remedy}")


_RESTORE = "请停止 lvdong，保留该文件以便排查，从备份恢复（见 README“备份与恢复”），" \
           "或让 LVDONG_DB 指向正确的文件。"


def unusable(path: str | Path, exc: BaseException) -> DatabaseUnusable:
    """Say in plain words why ``exc`` (raised opening or migrating ``path``) stops lvdong."""
    path = Path(path)
    if isinstance(exc, DatabaseUnusable):
        return exc
    if isinstance(exc, NewerSchema):
        return DatabaseUnusable(path, f"它由更新版本的 lvdong 写入（{exc}）",
                                "请安装与之相同或更新的 lvdong 再启动，不要用旧版本打开它。")
    if isinstance(exc, NotLvdongDatabase):
        return DatabaseUnusable(
            path, f"它不是 lvdong 的数据库（{exc}）",
            "lvdong 不会往其他程序的文件里添加表。请让 LVDONG_DB 指向 lvdong 自己的数据库，"
            "或指向一个还不存在的文件（将新建）。")
    code = getattr(exc, "sqlite_errorcode", 0) & 0xFF  # primary result code
    if code in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT):
        return DatabaseUnusable(path, f"文件已损坏或不是 SQLite 数据库（{exc}）", _RESTORE)
    if code in (sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR) or (
        isinstance(exc, OSError) and exc.errno == errno.ENOSPC
    ):
        return DatabaseUnusable(
            path, f"写入失败，磁盘已满或出现 I/O 错误（{exc}）",
            f"请用 df -h {path.parent} 查看剩余空间，腾出空间或检查磁盘后再启动；"
            "已提交的数据不受影响。")
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
        return DatabaseUnusable(path, f"它被另一个进程锁住（{exc}）",
                                "请确认没有别的程序正在长时间写它，然后重试。")
    if code in (sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_PERM) or (
        isinstance(exc, OSError)
    ):
        return DatabaseUnusable(
            path, f"无法打开或写入（{exc}）",
            f"SQLite 要在目录 {path.parent} 中写入数据库和它的 -wal、-shm 文件：请让运行 lvdong "
            "的用户对该目录和文件有写权限，或用 LVDONG_DB / LVDONG_DATA_DIR 指向可写的位置。")
    return DatabaseUnusable(
        path, f"无法使用（{type(exc).__name__}: {exc}）",
        "请运行 lvdong doctor 查看详情，必要时从备份恢复（见 README“备份与恢复”）。")


def _prepare_location(path: Path) -> None:
    if path.is_dir():
        raise DatabaseUnusable(path, "这是一个目录，不是数据库文件",
                               f"LVDONG_DB 应是文件路径，例如 {path / 'lvdong.sqlite'}。")
    path.parent.mkdir(parents=True, exist_ok=True)


def connect(path: str | Path) -> sqlite3.Connection:
    """A raw connection with lvdong's pragmas; ``":memory:"`` gives a private in-memory DB.

    The file is checked first (:func:`storage.migrations.check_database`: lvdong's, not
    newer, readable) and :class:`DatabaseUnusable` raised before anything is written to
    it — ``journal_mode=WAL`` rewrites the header of a rollback-journal file, so it
    comes after the check.

    ``check_same_thread=False`` because PTB may run blocking calls in worker threads;
    callers must still not use one connection from two threads *at the same time*.
    """
    target = str(path)
    conn: sqlite3.Connection | None = None
    try:
        if target != MEMORY:
            _prepare_location(Path(target))
        conn = sqlite3.connect(target, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        check_database(Database(conn, execute_plugins=False))
        if target != MEMORY:
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {SYNCHRONOUS}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    except (sqlite3.Error, OSError, SchemaError, DatabaseUnusable) as exc:
        if conn is not None:
            conn.close()
        raise unusable(target, exc) from exc
    return conn


def open_reader(path: str | Path) -> Database:
    """A read-only connection to an lvdong database that is already open elsewhere: for
    slow reads (exports, charts, province-wide lists) in a worker thread. With WAL it
    reads a consistent snapshot while the bot keeps writing on its own connection."""
    conn = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True,
                           timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    return Database(conn)


def open_db(path: str | Path) -> Database:
    """Open (creating if needed) the database at ``path`` and bring its schema up to date.

    Raises :class:`DatabaseUnusable` (nothing written) when lvdong cannot use the file.
    """
    db = Database(connect(path))
    try:
        migrate(db)
    except (sqlite3.Error, SchemaError) as exc:
        db.conn.close()
        raise unusable(path, exc) from exc
    return db


@contextmanager
def transaction(db: Database) -> Iterator[Database]:
    """A write transaction taken with ``BEGIN IMMEDIATE``; commits on success.

    Read-then-write logic (e.g. "is this credit code registered? if not, insert")
    must hold the write lock from the start: a deferred transaction that later
    upgrades can fail with SQLITE_BUSY even with a busy timeout, and two processes
    could both see "not registered". Nested use becomes a savepoint.
    """
    if db.conn.in_transaction:
        with db.atomic():
            yield db
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")
