"""Which reminders fell due, recorded once, with their messages queued in the same
transaction.

python-telegram-bot's JobQueue keeps jobs in memory and APScheduler drops a run
missed past its grace time, so neither can remember what was sent. Here the
database does: a reminder run (a deadline and a kind, e.g. "30 days before") is a
row of ``reminder_runs`` keyed by ``<deadline key>:<kind>``. Planning it inserts
that row *and* queues its outbox deliveries in one transaction, so after a crash it
is either fully planned or not at all, and a restart (or a day the bot was down)
plans it exactly once. Delivery is then the outbox's job.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlite_utils import Database

from storage.clock import from_db, to_db
from storage.db import transaction
from storage.outbox import Message, Priority, enqueue


@dataclass(frozen=True)
class Run:
    """A reminder run that fell due: ``kind`` is ``before:<days>``, ``overdue`` or
    ``summary``; ``due_on`` the Beijing date it was meant for."""

    deadline_key: str
    kind: str
    due_on: dt.date

    @property
    def key(self) -> str:
        return f"{self.deadline_key}:{self.kind}"


def due_runs(
    deadline_key: str,
    due: dt.date,
    *,
    today: dt.date,
    offsets: Sequence[int],
) -> list[Run]:
    """The runs of one deadline due on or before ``today``: one per offset (days before
    the deadline), then ``overdue`` and ``summary`` the day after it."""
    runs = [Run(deadline_key, f"before:{days}", due - dt.timedelta(days=days))
            for days in sorted(set(offsets), reverse=True) if days > 0]
    after = due + dt.timedelta(days=1)
    runs += [Run(deadline_key, "overdue", after), Run(deadline_key, "summary", after)]
    return [run for run in runs if run.due_on <= today]


def planned(db: Database, keys: Iterable[str]) -> set[str]:
    """Which of ``keys`` were planned already."""
    wanted = list(keys)
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        marks = ",".join("?" * len(chunk))
        found |= {row[0] for row in db.execute(
            f"SELECT key FROM reminder_runs WHERE key IN ({marks})", chunk)}
    return found


def plan(
    db: Database,
    run: Run,
    deliveries: Sequence[tuple[Message, Sequence[int]]],
    *,
    skipped: int,
    now: dt.datetime,
    stale: bool = False,
) -> bool:
    """Record ``run`` and queue its ``deliveries`` (message, chats) in one transaction;
    False (and nothing queued) if it was planned before. ``stale``: it fell due too long
    ago to be worth sending (recorded so it is never sent late)."""
    with transaction(db):
        cursor = db.execute(
            """INSERT INTO reminder_runs (key, deadline_key, kind, due_on, planned_at,
                   recipients, skipped, stale)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING""",
            (run.key, run.deadline_key, run.kind, run.due_on.isoformat(), to_db(now),
             sum(len(chats) for _, chats in deliveries), skipped, int(stale)),
        )
        if cursor.rowcount == 0:
            return False
        for message, chats in deliveries:
            enqueue(db, message, chats, now=now, priority=Priority.BULK)
    return True


@dataclass(frozen=True)
class RunRecord:
    key: str
    kind: str
    due_on: dt.date
    recipients: int
    skipped: int
    stale: bool


def runs_of(db: Database, deadline_key: str) -> list[RunRecord]:
    """The recorded runs of one deadline, in the order they fell due."""
    return [
        RunRecord(row["key"], row["kind"], dt.date.fromisoformat(row["due_on"]),
                  row["recipients"], row["skipped"], bool(row["stale"]))
        for row in db.query(
            "SELECT * FROM reminder_runs WHERE deadline_key = ? ORDER BY due_on, key",
            (deadline_key,),
        )
    ]


# --- the clock the reminders trust ------------------------------------------------------

REMINDER_CLOCK = "reminders"


def clock_mark(db: Database, name: str = REMINDER_CLOCK) -> dt.datetime | None:
    """The time the reminders last accepted (None: never ran)."""
    row = db.execute("SELECT at FROM clock_marks WHERE name = ?", (name,)).fetchone()
    return from_db(row[0]) if row else None


def set_clock_mark(db: Database, now: dt.datetime, name: str = REMINDER_CLOCK) -> None:
    """Accept ``now`` as the reminders' clock (also: confirm a jump)."""
    db.execute("""INSERT INTO clock_marks (name, at) VALUES (?, ?)
                  ON CONFLICT (name) DO UPDATE SET at = excluded.at""", (name, to_db(now)))


def forget_stale_after(db: Database, now: dt.datetime) -> int:
    """Delete the stale runs recorded by a clock ahead of ``now`` (a jump that was later
    undone): they queued nothing, and are planned again now the clock is back."""
    cursor = db.execute("DELETE FROM reminder_runs WHERE stale = 1 AND planned_at > ?",
                        (to_db(now),))
    return cursor.rowcount
