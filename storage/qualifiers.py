"""Each enterprise's answers to the plan's qualifiers, and who a task concerns, in SQL.

A qualifier is a designation or circumstance of the plan that decides whether a task
concerns an enterprise (土壤污染重点监管单位, 黄河流域现有排污单位…); the knowledge
base declares them (``KnowledgeBase.qualifiers``), storage only keeps the answers:
``yes``, ``no`` or ``unknown`` (不清楚) per enterprise and key, in
``enterprise_qualifiers``. No row is unknown. Only ``yes`` makes a task concern an
enterprise: unknown counts as not concerned (no reminders, not overdue) and staff
see it listed as 不清楚 until someone answers.

:func:`audience_sql` is the one place a task's audience (the knowledge base's
expression over industries and qualifiers, ``knowledge.model.Audience``) becomes SQL;
every province-wide query (overdue, charts, reminders, notices) uses it, so they all
give the answer ``KnowledgeBase.tasks_concerning`` gives for one enterprise.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlite_utils import Database

from storage import audit
from storage.clock import to_db
from storage.db import transaction

VALUES = ("yes", "no", "unknown")
UNKNOWN = "unknown"
WORDS = {"yes": "是", "no": "否", "unknown": "不清楚"}  # how staff and enterprises see them


class Condition(Protocol):
    """Whom something concerns, as storage reads it (``knowledge.model.Audience`` is one):
    ``op`` is ``all``, ``none``, ``industries`` (any of ``industries``), ``qualifier``
    (answered yes to ``qualifier``), ``any`` or ``every`` (of ``parts``)."""

    @property
    def op(self) -> str: ...

    @property
    def industries(self) -> frozenset[str]: ...

    @property
    def qualifier(self) -> str: ...

    @property
    def parts(self) -> Sequence[Condition]: ...

    @property
    def nobody(self) -> bool:
        """True when no enterprise can be concerned."""
        ...

    def concerns(
        self, industries: Iterable[str], qualifiers: Mapping[str, str] | None = None
    ) -> bool:
        """The same answer as :func:`audience_sql`, for one enterprise."""
        ...


@dataclass(frozen=True)
class Industries:
    """A :class:`Condition` for enterprises of any of ``industries`` (an official's
    deadline that names industries)."""

    industries: frozenset[str]
    qualifier: str = ""
    parts: tuple[Condition, ...] = ()

    @property
    def op(self) -> str:
        return "industries"

    @property
    def nobody(self) -> bool:
        return not self.industries

    def concerns(
        self, industries: Iterable[str], qualifiers: Mapping[str, str] | None = None
    ) -> bool:
        return not self.industries.isdisjoint(industries)


def audience_sql(who: Condition, alias: str = "e") -> tuple[str, list[Any]]:
    """An SQL test that enterprise ``alias`` is concerned by ``who``, and its parameters."""
    op = str(who.op)
    if op == "all":
        return "1", []
    if op == "none":
        return "0", []
    if op == "industries":
        chosen = sorted(who.industries)
        if not chosen:
            return "0", []
        marks = ",".join("?" * len(chosen))
        return (f"{alias}.id IN (SELECT enterprise_id FROM enterprise_industries "
                f"WHERE industry IN ({marks}))", chosen)
    if op == "qualifier":
        return (f"{alias}.id IN (SELECT enterprise_id FROM enterprise_qualifiers "
                f"WHERE qualifier = ? AND value = 'yes')", [who.qualifier])
    if op in ("any", "every"):
        if not who.parts:
            return ("0" if op == "any" else "1"), []
        parts: list[Condition] = list(who.parts)
        if op == "any":  # one IN for all the industries, one for all the qualifiers
            if any(str(p.op) == "all" for p in parts):
                return "1", []
            industries = frozenset(i for p in parts if str(p.op) == "industries"
                                   for i in p.industries)
            keys = sorted({p.qualifier for p in parts if str(p.op) == "qualifier"})
            pieces = [audience_sql(p, alias) for p in parts
                      if str(p.op) not in ("industries", "qualifier", "none")]
            if industries:
                pieces.append(audience_sql(Industries(industries), alias))
            if keys:
                marks = ",".join("?" * len(keys))
                pieces.append((f"{alias}.id IN (SELECT enterprise_id FROM enterprise_qualifiers "
                               f"WHERE qualifier IN ({marks}) AND value = 'yes')", keys))
            if not pieces:
                return "0", []
        else:
            pieces = [audience_sql(part, alias) for part in parts]
        joiner = " OR " if op == "any" else " AND "
        return ("(" + joiner.join(sql for sql, _ in pieces) + ")",
                [value for _, values in pieces for value in values])
    raise ValueError(f"unknown audience op {op!r}")


def qualifiers_of(db: Database, enterprise_id: int) -> dict[str, str]:
    """Qualifier key → yes / no / unknown, for the keys that have an answer (a missing
    key is unknown)."""
    return {row[0]: row[1] for row in db.execute(
        "SELECT qualifier, value FROM enterprise_qualifiers WHERE enterprise_id = ? "
        "ORDER BY qualifier", (enterprise_id,))}


def qualifiers_of_many(db: Database, enterprise_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """:func:`qualifiers_of` for several enterprises (each id present, maybe empty)."""
    ids = list(dict.fromkeys(enterprise_ids))
    out: dict[int, dict[str, str]] = {eid: {} for eid in ids}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for eid, key, value in db.execute(
                f"SELECT enterprise_id, qualifier, value FROM enterprise_qualifiers "
                f"WHERE enterprise_id IN ({marks})", chunk):
            out[int(eid)][str(key)] = str(value)
    return out


def set_qualifiers(
    db: Database,
    enterprise_id: int,
    values: Mapping[str, str],
    *,
    actor_id: int | None,
    now: dt.datetime,
) -> dict[str, tuple[str | None, str]]:
    """Record answers (key → yes / no / unknown) for one enterprise; returns what
    changed, key → (old value or None when there was no answer, new value). With
    ``actor_id`` (staff correcting an enterprise) the change is audited in the same
    transaction. ``now``: the caller's clock (storage never reads one)."""
    bad = {key: value for key, value in values.items() if value not in VALUES or not key}
    if bad:
        raise ValueError(f"qualifier answers must be one of {', '.join(VALUES)}: {bad}")
    changed: dict[str, tuple[str | None, str]] = {}
    with transaction(db):
        old = qualifiers_of(db, enterprise_id)
        for key, value in values.items():
            if old.get(key) == value:
                continue
            db.execute(
                """INSERT INTO enterprise_qualifiers (enterprise_id, qualifier, value, updated_at)
                   VALUES (?, ?, ?, ?)
                   ON CONFLICT (enterprise_id, qualifier)
                   DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at""",
                (enterprise_id, key, value, to_db(now)))
            changed[key] = (old.get(key), value)
        if changed and actor_id is not None:
            audit.record(db, actor_id=actor_id, action="set_qualifiers",
                         subject=f"enterprise:{enterprise_id}", now=now,
                         changes={k: [a, b] for k, (a, b) in sorted(changed.items())})
    return changed


@dataclass(frozen=True)
class Unanswered:
    """An approved enterprise with qualifiers nobody has answered yes or no."""

    enterprise_id: int
    name: str
    city: str
    keys: tuple[str, ...]  # the unknown ones, in the order asked for


def unanswered(
    db: Database, keys: Sequence[str], *, regions: Collection[str] = ()
) -> list[Unanswered]:
    """Approved enterprises (in ``regions``; empty: anywhere) with at least one of
    ``keys`` unknown or never answered, by city and id."""
    if not keys:
        return []
    where = ["e.status = 'approved'"]
    params: list[Any] = []
    if regions:
        where.append(f"e.city IN ({','.join('?' * len(regions))})")
        params += sorted(regions)
    rows = db.execute(
        f"SELECT e.id, e.name, e.city FROM enterprises e WHERE {' AND '.join(where)} "
        "ORDER BY e.city, e.id", params).fetchall()
    known = qualifiers_of_many(db, [int(r[0]) for r in rows])
    out = []
    for eid, name, city in rows:
        answers = known[int(eid)]
        missing = tuple(k for k in keys if answers.get(k, UNKNOWN) == UNKNOWN)
        if missing:
            out.append(Unanswered(int(eid), str(name), str(city), missing))
    return out
