"""Questions staff attached to a knowledge-base entry (from /unanswered).

The question is stored with its normalised form (the caller normalises, as the
engine does), so the same question typed differently is one entry; removing keeps
the row (who removed it, when) for the audit trail. ``lvdong kb learned`` exports the
live ones as YAML to merge into the knowledge base.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass

from sqlite_utils import Database

from storage.clock import from_db, to_db


@dataclass(frozen=True)
class Learned:
    id: int
    question: str
    normalized: str
    fact_id: str
    created_by: int
    created_at: dt.datetime


class AlreadyLearned(ValueError):
    """The question (normalised) is attached to an entry already."""


def learn(
    db: Database, *, question: str, normalized: str, fact_id: str, by: int, now: dt.datetime
) -> Learned:
    try:
        cursor = db.execute(
            """INSERT INTO learned_questions (question, normalized, fact_id, created_by,
                   created_at) VALUES (?, ?, ?, ?, ?)""",
            (question, normalized, fact_id, by, to_db(now)),
        )
    except sqlite3.IntegrityError as exc:
        raise AlreadyLearned(normalized) from exc
    assert cursor.lastrowid is not None
    return Learned(cursor.lastrowid, question, normalized, fact_id, by, now)


def unlearn(db: Database, learned_id: int, *, by: int, now: dt.datetime) -> bool:
    cursor = db.execute(
        """UPDATE learned_questions SET removed_by = ?, removed_at = ?
           WHERE id = ? AND removed_at IS NULL""",
        (by, to_db(now), learned_id),
    )
    return cursor.rowcount == 1


def learned(db: Database) -> list[Learned]:
    """The live ones, oldest first."""
    return [
        Learned(row["id"], row["question"], row["normalized"], row["fact_id"],
                row["created_by"], from_db(row["created_at"]))
        for row in db.query(
            "SELECT * FROM learned_questions WHERE removed_at IS NULL ORDER BY id")
    ]


def ignore(db: Database, *, normalized: str, question_id: int, by: int,
           now: dt.datetime) -> bool:
    """Set a question aside (not about the plan): False if it already was."""
    cursor = db.execute(
        """INSERT INTO ignored_questions (normalized, question_id, ignored_by, ignored_at)
           VALUES (?, ?, ?, ?) ON CONFLICT (normalized) DO NOTHING""",
        (normalized, question_id, by, to_db(now)))
    return cursor.rowcount == 1


def ignored(db: Database) -> frozenset[str]:
    """The normalised texts of the questions set aside."""
    return frozenset(row[0] for row in db.execute("SELECT normalized FROM ignored_questions"))
