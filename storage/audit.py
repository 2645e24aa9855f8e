"""The audit log: who did what, to whom, when — for every privileged action.

Append-only (triggers refuse UPDATE and DELETE). ``detail`` holds ids and choices,
never what users typed (a notice's text is in ``notices``; the log names its id).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from storage.clock import from_db, to_db


@dataclass(frozen=True)
class Entry:
    id: int
    at: dt.datetime
    actor_id: int
    action: str  # e.g. "grant", "revoke", "approve", "reject", "notify", "cancel_notice"
    subject: str  # e.g. "user:42", "account:7", "notice:3"
    detail: dict[str, Any]


def record(
    db: Database,
    *,
    actor_id: int,
    action: str,
    subject: str,
    now: dt.datetime,
    **detail: Any,
) -> int:
    """Append one entry; joins the caller's transaction, so an action and its entry
    commit together."""
    cursor = db.execute(
        "INSERT INTO audit_log (at, actor_id, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
        (to_db(now), actor_id, action, subject,
         json.dumps(detail, ensure_ascii=False, sort_keys=True)),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def latest(db: Database, limit: int = 20) -> list[Entry]:
    """The newest entries first."""
    return [
        Entry(row["id"], from_db(row["at"]), row["actor_id"], row["action"], row["subject"],
              json.loads(row["detail"]))
        for row in db.query("SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", (limit,))
    ]
