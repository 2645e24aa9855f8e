"""The outbox: every message the bot sends on its own, written down before it is sent.

A *message* (``outbox_messages``) is one text with a unique ``key`` that says what it
is (``notice:12``, ``reminder:kb:2:1:before:7``, ``decision:account:31``); a
*delivery* (``outbox``) is that message for one chat, unique per (message, chat).
Queuing the same key and chat twice adds nothing, which is what makes reminders,
approval notes and retries after a crash idempotent.

A delivery's life::

    queued --claimed, about to be handed to the API--> sending --> sent
    sending --> failed      (Telegram rejected it: chat not found, ...)
    sending --> blocked     (the user blocked the bot)
    sending --> uncertain   (handed over, no answer came back)
    sending --> queued      (429, or a connection that failed before sending: later)
    queued  --> cancelled   (a notice withdrawn before it went out)

``sending`` is committed *before* the API call. If the process dies during the
call, :func:`recover` turns those rows into ``uncertain`` at the next start: the
message may or may not have reached the user, so it is neither sent again
(a duplicate) nor silently dropped; officials see the count. At most the sender's
concurrency can be in that state at once.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlite_utils import Database

from storage.clock import to_db
from storage.db import transaction


class DeliveryStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"
    UNCERTAIN = "uncertain"
    CANCELLED = "cancelled"


FINAL = frozenset({DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.BLOCKED,
                   DeliveryStatus.UNCERTAIN, DeliveryStatus.CANCELLED})


class Priority:
    """Higher goes first: a note to one person should not wait behind a mass notice."""

    BULK = 0  # notices, reminders
    PERSONAL = 10  # approval results, review notes, dialog-expiry notes


@dataclass(frozen=True)
class Message:
    """What to send: HTML ``text`` and an optional inline keyboard as JSON."""

    key: str
    kind: str  # "notice", "reminder", "overdue", "summary", "decision", "review", ...
    text: str
    markup: str | None = None
    notice_id: int | None = None


@dataclass(frozen=True)
class Delivery:
    id: int
    message_id: int
    chat_id: int
    kind: str
    text: str
    markup: str | None
    notice_id: int | None
    attempts: int
    reachable: bool = True  # False: the user is known to have blocked the bot


def enqueue(
    db: Database,
    message: Message,
    chat_ids: Iterable[int],
    *,
    now: dt.datetime,
    not_before: dt.datetime | None = None,
    priority: int = Priority.BULK,
) -> tuple[int, int]:
    """Queue ``message`` for each chat; return (message id, deliveries added).

    Idempotent by ``message.key`` and chat: a message already queued keeps its text,
    and a chat it was already queued for is not added again. Joins the caller's
    transaction if one is open (so a decision and its note commit together).
    """
    stamp = to_db(now)
    start = to_db(not_before or now)
    with transaction(db):
        db.execute(
            """INSERT INTO outbox_messages (key, kind, text, markup, notice_id, created_at)
               VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING""",
            (message.key, message.kind, message.text, message.markup, message.notice_id, stamp),
        )
        message_id = int(db.execute(
            "SELECT id FROM outbox_messages WHERE key = ?", (message.key,)
        ).fetchone()[0])
        before = db.execute("SELECT total_changes()").fetchone()[0]
        db.conn.executemany(
            """INSERT INTO outbox (message_id, chat_id, not_before, updated_at, priority)
               VALUES (?, ?, ?, ?, ?) ON CONFLICT (message_id, chat_id) DO NOTHING""",
            [(message_id, chat_id, start, stamp, priority) for chat_id in dict.fromkeys(chat_ids)],
        )
        added = db.execute("SELECT total_changes()").fetchone()[0] - before
    return message_id, int(added)


def _only(chats: frozenset[int] | None) -> tuple[str, tuple[int, ...]]:
    """SQL condition and parameters limiting ``o.chat_id`` to ``chats`` (None: all)."""
    if chats is None:
        return "", ()
    return f" AND o.chat_id IN ({', '.join('?' * len(chats))})", tuple(sorted(chats))


def due(
    db: Database, now: dt.datetime, limit: int, *, skip: Sequence[int] = (),
    chats: frozenset[int] | None = None,
) -> list[Delivery]:
    """Up to ``limit`` queued deliveries whose time has come, most urgent first, at most
    one per chat, leaving out the delivery ids in ``skip`` (already being sent), and
    only to ``chats`` if given (a terminal window delivers only its own user's).
    Nothing is changed: :func:`mark_sending` claims a delivery just before its call."""
    only, only_params = _only(chats)
    rows = db.execute(
        """SELECT o.id, o.message_id, o.chat_id, m.kind, m.text, m.markup, m.notice_id,
                  o.attempts, coalesce(u.reachable, 1)
           FROM outbox o JOIN outbox_messages m ON m.id = o.message_id
                LEFT JOIN users u ON u.user_id = o.chat_id
           WHERE o.status = 'queued' AND o.not_before <= ?""" + only + """
           ORDER BY o.priority DESC, o.not_before, o.id LIMIT ?""",
        (to_db(now), *only_params, limit + len(skip)),
    ).fetchall()
    skipped = set(skip)
    seen: set[int] = set()
    out: list[Delivery] = []
    for row in rows:
        delivery = Delivery(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7],
                            reachable=bool(row[8]))
        if delivery.id in skipped or delivery.chat_id in seen:
            continue
        seen.add(delivery.chat_id)
        out.append(delivery)
        if len(out) >= limit:
            break
    return out


def next_due(db: Database, chats: frozenset[int] | None = None) -> dt.datetime | None:
    """When the earliest queued delivery (to ``chats``, if given) may go (None: nothing
    queued)."""
    only, only_params = _only(chats)
    row = db.execute("SELECT min(not_before) FROM outbox o WHERE status = 'queued'" + only,
                     only_params).fetchone()
    return dt.datetime.fromisoformat(row[0]) if row and row[0] else None


def mark_sending(db: Database, delivery_id: int, now: dt.datetime) -> bool:
    """Claim a queued delivery right before handing it to the API (committed first).
    False if it is no longer queued (cancelled meanwhile): then do not send it."""
    cursor = db.execute(
        """UPDATE outbox SET status = 'sending', attempts = attempts + 1, updated_at = ?
           WHERE id = ? AND status = 'queued'""",
        (to_db(now), delivery_id),
    )
    return cursor.rowcount == 1


def finish(
    db: Database,
    delivery_id: int,
    status: DeliveryStatus,
    now: dt.datetime,
    *,
    error: str | None = None,
    sent_message_id: int | None = None,
) -> None:
    """Record how a send ended (a final status)."""
    if status not in FINAL:
        raise ValueError(f"not a final status: {status}")
    db.execute(
        """UPDATE outbox SET status = ?, error = ?, sent_message_id = ?, updated_at = ?
           WHERE id = ?""",
        (status.value, error, sent_message_id, to_db(now), delivery_id),
    )


def retry_later(
    db: Database, delivery_id: int, at: dt.datetime, now: dt.datetime, error: str
) -> None:
    """The send did not happen (429, a connection that failed before sending): queue it
    again for ``at``."""
    db.execute(
        """UPDATE outbox SET status = 'queued', not_before = ?, error = ?, updated_at = ?
           WHERE id = ?""",
        (to_db(at), error, to_db(now), delivery_id),
    )


def block(db: Database, delivery_id: int, now: dt.datetime) -> bool:
    """A due delivery to a user known to have blocked the bot becomes ``blocked``
    without a call (see :attr:`Delivery.reachable`); False if no longer queued."""
    cursor = db.execute(
        """UPDATE outbox SET status = 'blocked', error = 'user blocked the bot',
               updated_at = ?
           WHERE id = ? AND status = 'queued'""",
        (to_db(now), delivery_id),
    )
    return cursor.rowcount == 1


def recover(db: Database, now: dt.datetime, chats: frozenset[int] | None = None) -> int:
    """At start-up: deliveries left ``sending`` by a crash (to ``chats``, if given)
    become ``uncertain``."""
    only, only_params = _only(chats)
    cursor = db.execute(
        """UPDATE outbox AS o SET status = 'uncertain',
               error = 'the process stopped before Telegram answered', updated_at = ?
           WHERE status = 'sending'""" + only,
        (to_db(now), *only_params),
    )
    return cursor.rowcount


def requeue_uncertain(db: Database, message_id: int, now: dt.datetime) -> int:
    """An official chose to send the uncertain deliveries of a message again (accepting
    that some recipients may get it twice); returns how many were queued."""
    cursor = db.execute(
        """UPDATE outbox SET status = 'queued', not_before = ?, updated_at = ?
           WHERE message_id = ? AND status = 'uncertain'""",
        (to_db(now), to_db(now), message_id),
    )
    return cursor.rowcount


def cancel_message(db: Database, message_id: int, now: dt.datetime) -> int:
    """Withdraw a message's deliveries that have not gone out; returns how many."""
    cursor = db.execute(
        """UPDATE outbox SET status = 'cancelled', updated_at = ?
           WHERE message_id = ? AND status = 'queued'""",
        (to_db(now), message_id),
    )
    return cursor.rowcount


def counts(db: Database, message_id: int) -> Counter[DeliveryStatus]:
    """How many deliveries of a message are in each status."""
    return Counter({
        DeliveryStatus(row[0]): int(row[1])
        for row in db.execute(
            "SELECT status, count(*) FROM outbox WHERE message_id = ? GROUP BY status",
            (message_id,),
        )
    })


@dataclass(frozen=True)
class Unreached:
    """A recipient a message did not (surely) reach, with whom they speak for."""

    chat_id: int
    status: DeliveryStatus
    error: str | None
    enterprise: str | None  # the enterprise the user speaks for (approved account)
    city: str | None


def unreached(db: Database, message_id: int) -> list[Unreached]:
    """Recipients whose delivery failed, was blocked or is uncertain, by city and name."""
    rows = db.execute(
        """SELECT o.chat_id, o.status, o.error, e.name, e.city
           FROM outbox o
           LEFT JOIN accounts a ON a.user_id = o.chat_id AND a.status = 'approved'
           LEFT JOIN enterprises e ON e.id = a.enterprise_id
           WHERE o.message_id = ? AND o.status IN ('failed', 'blocked', 'uncertain')
           ORDER BY e.city, e.name, o.chat_id""", (message_id,)).fetchall()
    return [Unreached(row[0], DeliveryStatus(row[1]), row[2], row[3], row[4]) for row in rows]
