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

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from storage.migrations import migrate

BUSY_TIMEOUT_MS = 5_000
SYNCHRONOUS = "FULL"
MEMORY = ":memory:"
CACHE_KIB = 32_768  # staff queries over ~1.5M reports touch tens of MB; the default is 2 MB


def connect(path: str | Path) -> sqlite3.Connection:
    """A raw connection with lvdong's pragmas; ``":memory:"`` gives a private in-memory DB.

    ``check_same_thread=False`` because PTB may run blocking calls in worker threads;
    callers must still not use one connection from two threads *at the same time*.
    """
    target = str(path)
    if target != MEMORY:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(target, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if target != MEMORY:
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {SYNCHRONOUS}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
    return conn


def open_db(path: str | Path) -> Database:
    """Open (creating if needed) the database at ``path`` and bring its schema up to date."""
    db = Database(connect(path))
    migrate(db)
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
