"""Notices officials send to enterprises: stored with their audience, queued in the
outbox in the same transaction, cancellable until they go out."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlite_utils import Database

from storage.audiences import Audience
from storage.clock import from_db, to_db
from storage.db import transaction
from storage.outbox import DeliveryStatus, Message, Priority, cancel_message, counts, enqueue


@dataclass(frozen=True)
class Notice:
    id: int
    created_by: int
    created_at: dt.datetime
    audience: Audience
    regions: frozenset[str]  # the scope it went to (empty: the whole province)
    text: str  # as the official typed it
    send_at: dt.datetime
    cancelled_at: dt.datetime | None
    message_id: int | None  # its outbox message
    progress_chat_id: int | None
    progress_message_id: int | None

    @property
    def key(self) -> str:
        return notice_key(self.id)


def notice_key(notice_id: int) -> str:
    return f"notice:{notice_id}"


def _notice(row: dict[str, object]) -> Notice:
    return Notice(
        id=int(row["id"]),  # type: ignore[call-overload]
        created_by=int(row["created_by"]),  # type: ignore[call-overload]
        created_at=from_db(str(row["created_at"])),
        audience=Audience.from_json(str(row["audience"])),
        regions=frozenset(json.loads(str(row["regions"]))),
        text=str(row["text"]),
        send_at=from_db(str(row["send_at"])),
        cancelled_at=from_db(str(row["cancelled_at"])) if row["cancelled_at"] else None,
        message_id=row["message_id"],  # type: ignore[arg-type]
        progress_chat_id=row["progress_chat_id"],  # type: ignore[arg-type]
        progress_message_id=row["progress_message_id"],  # type: ignore[arg-type]
    )


_SELECT = """SELECT n.*, m.id AS message_id FROM notices n
             LEFT JOIN outbox_messages m ON m.key = 'notice:' || n.id"""


def create_notice(
    db: Database,
    *,
    by: int,
    audience: Audience,
    regions: Iterable[str],
    text: str,
    html: str,
    recipients: Sequence[int],
    send_at: dt.datetime,
    now: dt.datetime,
) -> Notice:
    """Store a notice and queue it for ``recipients`` (not before ``send_at``), atomically.
    ``html`` is the message as it will be sent (escaped, with its heading)."""
    with transaction(db):
        cursor = db.execute(
            """INSERT INTO notices (created_by, created_at, audience, regions, text, send_at)
               VALUES (?, ?, ?, ?, ?, ?)""",
            (by, to_db(now), audience.to_json(),
             json.dumps(sorted(set(regions)), ensure_ascii=False), text, to_db(send_at)),
        )
        notice_id = cursor.lastrowid
        assert notice_id is not None
        enqueue(
            db,
            Message(key=notice_key(notice_id), kind="notice", text=html, notice_id=notice_id),
            recipients,
            now=now,
            not_before=send_at,
            priority=Priority.BULK,
        )
    notice = get_notice(db, notice_id)
    assert notice is not None
    return notice


def get_notice(db: Database, notice_id: int) -> Notice | None:
    rows = list(db.query(f"{_SELECT} WHERE n.id = ?", (notice_id,)))
    return _notice(rows[0]) if rows else None


def list_notices(db: Database, *, limit: int = 20, before: int | None = None) -> list[Notice]:
    """Newest first; ``before``: only notices older than that id (paging)."""
    where = "" if before is None else "WHERE n.id < ?"
    params: tuple[int, ...] = (limit,) if before is None else (before, limit)
    return [_notice(row) for row in db.query(
        f"{_SELECT} {where} ORDER BY n.id DESC LIMIT ?", params
    )]


def set_progress_message(db: Database, notice_id: int, chat_id: int, message_id: int) -> None:
    """The official's message that shows this notice's progress (edited as it goes)."""
    db.execute(
        "UPDATE notices SET progress_chat_id = ?, progress_message_id = ? WHERE id = ?",
        (chat_id, message_id, notice_id),
    )


def cancel_notice(db: Database, notice_id: int, *, by: int, now: dt.datetime) -> int:
    """Withdraw the deliveries not yet sent; returns how many. Sent ones stay sent."""
    with transaction(db):
        notice = get_notice(db, notice_id)
        if notice is None or notice.message_id is None:
            return 0
        db.execute(
            "UPDATE notices SET cancelled_at = coalesce(cancelled_at, ?), "
            "cancelled_by = coalesce(cancelled_by, ?) WHERE id = ?",
            (to_db(now), by, notice_id),
        )
        return cancel_message(db, notice.message_id, now)


def notice_counts(db: Database, notice: Notice) -> Counter[DeliveryStatus]:
    return counts(db, notice.message_id) if notice.message_id is not None else Counter()
