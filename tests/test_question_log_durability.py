"""The question log is committed without an fsync; everything else keeps FULL, and
nothing is lost when the bot stops cleanly or its process dies."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

from sqlite_utils import Database

from storage.db import open_db, transaction
from storage.questions import log_question
from storage.users import touch_user
from tests.bot_harness import CONFIDENT_QUESTION, running_bot

T0 = dt.datetime(2021, 6, 1, 8, 0, tzinfo=dt.UTC)
ROOT = Path(__file__).resolve().parent.parent
FULL, NORMAL = 2, 1


def _log(db: Database, n: int = 0) -> int:
    return log_question(db, user_id=10 + n, chat_id=10 + n, text=f"问题{n}",
                        answered=True, confident=True, sources=("二（一）2",), now=T0)


def test_question_is_committed_at_normal_and_the_connection_stays_full(tmp_path: Path) -> None:
    db = open_db(tmp_path / "lvdong.sqlite")
    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)
    _log(db)
    db.conn.set_trace_callback(None)
    insert = next(i for i, s in enumerate(statements) if s.lstrip().startswith("INSERT"))
    assert any("synchronous = NORMAL" in s for s in statements[:insert])
    assert any("synchronous = 2" in s for s in statements[insert:])
    assert db.conn.execute("PRAGMA synchronous").fetchone()[0] == FULL
    assert not db.conn.in_transaction, "committed, not left open"


def test_other_writes_keep_full_durability(tmp_path: Path) -> None:
    db = open_db(tmp_path / "lvdong.sqlite")
    _log(db)
    levels: list[int] = []
    db.conn.set_trace_callback(
        lambda s: levels.append(db.conn.execute("PRAGMA synchronous").fetchone()[0])
        if s.startswith("INSERT INTO users") else None
    )
    touch_user(db, 10, "张三", T0)
    db.conn.set_trace_callback(None)
    assert levels == [FULL]


def test_inside_a_transaction_the_row_joins_it(tmp_path: Path) -> None:
    db = open_db(tmp_path / "lvdong.sqlite")
    try:
        with transaction(db):
            _log(db)
            assert db.conn.execute("PRAGMA synchronous").fetchone()[0] == FULL
            raise RuntimeError("roll back")
    except RuntimeError:
        pass
    assert db.execute("SELECT count(*) FROM questions").fetchone()[0] == 0


def test_nothing_is_lost_when_the_process_dies_without_closing(tmp_path: Path) -> None:
    path = tmp_path / "lvdong.sqlite"
    open_db(path).conn.close()
    script = (
        "import datetime as dt, os, sys\n"
        "from storage.db import open_db\n"
        "from storage.questions import log_question\n"
        f"db = open_db({str(path)!r})\n"
        "for n in range(50):\n"
        "    log_question(db, user_id=n, chat_id=n, text=f'q{n}', answered=True,\n"
        "                 confident=True, sources=(), now=dt.datetime.now(dt.UTC))\n"
        "os._exit(0)  # no close, no checkpoint: as if killed\n"
    )
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, timeout=60,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    db = open_db(path)
    assert db.execute("SELECT count(*) FROM questions").fetchone()[0] == 50


async def test_clean_shutdown_keeps_every_question(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        for n in range(20):
            await bot.exchange(2000 + n, CONFIDENT_QUESTION)
        path = tmp_path / "lvdong.sqlite"
    # the application has shut down and closed the database: the WAL was checkpointed
    wal = Path(f"{path}-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    db = open_db(path)
    assert db.execute("SELECT count(*) FROM questions").fetchone()[0] == 20
