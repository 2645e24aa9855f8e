"""What staff ask of the self-reports: filtered lists, overdue and silent enterprises,
completion figures.

Province-wide views never scan the report history: they read ``latest_reports``, the
latest report per (enterprise, task), kept by a trigger in the same transaction as
each report (migration 4). What the plan says — which tasks concern whom, which
statuses count as done, the deadlines — is passed in by the caller from the
knowledge base; this module knows none of it.

Scope: every function takes the regions to look at (empty: the whole province);
callers intersect the asker's scope with what they asked for *before* calling.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from operator import attrgetter
from typing import Any, NamedTuple

from sqlite_utils import Database

from storage.clock import SHANGHAI, from_db, to_db
from storage.qualifiers import Condition, audience_sql


class Approval(StrEnum):
    ALL = "all"  # approved and pending (rejected enterprises are never shown)
    APPROVED = "approved"
    PENDING = "pending"


class ReviewState(StrEnum):
    """Where a report stands with the staff's review (its latest review's verdict)."""

    ALL = "all"
    UNREVIEWED = "none"  # nobody has reviewed it yet: the staff's queue
    REVIEWED = "any"  # any verdict
    VERIFIED = "verified"  # the verdicts of storage.reviews.Verdict
    PROBLEM = "problem"
    REJECTED = "rejected"


NOWHERE = frozenset({"\0none"})

# An enterprise has joined when an account speaks for it (approved); one the list brought
# in that nobody has bound yet is 未加入 (``not_joined``).
JOINED = ("EXISTS (SELECT 1 FROM accounts a WHERE a.enterprise_id = e.id "
          "AND a.status = 'approved')")  # regions that match no enterprise: an empty intersection


@dataclass(frozen=True)
class ReportFilter:
    """What /reports, /export and the charts are limited to; empty means no limit."""

    regions: frozenset[str] = frozenset()
    industries: frozenset[str] = frozenset()
    tasks: frozenset[int] = frozenset()
    statuses: frozenset[str] = frozenset()
    since: dt.date | None = None  # the latest report was filed on or after (Beijing date)
    until: dt.date | None = None  # ... on or before
    approval: Approval = Approval.ALL  # the enterprise's registration
    review: ReviewState = ReviewState.ALL  # the latest report's review

    def within(self, regions: frozenset[str]) -> ReportFilter:
        """Limited to ``regions`` as well (empty ``regions``: no further limit)."""
        if not regions:
            return self
        mine = self.regions & regions if self.regions else regions
        return replace(self, regions=mine or NOWHERE)


def _in(column: str, values: Collection[Any]) -> tuple[str, list[Any]]:
    return f"{column} IN ({','.join('?' * len(values))})", sorted(values)


def _day_start(day: dt.date) -> str:
    return to_db(dt.datetime.combine(day, dt.time(), tzinfo=SHANGHAI))


def _enterprise_where(flt: ReportFilter, alias: str = "e") -> tuple[list[str], list[Any]]:
    where = [f"{alias}.status != 'rejected'"]
    params: list[Any] = []
    if flt.approval is not Approval.ALL:
        where.append(f"{alias}.status = ?")
        params.append(flt.approval.value)
    if flt.regions:
        sql, values = _in(f"{alias}.city", flt.regions)
        where.append(sql)
        params += values
    if flt.industries:
        sql, values = _in("industry", flt.industries)
        where.append(f"{alias}.id IN (SELECT enterprise_id FROM enterprise_industries "
                     f"WHERE {sql})")
        params += values
    return where, params


def _latest_where(flt: ReportFilter) -> tuple[str, list[Any]]:
    where, params = _enterprise_where(flt)
    if flt.tasks:
        sql, values = _in("l.task", flt.tasks)
        where.append(sql)
        params += values
    if flt.statuses:
        sql, values = _in("l.status", flt.statuses)
        where.append(sql)
        params += values
    if flt.review is ReviewState.UNREVIEWED:
        where.append("NOT EXISTS (SELECT 1 FROM reviews v WHERE v.report_id = l.report_id)")
    elif flt.review is ReviewState.REVIEWED:
        where.append("EXISTS (SELECT 1 FROM reviews v WHERE v.report_id = l.report_id)")
    elif flt.review is not ReviewState.ALL:
        where.append("(SELECT v.verdict FROM reviews v WHERE v.report_id = l.report_id "
                     "ORDER BY v.id DESC LIMIT 1) = ?")
        params.append(flt.review.value)
    if flt.since is not None:
        where.append("l.created_at >= ?")
        params.append(_day_start(flt.since))
    if flt.until is not None:
        where.append("l.created_at < ?")
        params.append(_day_start(flt.until + dt.timedelta(days=1)))
    return " AND ".join(where), params


@dataclass(frozen=True)
class LatestRow:
    """One enterprise × task: its latest report, and the latest review of it."""

    enterprise_id: int
    enterprise_name: str
    credit_code: str
    city: str
    approved: bool
    task: int
    report_id: int
    status: str
    percent: int | None
    completion_date: dt.date | None
    reported_at: dt.datetime
    review: str | None  # "verified" / "problem" / "rejected" or None


_LATEST_SELECT = """
SELECT e.id AS e_id, e.name AS e_name, e.credit_code AS e_code, e.city AS e_city,
       e.status AS e_status, l.task, l.report_id, l.status, r.percent, r.completion_date,
       l.created_at,
       (SELECT v.verdict FROM reviews v WHERE v.report_id = l.report_id
        ORDER BY v.id DESC LIMIT 1) AS review
FROM enterprises e
JOIN latest_reports l ON l.enterprise_id = e.id
JOIN reports r ON r.id = l.report_id
"""


def _latest_row(row: Sequence[Any]) -> LatestRow:
    return LatestRow(
        enterprise_id=row[0], enterprise_name=row[1], credit_code=row[2], city=row[3],
        approved=row[4] == "approved", task=row[5], report_id=row[6], status=row[7],
        percent=row[8], completion_date=dt.date.fromisoformat(row[9]) if row[9] else None,
        reported_at=from_db(row[10]), review=row[11],
    )


def latest_page(
    db: Database, flt: ReportFilter, *, offset: int = 0, limit: int = 10
) -> tuple[list[LatestRow], int]:
    """One page of latest reports matching ``flt`` (by city, enterprise, task), and the
    number of matching enterprise × task pairs."""
    where, params = _latest_where(flt)
    total = db.execute(
        f"SELECT count(*) FROM enterprises e JOIN latest_reports l ON l.enterprise_id = e.id "
        f"WHERE {where}", params).fetchone()[0]
    rows = db.execute(
        f"{_LATEST_SELECT} WHERE {where} ORDER BY e.city, e.id, l.task LIMIT ? OFFSET ?",
        [*params, limit, offset]).fetchall()
    return [_latest_row(row) for row in rows], int(total)


def latest_rows(db: Database, flt: ReportFilter) -> Iterator[LatestRow]:
    """Every latest report matching ``flt``, streamed (for exports)."""
    where, params = _latest_where(flt)
    for row in db.execute(f"{_LATEST_SELECT} WHERE {where} ORDER BY e.city, e.id, l.task",
                          params):
        yield _latest_row(row)


def unreviewed_by_city(db: Database, flt: ReportFilter) -> dict[str, int]:
    """Latest reports matching ``flt`` that nobody has reviewed yet, counted by city."""
    where, params = _latest_where(replace(flt, review=ReviewState.UNREVIEWED))
    return {row[0]: int(row[1]) for row in db.execute(
        f"SELECT e.city, count(*) FROM enterprises e "
        f"JOIN latest_reports l ON l.enterprise_id = e.id WHERE {where} GROUP BY e.city",
        params)}


def unreviewed_queue(db: Database, flt: ReportFilter) -> list[tuple[int, int]]:
    """The latest reports matching ``flt`` that nobody has reviewed, oldest first: the
    staff's review queue, as (report id, enterprise id)."""
    where, params = _latest_where(replace(flt, review=ReviewState.UNREVIEWED))
    return [(int(row[0]), int(row[1])) for row in db.execute(
        f"SELECT l.report_id, e.id FROM enterprises e "
        f"JOIN latest_reports l ON l.enterprise_id = e.id WHERE {where} "
        f"ORDER BY l.created_at, l.report_id", params)]


# --- overdue and silent --------------------------------------------------------------


@dataclass(frozen=True)
class Due:
    """A deadline of a task, and whom it concerns (see ``CalendarEntry``; a start date
    is no deadline and is never made a ``Due``)."""

    task: int
    due: dt.date
    who: Condition  # the knowledge base's audience (storage.qualifiers.audience_sql)
    regions: frozenset[str] = frozenset()  # empty: everywhere


class OverdueRow(NamedTuple):
    """A named tuple, not a dataclass: a province has tens of thousands (4× cheaper)."""

    enterprise_id: int
    enterprise_name: str
    city: str
    task: int
    due: dt.date
    status: str | None  # the latest status; None: never reported on the task
    joined: bool = True  # False: on the list, nobody bound yet (未加入)


@dataclass
class Overdue:
    """Overdue enterprise × task pairs: counts by city and task, and the rows."""

    by_city: Counter[str] = field(default_factory=Counter)
    by_task: Counter[int] = field(default_factory=Counter)
    rows: list[OverdueRow] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.by_task.values())

    @property
    def enterprises(self) -> int:
        return len({row.enterprise_id for row in self.rows})

    @property
    def not_joined(self) -> int:
        """Enterprises among them that have not joined the bot (未加入)."""
        return len({row.enterprise_id for row in self.rows if not row.joined})


def _latest_passed(dues: Iterable[Due], today: dt.date) -> dict[int, list[Due]]:
    """Per task, its deadlines that have passed (a deadline day itself is not overdue)."""
    out: dict[int, list[Due]] = {}
    for due in dues:
        if due.due < today and not due.who.nobody:
            out.setdefault(due.task, []).append(due)
    return out


def overdue(
    db: Database,
    dues: Iterable[Due],
    *,
    today: dt.date,
    done: Collection[str],
    regions: frozenset[str] = frozenset(),
    tasks: Collection[int] = (),
) -> Overdue:
    """Approved enterprises past a deadline of a task they are concerned by and not done
    with (their latest status is not a done one, or they never reported on it). For an
    enterprise concerned by several passed deadlines of one task, the latest counts."""
    result = Overdue()
    seen: dict[tuple[int, int], OverdueRow] = {}
    for task, passed in sorted(_latest_passed(dues, today).items()):
        if tasks and task not in tasks:
            continue
        for due in sorted(passed, key=lambda d: d.due, reverse=True):
            flt = ReportFilter(regions=due.regions, approval=Approval.APPROVED).within(regions)
            if flt.regions == NOWHERE:
                continue
            where, params = _enterprise_where(flt)
            who_sql, who_values = audience_sql(due.who)
            where.append(who_sql)
            params += who_values
            done_sql, done_values = _in("l.status", done) if done else ("0", [])
            query = (
                f"SELECT e.id, e.name, e.city, l.status, {JOINED} FROM enterprises e "
                f"LEFT JOIN latest_reports l ON l.enterprise_id = e.id AND l.task = ? "
                f"WHERE {' AND '.join(where)} AND (l.status IS NULL OR NOT {done_sql}) "
                f"ORDER BY e.city, e.id")
            day = due.due
            for eid, name, city, status, joined in db.execute(
                    query, [task, *params, *done_values]):
                if (eid, task) not in seen:
                    seen[eid, task] = OverdueRow(eid, name, city, task, day, status,
                                                 bool(joined))
    result.rows = sorted(seen.values(), key=attrgetter("city", "task", "enterprise_id"))
    result.by_city.update(row.city for row in result.rows)
    result.by_task.update(row.task for row in result.rows)
    return result


@dataclass(frozen=True)
class SilentRow:
    enterprise_id: int
    enterprise_name: str
    city: str
    approved_at: dt.datetime | None
    joined: bool = True  # False: on the list, nobody bound yet (未加入)


def silent(
    db: Database, *, regions: frozenset[str] = frozenset(), concerned: Condition | None = None
) -> list[SilentRow]:
    """Approved enterprises that have never reported on any task, by city; with
    ``concerned`` (any task's audience), only those some task concerns. Both those that
    joined (an approved account) and those of the list nobody bound yet (``joined``
    False)."""
    where, params = _enterprise_where(ReportFilter(regions=regions, approval=Approval.APPROVED))
    if concerned is not None:
        sql, values = audience_sql(concerned)
        where.append(sql)
        params += values
    rows = db.execute(
        f"SELECT e.id, e.name, e.city, e.decided_at, {JOINED} FROM enterprises e "
        f"WHERE {' AND '.join(where)}"
        " AND NOT EXISTS (SELECT 1 FROM latest_reports l WHERE l.enterprise_id = e.id)"
        " ORDER BY e.city, e.id", params)
    return [SilentRow(r[0], r[1], r[2], from_db(r[3]) if r[3] else None, bool(r[4]))
            for r in rows]


# --- completion figures --------------------------------------------------------------


@dataclass(frozen=True)
class Completion:
    """For one group (a city, or a task): concerned enterprises and what they reported.
    ``done`` counts done statuses other than the not-applicable ones (不涉及), which
    ``exempt`` counts on its own: an enterprise saying a task does not concern it has not
    completed it."""

    key: str
    concerned: int
    done: int
    reported: int  # reported anything on the task(s), done or not
    exempt: int = 0  # reported a not-applicable status (不涉及)
    not_joined: int = 0  # concerned enterprises of the list that have not joined (未加入)

    @property
    def share_done(self) -> float:
        return self.done / self.concerned if self.concerned else 0.0


def completion_by_city(
    db: Database,
    *,
    task: int,
    who: Condition,
    done: Collection[str],
    exempt: Collection[str] = (),
    regions: frozenset[str] = frozenset(),
    industry: str | None = None,
) -> list[Completion]:
    """For one task: per city, the approved enterprises it concerns (``who``: the task's
    audience; ``industry``: only those of it as well), how many reported, how many are
    done (``done`` minus ``exempt``) and how many said it does not concern them
    (``exempt``)."""
    flt = ReportFilter(regions=regions,
                       industries=frozenset({industry}) if industry else frozenset(),
                       approval=Approval.APPROVED)
    where, params = _enterprise_where(flt)
    who_sql, who_values = audience_sql(who)
    done_only = [s for s in done if s not in set(exempt)]
    done_sql, done_values = _in("l.status", done_only) if done_only else ("0", [])
    exempt_sql, exempt_values = _in("l.status", exempt) if exempt else ("0", [])
    rows = db.execute(
        f"SELECT e.city, count(*), count(l.status), "
        f"coalesce(sum(CASE WHEN {done_sql} THEN 1 ELSE 0 END), 0), "
        f"coalesce(sum(CASE WHEN {exempt_sql} THEN 1 ELSE 0 END), 0), "
        f"coalesce(sum(CASE WHEN e.listed_at IS NOT NULL AND NOT {JOINED} THEN 1 ELSE 0 END), 0) "
        f"FROM enterprises e LEFT JOIN latest_reports l ON l.enterprise_id = e.id AND l.task = ? "
        f"WHERE {' AND '.join(where)} AND {who_sql} GROUP BY e.city",
        [*done_values, *exempt_values, task, *params, *who_values])
    return [Completion(r[0], r[1], r[3], r[2], r[4], r[5]) for r in rows]


def completion_by_task(
    db: Database,
    *,
    concern: Mapping[int, Condition],
    done: Collection[str],
    exempt: Collection[str] = (),
    regions: frozenset[str] = frozenset(),
    industry: str | None = None,
) -> list[Completion]:
    """Per task the plan has for enterprises (``concern``: task → audience): how many
    approved enterprises it concerns (optionally only those of ``industry``: then a
    task is listed when its audience names the industry or concerns some of them), how
    many reported, how many are done, how many said 不涉及 (``exempt``)."""
    out = []
    for task, who in sorted(concern.items()):
        rows = completion_by_city(db, task=task, who=who, done=done, exempt=exempt,
                                  regions=regions, industry=industry)
        row = Completion(str(task), sum(r.concerned for r in rows), sum(r.done for r in rows),
                         sum(r.reported for r in rows), sum(r.exempt for r in rows),
                         sum(r.not_joined for r in rows))
        if industry is not None and not row.concerned and industry not in _named(who):
            continue
        out.append(row)
    return out


def _named(who: Condition) -> frozenset[str]:
    """The industries an audience names anywhere in it."""
    if str(who.op) == "industries":
        return who.industries
    return frozenset(name for part in who.parts for name in _named(part))
