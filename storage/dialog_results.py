"""What a dialog committed, by the dialog's token: one dialog, at most one result.

A dialog's draft carries a random token from its start (a dialog-less action, such as
a review button pressed once, uses its Telegram update id). The result is recorded in
the transaction that stores it; a confirm replayed after a crash — the same update
sent again by Telegram, or the user pressing once more because no answer came —
finds the token and is told what was stored, instead of storing it twice.
"""

from __future__ import annotations

import datetime as dt

from sqlite_utils import Database

from storage.clock import to_db


def result_of(db: Database, token: str) -> str | None:
    """What the dialog ``token`` committed (e.g. ``"通知 #3"``), if it did."""
    row = db.execute("SELECT subject FROM dialog_results WHERE token = ?", (token,)).fetchone()
    return str(row[0]) if row is not None else None


def record_result(
    db: Database, token: str, *, dialog: str, user_id: int, subject: str, now: dt.datetime
) -> None:
    """Remember what ``token`` committed; joins the caller's transaction."""
    db.execute(
        "INSERT INTO dialog_results (token, dialog, user_id, subject, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (token, dialog, user_id, subject, to_db(now)),
    )


def start_run(db: Database, now: dt.datetime) -> tuple[int, bool]:
    """Record that the bot starts; its run id, and whether the run before it ended
    without a clean stop (a crash or a kill)."""
    last = db.execute("SELECT stopped_at FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    cursor = db.execute("INSERT INTO runs (started_at) VALUES (?)", (to_db(now),))
    return int(cursor.lastrowid or 0), last is not None and last[0] is None


def stop_run(db: Database, run_id: int, now: dt.datetime) -> None:
    """Record a clean stop of run ``run_id``."""
    db.execute("UPDATE runs SET stopped_at = ? WHERE id = ?", (to_db(now), run_id))
