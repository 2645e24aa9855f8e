"""Staff reviews of self-reports: 已核实, 有问题 (with a comment) or 驳回 (with a reason).

Reports stay append-only; a review is a row of its own, and a report's review state
is its latest review. The enterprise is told through the outbox (by the caller, in
the same transaction) and answers by reporting again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlite_utils import Database

from storage.clock import from_db, to_db


class Verdict(StrEnum):
    VERIFIED = "verified"
    PROBLEM = "problem"
    REJECTED = "rejected"

    @property
    def words(self) -> str:
        return VERDICT_WORDS[self]

    @property
    def needs_comment(self) -> bool:
        return self is not Verdict.VERIFIED


VERDICT_WORDS = {Verdict.VERIFIED: "已核实", Verdict.PROBLEM: "有问题", Verdict.REJECTED: "驳回"}


@dataclass(frozen=True)
class Review:
    id: int
    report_id: int
    reviewer_id: int
    verdict: Verdict
    comment: str
    created_at: dt.datetime


def add_review(
    db: Database,
    *,
    report_id: int,
    reviewer_id: int,
    verdict: Verdict,
    comment: str,
    now: dt.datetime,
) -> Review:
    """Record a review; ValueError for a verdict that needs a comment and has none."""
    verdict = Verdict(verdict)
    if verdict.needs_comment and not comment.strip():
        raise ValueError(f"a {verdict.value} review needs a comment")
    cursor = db.execute(
        """INSERT INTO reviews (report_id, reviewer_id, verdict, comment, created_at)
           VALUES (?, ?, ?, ?, ?)""",
        (report_id, reviewer_id, verdict.value, comment.strip(), to_db(now)),
    )
    assert cursor.lastrowid is not None
    return Review(cursor.lastrowid, report_id, reviewer_id, verdict, comment.strip(), now)


def reviews_of(db: Database, report_ids: Iterable[int]) -> dict[int, list[Review]]:
    """Each report's reviews, oldest first."""
    ids = sorted(set(report_ids))
    found: dict[int, list[Review]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for row in db.query(
            f"SELECT * FROM reviews WHERE report_id IN ({marks}) ORDER BY id", chunk
        ):
            found.setdefault(row["report_id"], []).append(Review(
                row["id"], row["report_id"], row["reviewer_id"], Verdict(row["verdict"]),
                row["comment"], from_db(row["created_at"])))
    return found


def last_review(reviews: dict[int, list[Review]], report_id: int) -> Review | None:
    """A report's review state: its latest review, if any."""
    found = reviews.get(report_id)
    return found[-1] if found else None
