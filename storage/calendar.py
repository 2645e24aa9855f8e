"""The deadline calendar: the plan's own deadlines plus those officials add.

The plan's deadlines come from the knowledge base (the caller turns them into
:class:`CalendarEntry` values); the ones officials add with ``/deadline add`` live in
the ``deadlines`` table. Both kinds look the same to reminders and to ``/deadlines``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlite_utils import Database

from storage.clock import to_db
from storage.qualifiers import Condition, Industries
from storage.regions import is_region


@dataclass(frozen=True)
class CalendarEntry:
    """One dated obligation and whom it concerns."""

    key: str  # stable id: "kb:<task>:<n>" for the plan's n-th deadline of a task, "db:<id>"
    task: int
    due: dt.date
    what: str  # what must be done by then
    wording: str  # the plan's words for the date ("2021年10月底前"), or the date itself
    who: Condition  # whom it concerns (the knowledge base's audience, see storage.qualifiers)
    regions: frozenset[str] = frozenset()  # empty: everywhere
    added_by: int | None = None  # the official who added it (None: the plan's own)
    starts: bool = False  # a start date (自…起执行): reminded before, never overdue

    def concerns(
        self, region: str, industries: Iterable[str], qualifiers: Mapping[str, str] | None = None
    ) -> bool:
        """Whether an enterprise of ``region``, ``industries`` and these qualifier answers
        is concerned."""
        if self.regions and region not in self.regions:
            return False
        return self.who.concerns(industries, qualifiers)

    @property
    def nobody(self) -> bool:
        """Government work: listed for officials, reminds no enterprise."""
        return self.who.nobody


def add_deadline(
    db: Database,
    *,
    task: int,
    due: dt.date,
    what: str,
    industries: Iterable[str],
    regions: Iterable[str],
    by: int,
    now: dt.datetime,
) -> int:
    """Store an official's deadline; returns its id. ``industries`` empty: the task's own
    audience; ``regions`` empty: everywhere (the caller checks the official's scope)."""
    unknown = [r for r in regions if not is_region(r)]
    if unknown:
        raise ValueError(f"unknown region: {'、'.join(unknown)}")
    if not what.strip():
        raise ValueError("a deadline needs a text")
    cursor = db.execute(
        """INSERT INTO deadlines (task, due, text, industries, regions, created_by, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)""",
        (task, due.isoformat(), what.strip(),
         json.dumps(sorted(set(industries)), ensure_ascii=False),
         json.dumps(sorted(set(regions)), ensure_ascii=False), by, to_db(now)),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def cancel_deadline(db: Database, deadline_id: int, *, by: int, now: dt.datetime) -> bool:
    """Withdraw an official's deadline (its reminders stop); False if unknown or gone."""
    cursor = db.execute(
        """UPDATE deadlines SET cancelled_at = ?, cancelled_by = ?
           WHERE id = ? AND cancelled_at IS NULL""",
        (to_db(now), by, deadline_id),
    )
    return cursor.rowcount == 1


def added_deadlines(db: Database, concern: Mapping[int, Condition]) -> list[CalendarEntry]:
    """The officials' deadlines still in force, as calendar entries. ``concern`` gives
    each task's own audience, used when a deadline names no industries; a deadline for a
    task that concerns no enterprise and names none concerns nobody and is left out."""
    out = []
    for row in db.query(
        "SELECT * FROM deadlines WHERE cancelled_at IS NULL ORDER BY due, id"
    ):
        named = frozenset(json.loads(row["industries"]))
        who: Condition
        if named:
            who = Industries(named)
        elif row["task"] in concern:
            who = concern[row["task"]]
        else:
            continue
        due = dt.date.fromisoformat(row["due"])
        out.append(CalendarEntry(
            key=f"db:{row['id']}",
            task=row["task"],
            due=due,
            what=row["text"],
            wording=f"{due.year}年{due.month}月{due.day}日前",
            who=who,
            regions=frozenset(json.loads(row["regions"])),
            added_by=row["created_by"],
        ))
    return out


def deadline_regions(db: Database, deadline_id: int) -> frozenset[str] | None:
    """The regions of an official's deadline (None if there is no such deadline)."""
    row = db.execute("SELECT regions FROM deadlines WHERE id = ?", (deadline_id,)).fetchone()
    return frozenset(json.loads(row[0])) if row else None
