"""Enterprises' self-reports on the plan's tasks.

Reports are append-only (triggers in the schema refuse UPDATE and DELETE): a new
report on a task supersedes the previous one for display, but the history stays,
because what an enterprise said and when is the record officials rely on.
"Latest" means the highest report id, which is also commit order; timestamps
could tie.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlite_utils import Database

from storage.clock import from_db, to_db
from storage.db import transaction


@dataclass(frozen=True)
class Attachment:
    """A file sent with a report; the bytes stay on Telegram, we keep its ids."""

    file_id: str
    file_unique_id: str
    kind: str  # "photo" or "document"
    mime_type: str | None = None
    size: int | None = None
    file_name: str | None = None


@dataclass(frozen=True)
class ReportDraft:
    """A report as collected by the dialog, before it is stored."""

    enterprise_id: int
    user_id: int
    task: int
    status: str
    percent: int | None = None
    description: str = ""
    completion_date: dt.date | None = None
    from_pending: bool = False
    attachments: Sequence[Attachment] = field(default_factory=tuple)
    token: str | None = None  # the dialog that filed it: one dialog, at most one report

    def validate(self, task_numbers: Collection[int], statuses: Collection[str]) -> None:
        """Raise ValueError for a draft the plan (its ``task_numbers`` and ``statuses``,
        from the knowledge base) or the schema would reject, with a readable reason."""
        if self.task not in task_numbers:
            raise ValueError(f"no task {self.task} in the plan")
        if self.status not in statuses:
            raise ValueError(f"unknown status {self.status!r}")
        if self.percent is not None and not 0 <= self.percent <= 100:
            raise ValueError(f"percent must be 0..100, not {self.percent}")
        for attachment in self.attachments:
            if attachment.kind not in ("photo", "document"):
                raise ValueError(f"unknown attachment kind {attachment.kind!r}")


@dataclass(frozen=True)
class Report:
    id: int
    enterprise_id: int
    user_id: int
    task: int
    status: str
    percent: int | None
    description: str
    completion_date: dt.date | None
    from_pending: bool
    created_at: dt.datetime
    attachments: tuple[Attachment, ...] = ()


def add_report(
    db: Database,
    draft: ReportDraft,
    now: dt.datetime,
    *,
    task_numbers: Collection[int],
    statuses: Collection[str],
) -> int:
    """Store a report and its attachments in one transaction; return its id.

    The transaction is committed (and, with ``synchronous=FULL``, on disk) before
    this returns, so the caller may acknowledge the report to the user right after.
    A draft whose ``token`` is already stored is not stored again: the id of the
    report it filed is returned (a confirm replayed after a crash between this
    commit and the end of the dialog).
    """
    draft.validate(task_numbers, statuses)
    with transaction(db):
        existing = report_for_token(db, draft.token)
        if existing is not None:
            return existing
        cursor = db.execute(
            """INSERT INTO reports (enterprise_id, user_id, task, status, percent, description,
                   completion_date, from_pending, created_at, dialog_token)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                draft.enterprise_id,
                draft.user_id,
                draft.task,
                draft.status,
                draft.percent,
                draft.description,
                draft.completion_date.isoformat() if draft.completion_date else None,
                int(draft.from_pending),
                to_db(now),
                draft.token,
            ),
        )
        report_id = cursor.lastrowid
        assert report_id is not None
        for a in draft.attachments:
            db.execute(
                """INSERT INTO attachments (report_id, file_id, file_unique_id, kind, mime_type,
                       size, file_name)
                   VALUES (?, ?, ?, ?, ?, ?, ?)""",
                (report_id, a.file_id, a.file_unique_id, a.kind, a.mime_type, a.size, a.file_name),
            )
    return report_id


def report_for_token(db: Database, token: str | None) -> int | None:
    """The id of the report filed by the dialog ``token``, if any."""
    if token is None:
        return None
    rows = list(db.query("SELECT id FROM reports WHERE dialog_token = ?", (token,)))
    return int(rows[0]["id"]) if rows else None


def _attachments(db: Database, report_ids: Sequence[int]) -> dict[int, list[Attachment]]:
    found: dict[int, list[Attachment]] = {}
    if not report_ids:
        return found
    marks = ",".join("?" * len(report_ids))
    for row in db.query(
        f"SELECT * FROM attachments WHERE report_id IN ({marks}) ORDER BY id", list(report_ids)
    ):
        found.setdefault(row["report_id"], []).append(
            Attachment(
                row["file_id"],
                row["file_unique_id"],
                row["kind"],
                row["mime_type"],
                row["size"],
                row["file_name"],
            )
        )
    return found


def _report(row: dict[str, Any], attachments: Sequence[Attachment] = ()) -> Report:
    date = row["completion_date"]
    return Report(
        id=row["id"],
        enterprise_id=row["enterprise_id"],
        user_id=row["user_id"],
        task=row["task"],
        status=row["status"],
        percent=row["percent"],
        description=row["description"],
        completion_date=dt.date.fromisoformat(date) if date else None,
        from_pending=bool(row["from_pending"]),
        created_at=from_db(row["created_at"]),
        attachments=tuple(attachments),
    )


def _with_attachments(db: Database, rows: list[dict[str, Any]]) -> list[Report]:
    files = _attachments(db, [row["id"] for row in rows])
    return [_report(row, files.get(row["id"], ())) for row in rows]


def get_report(db: Database, report_id: int) -> Report | None:
    rows = list(db.query("SELECT * FROM reports WHERE id = ?", (report_id,)))
    return _with_attachments(db, rows)[0] if rows else None


def history(db: Database, enterprise_id: int, task: int) -> list[Report]:
    """Every report an enterprise made on one task, oldest first."""
    rows = list(
        db.query(
            "SELECT * FROM reports WHERE enterprise_id = ? AND task = ? ORDER BY id",
            (enterprise_id, task),
        )
    )
    return _with_attachments(db, rows)


def reports_of(db: Database, enterprise_id: int) -> list[Report]:
    """Every report an enterprise made, newest first, with their attachments."""
    rows = list(db.query("SELECT * FROM reports WHERE enterprise_id = ? ORDER BY id DESC",
                         (enterprise_id,)))
    return _with_attachments(db, rows)


def latest_by_task(db: Database, enterprise_id: int) -> dict[int, Report]:
    """The enterprise's latest report on each task it has reported on."""
    rows = list(
        db.query(
            """SELECT r.* FROM reports r
           JOIN (SELECT max(id) AS id FROM reports WHERE enterprise_id = ? GROUP BY task) m
             ON m.id = r.id
           ORDER BY r.task""",
            (enterprise_id,),
        )
    )
    return {report.task: report for report in _with_attachments(db, rows)}
