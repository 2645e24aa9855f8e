"""The log of questions asked in the chat, and users' votes on the answers.

Staff use it to see what the bot could not answer and which answers people found
useless — the inputs for improving the knowledge base.

Durability of the question log (a deliberate trade-off, see :func:`log_question`):
a question row is committed at ``synchronous=NORMAL``, not the ``FULL`` that
:mod:`storage.db` sets for everything else. In WAL mode that means the commit is
written to the WAL (so it survives the bot process crashing or being killed, and
it is visible to other connections at once) but not fsynced. An fsync costs
~0.5 ms on this machine, more than everything else lvdong adds to a reply bar the
engine, and the event loop is blocked while it waits. What can be lost: after a
power cut or an OS crash, the question rows committed since the last fsync — the
next ``FULL`` commit (a report, a vote, a user record, a dialog step) or WAL
checkpoint fsyncs the WAL and with it every earlier question row, and a clean
shutdown (closing the connection) checkpoints it into the database file. The
log is an aggregate input for improving the knowledge base, not data anyone was
told was saved, so a lost tail of it after a power cut is acceptable; the
database itself cannot be corrupted by ``NORMAL`` in WAL mode. Reports and
everything else a user is told "已收到" about keep full durability.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from storage.clock import from_db, to_db


@dataclass(frozen=True)
class Question:
    id: int
    user_id: int
    chat_id: int
    text: str
    answered: bool
    confident: bool
    sources: tuple[str, ...]
    created_at: dt.datetime


@dataclass(frozen=True)
class QuestionVotes:
    question: Question
    useful: int
    not_useful: int


@dataclass(frozen=True)
class FeedbackSummary:
    questions: int
    answered: int
    confident: int
    useful_votes: int
    not_useful_votes: int
    least_useful: tuple[QuestionVotes, ...]  # most "not useful" votes first


QUESTION_LOG_SYNCHRONOUS = "NORMAL"
_INSERT_QUESTION = """INSERT INTO questions
    (user_id, chat_id, text, answered, confident, sources, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?)"""


def log_question(
    db: Database,
    *,
    user_id: int,
    chat_id: int,
    text: str,
    answered: bool,
    confident: bool,
    sources: Sequence[str],
    now: dt.datetime,
) -> int:
    """Store one question and how it was answered; return its id (used in feedback buttons).

    Committed without an fsync (``synchronous=NORMAL``; see the module docstring for
    what that risks); the connection's own setting is restored before returning, so
    other writes keep theirs. Inside an open transaction the row simply joins it and
    is committed with it, at the connection's setting.
    """
    params = (user_id, chat_id, text, int(answered), int(confident),
              json.dumps(list(sources), ensure_ascii=False), to_db(now))
    conn = db.conn
    if conn.in_transaction:
        cursor = db.execute(_INSERT_QUESTION, params)
    else:
        previous = int(conn.execute("PRAGMA synchronous").fetchone()[0])
        conn.execute(f"PRAGMA synchronous = {QUESTION_LOG_SYNCHRONOUS}")
        try:
            cursor = db.execute(_INSERT_QUESTION, params)
        finally:
            conn.execute(f"PRAGMA synchronous = {previous}")
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def record_feedback(
    db: Database, *, question_id: int, user_id: int, useful: bool, now: dt.datetime
) -> None:
    """Record a user's vote; a second vote by the same user replaces the first, so
    repeated button presses cannot stuff the count."""
    stamp = to_db(now)
    try:
        db.execute(
            """INSERT INTO feedback (question_id, user_id, useful, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (question_id, user_id) DO UPDATE SET
                   useful = excluded.useful, updated_at = excluded.updated_at""",
            (question_id, user_id, int(useful), stamp, stamp),
        )
    except Exception as error:  # sqlite3.IntegrityError from the foreign key
        if "FOREIGN KEY" in str(error):
            raise LookupError(f"no question {question_id}") from error
        raise


def _question(row: dict[str, Any]) -> Question:
    return Question(
        id=int(row["id"]),
        user_id=int(row["user_id"]),
        chat_id=int(row["chat_id"]),
        text=str(row["text"]),
        answered=bool(row["answered"]),
        confident=bool(row["confident"]),
        sources=tuple(json.loads(str(row["sources"]))),
        created_at=from_db(str(row["created_at"])),
    )


def get_question(db: Database, question_id: int) -> Question | None:
    rows = list(db.query("SELECT * FROM questions WHERE id = ?", (question_id,)))
    return _question(rows[0]) if rows else None


def unanswered(db: Database, limit: int, *, include_unsure: bool = False) -> list[Question]:
    """The most recent questions the bot could not answer (newest first); with
    ``include_unsure`` also those it answered without confidence."""
    condition = "answered = 0 OR confident = 0" if include_unsure else "answered = 0"
    rows = db.query(
        f"SELECT * FROM questions WHERE {condition} ORDER BY id DESC LIMIT ?", (limit,)
    )
    return [_question(row) for row in rows]


def doubtful(db: Database, limit: int) -> list[tuple[int, str, int]]:
    """The latest ``limit`` questions answered without confidence, not at all, or voted
    not useful: (id, text, how many 👎), newest first."""
    rows = db.execute(
        """SELECT q.id, q.text,
                  (SELECT count(*) FROM feedback f WHERE f.question_id = q.id AND f.useful = 0)
           FROM questions q
           WHERE q.answered = 0 OR q.confident = 0
              OR EXISTS (SELECT 1 FROM feedback f WHERE f.question_id = q.id AND f.useful = 0)
           ORDER BY q.id DESC LIMIT ?""", (limit,)).fetchall()
    return [(int(row[0]), str(row[1]), int(row[2])) for row in rows]


def feedback_summary(db: Database, *, worst: int = 10) -> FeedbackSummary:
    """Totals for staff, plus the ``worst`` questions with the most "not useful" votes."""
    totals = next(db.query(
        """SELECT count(*) AS questions,
                  coalesce(sum(answered), 0) AS answered,
                  coalesce(sum(confident), 0) AS confident
           FROM questions"""
    ))
    votes = next(db.query(
        """SELECT coalesce(sum(useful), 0) AS useful,
                  coalesce(sum(1 - useful), 0) AS not_useful FROM feedback"""
    ))
    rows = db.query(
        """SELECT q.*, sum(f.useful) AS useful_votes, sum(1 - f.useful) AS not_useful_votes
           FROM questions q JOIN feedback f ON f.question_id = q.id
           GROUP BY q.id HAVING not_useful_votes > 0
           ORDER BY not_useful_votes DESC, q.id DESC LIMIT ?""",
        (worst,),
    )
    least = tuple(
        QuestionVotes(_question(row), int(row["useful_votes"]), int(row["not_useful_votes"]))
        for row in rows
    )
    return FeedbackSummary(
        questions=totals["questions"],
        answered=totals["answered"],
        confident=totals["confident"],
        useful_votes=votes["useful"],
        not_useful_votes=votes["not_useful"],
        least_useful=least,
    )
