"""Who a notice or a reminder goes to: approved enterprises chosen by city, industry,
or "not yet done with a task", within the sender's scope — and the Telegram users who
speak for them.

What the plan says about who a task concerns is knowledge, not storage: callers pass
it in as ``concern`` (task → its audience, ``KnowledgeBase.concern``, made SQL by
``storage.qualifiers.audience_sql``) and the statuses that count as done. Nothing here
knows how many tasks there are or what they are called.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlite_utils import Database

from storage.qualifiers import Condition, audience_sql
from storage.users import Scope

Concern = Mapping[int, Condition]


class AudienceKind(StrEnum):
    ALL = "all"  # every approved enterprise (in scope)
    CITY = "city"  # the approved enterprises of one region
    INDUSTRY = "industry"  # ... of one industry
    TASK = "task"  # ... that a task concerns and that are not done with it


@dataclass(frozen=True)
class Audience:
    kind: AudienceKind
    value: str = ""  # the region, the industry, or the task number

    def describe(self) -> str:
        """How previews and lists name the audience, e.g. ``尚未完成任务13的企业``."""
        if self.kind is AudienceKind.ALL:
            return "全部已审核企业"
        if self.kind is AudienceKind.CITY:
            return f"{self.value}的已审核企业"
        if self.kind is AudienceKind.INDUSTRY:
            return f"{self.value}行业的已审核企业"
        return f"尚未完成任务{self.value}的已审核企业"

    @property
    def task(self) -> int | None:
        return int(self.value) if self.kind is AudienceKind.TASK else None

    def to_json(self) -> str:
        return json.dumps({"kind": self.kind.value, "value": self.value}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Audience:
        data = json.loads(text)
        return cls(AudienceKind(data["kind"]), str(data.get("value", "")))


def _in(column: str, values: Collection[Any]) -> tuple[str, list[Any]]:
    return f"{column} IN ({','.join('?' * len(values))})", list(values)


def _approved_where(
    regions: Iterable[str], industries: Iterable[str] | None, who: Condition | None = None
) -> tuple[list[str], list[Any]] | None:
    """SQL conditions on ``enterprises e``: approved, in ``regions`` (empty: anywhere),
    of one of ``industries`` (None: any), concerned by ``who`` (None: anyone); None when
    no enterprise can match."""
    if who is not None and who.nobody:
        return None
    where, params = ["e.status = 'approved'"], []
    chosen_regions = sorted(set(regions))
    if chosen_regions:
        sql, values = _in("e.city", chosen_regions)
        where.append(sql)
        params += values
    if industries is not None:
        chosen = sorted(set(industries))
        if not chosen:
            return None
        sql, values = _in("industry", chosen)
        where.append(f"e.id IN (SELECT enterprise_id FROM enterprise_industries WHERE {sql})")
        params += values
    if who is not None:
        sql, values = audience_sql(who)
        where.append(sql)
        params += values
    return where, params


def _done_with(task: int, done: Collection[str]) -> tuple[str, list[Any]]:
    """An SQL test that enterprise ``e``'s latest report on ``task`` is one of ``done``."""
    sql, values = _in("l.status", sorted(done))
    return (f"EXISTS (SELECT 1 FROM latest_reports l WHERE l.enterprise_id = e.id "
            f"AND l.task = ? AND {sql})", [task, *values])


def select_enterprises(
    db: Database,
    *,
    regions: Iterable[str] = (),
    industries: Iterable[str] | None = None,
    who: Condition | None = None,
    task: int | None = None,
    not_done: Collection[str] = (),
) -> list[int]:
    """Ids of approved enterprises matching every given condition, in id order.

    ``regions`` empty: anywhere. ``industries`` None: any industry. ``who``: a task's
    audience (None: anyone). With ``task``,
    only enterprises whose latest report on it is not one of ``not_done`` (the done
    statuses) — an enterprise that never reported on the task is not done with it.
    """
    conditions = _approved_where(regions, industries, who)
    if conditions is None:
        return []
    where, params = conditions
    if task is not None and not_done:
        sql, values = _done_with(task, not_done)
        where.append(f"NOT {sql}")
        params += values
    rows = db.execute(
        f"SELECT e.id FROM enterprises e WHERE {' AND '.join(where)} ORDER BY e.id", params
    )
    return [int(row[0]) for row in rows]


@dataclass(frozen=True)
class Concerned:
    """An approved enterprise a task concerns, where it is, and whether it is done."""

    id: int
    city: str
    done: bool


def concerned(
    db: Database,
    *,
    regions: Iterable[str],
    who: Condition,
    task: int,
    done: Collection[str],
) -> list[Concerned]:
    """The approved enterprises of ``regions`` that ``who`` concerns (as in
    :func:`select_enterprises`), in id order, each with whether its latest report on
    ``task`` is one of ``done``: a reminder's recipients, skipped count and per-city
    summary from one query."""
    conditions = _approved_where(regions, None, who)
    if conditions is None:
        return []
    where, params = conditions
    flag, values = _done_with(task, done) if done else ("0", [])
    rows = db.execute(
        f"SELECT e.id, e.city, {flag} FROM enterprises e WHERE {' AND '.join(where)} "
        "ORDER BY e.id", values + params)
    return [Concerned(int(row[0]), str(row[1]), bool(row[2])) for row in rows]


def audience_enterprises(
    db: Database,
    audience: Audience,
    *,
    scope: Scope,
    concern: Concern,
    done: Collection[str],
    members: Collection[str] | None = None,
) -> list[int]:
    """The approved enterprises ``audience`` names, limited to ``scope``.

    A task audience is the enterprises the task concerns (by ``concern``) that are
    not done with it; a task that concerns no enterprise has an empty audience. An
    industry audience may stand for several industries (``members``, e.g. a group).
    """
    regions = scope.regions
    if audience.kind is AudienceKind.ALL:
        return select_enterprises(db, regions=regions)
    if audience.kind is AudienceKind.CITY:
        if not scope.covers(audience.value):
            return []
        return select_enterprises(db, regions=[audience.value])
    if audience.kind is AudienceKind.INDUSTRY:
        return select_enterprises(db, regions=regions, industries=members or [audience.value])
    task = audience.task
    assert task is not None
    if task not in concern:
        return []
    return select_enterprises(
        db, regions=regions, who=concern[task], task=task, not_done=done
    )


def recipients(db: Database, enterprise_ids: Iterable[int]) -> list[int]:
    """The Telegram users who speak for these enterprises (approved accounts), in order."""
    ids = list(enterprise_ids)
    users: dict[int, None] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        sql, values = _in("enterprise_id", chunk)
        for row in db.execute(
            f"SELECT user_id FROM accounts WHERE status = 'approved' AND {sql} ORDER BY id",
            values,
        ):
            users[int(row[0])] = None
    return list(users)


@dataclass(frozen=True)
class Contact:
    """An enterprise of an audience as an official phones it; ``joined``: some account
    speaks for it in chat (else it is 未加入 and cannot be reached there)."""

    enterprise_id: int
    name: str
    city: str
    contact_name: str
    phone: str
    joined: bool


def contacts(db: Database, enterprise_ids: Iterable[int]) -> list[Contact]:
    """The enterprises among ``enterprise_ids``, by city and id: the notice's preview
    counts those not joined and offers all of them as a sheet (who gets it, whom to
    phone)."""
    ids = list(enterprise_ids)
    out: list[Contact] = []
    for start in range(0, len(ids), 500):
        sql, values = _in("e.id", ids[start : start + 500])
        out += [Contact(row[0], row[1], row[2], row[3], row[4], bool(row[5])) for row in db.execute(
            f"SELECT e.id, e.name, e.city, e.contact_name, e.phone, EXISTS (SELECT 1 "
            f"FROM accounts a WHERE a.enterprise_id = e.id AND a.status = 'approved') "
            f"FROM enterprises e WHERE {sql}", values)]
    return sorted(out, key=lambda c: (c.city, c.enterprise_id))


def unreachable(db: Database, enterprise_ids: Iterable[int]) -> list[Contact]:
    """The enterprises among ``enterprise_ids`` nobody has joined for (未加入)."""
    return [c for c in contacts(db, enterprise_ids) if not c.joined]
