"""The filters staff put on the self-reports, typed or chosen with buttons, and their scope.

A filter is kept per user in ``user_data`` (so /reports, its pages, /export and /stats
share it, and it survives a restart) as plain JSON. Typed, it is a few words after
the command, in any order::

    /reports 洛阳 任务13 已完成 铸造 未审核 近30天 2026-11-01~2026-11-30

未审核/已审核/已核实/有问题/驳回 are the report's review; 已批准/待批准 the
enterprise's registration.

Every value is checked against the knowledge base (tasks, statuses, industries) and
Henan's regions; a word that is none of them gets a message naming it. The filter is
always limited to the asker's scope; asking for a region outside it is refused.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from handlers.core.access import Actor, refuse_region
from handlers.core.context import BotData, Context
from handlers.core.industries import read_industries
from knowledge.model import KnowledgeBase
from storage.clock import local_today
from storage.fields import FieldError, parse_date, parse_status, parse_task_number
from storage.progress import Approval, ReportFilter, ReviewState
from storage.regions import REGIONS, normalize_region

KEY = "staff_filter"  # user_data key

PERIODS = {"近7天": 7, "近30天": 30, "近90天": 90}
# The registration (登记) of the enterprise: approved by staff, or still waiting.
APPROVALS = {"已批准": Approval.APPROVED, "登记已批准": Approval.APPROVED,
             "待批准": Approval.PENDING, "登记待批准": Approval.PENDING}
APPROVAL_WORDS = {Approval.ALL: "全部", Approval.APPROVED: "登记已批准",
                  Approval.PENDING: "登记待批准"}
# The review (审核) of the report itself, in the words staff use for it.
REVIEWS = {"未审核": ReviewState.UNREVIEWED, "待审核": ReviewState.UNREVIEWED,
           "已审核": ReviewState.REVIEWED, "已核实": ReviewState.VERIFIED,
           "有问题": ReviewState.PROBLEM, "驳回": ReviewState.REJECTED,
           "已驳回": ReviewState.REJECTED}
REVIEW_WORDS = {ReviewState.UNREVIEWED: "未审核", ReviewState.REVIEWED: "已审核",
                ReviewState.VERIFIED: "已核实", ReviewState.PROBLEM: "有问题",
                ReviewState.REJECTED: "驳回"}
_RANGE = re.compile(r"(.+?)(?:~|～|至|到|—|--)(.+)")


@dataclass
class StaffFilter:
    """What a staff member chose; JSON-able through :meth:`to_json`."""

    regions: list[str] = field(default_factory=list)
    industries: list[str] = field(default_factory=list)  # industry choice names (groups)
    tasks: list[int] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    since: str | None = None  # ISO dates
    until: str | None = None
    approval: str = Approval.ALL.value
    review: str = ReviewState.ALL.value
    csv: bool = False  # /export only

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "csv"}

    @classmethod
    def from_json(cls, data: object) -> StaffFilter:
        if not isinstance(data, dict):
            return cls()
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        try:
            return cls(**known)
        except TypeError:
            return cls()

    def describe(self) -> str:
        parts = []
        if self.regions:
            parts.append("、".join(self.regions))
        if self.industries:
            parts.append("、".join(self.industries))
        if self.tasks:
            parts.append("任务" + "、".join(map(str, self.tasks)))
        if self.statuses:
            parts.append("、".join(self.statuses))
        if self.since or self.until:
            parts.append(f"{self.since or '…'}至{self.until or '…'}填报")
        if self.approval != Approval.ALL.value:
            parts.append(APPROVAL_WORDS[Approval(self.approval)])
        if self.review != ReviewState.ALL.value:
            parts.append(REVIEW_WORDS[ReviewState(self.review)])
        return "；".join(parts) or "不限"

    def report_filter(self, kb: KnowledgeBase) -> ReportFilter:
        industries = {m for name in self.industries for m in kb.industry_members(name)}
        return ReportFilter(
            regions=frozenset(self.regions), industries=frozenset(industries),
            tasks=frozenset(self.tasks), statuses=frozenset(self.statuses),
            since=dt.date.fromisoformat(self.since) if self.since else None,
            until=dt.date.fromisoformat(self.until) if self.until else None,
            approval=Approval(self.approval), review=ReviewState(self.review),
        )


def saved(context: Context) -> StaffFilter:
    return StaffFilter.from_json((context.user_data or {}).get(KEY))


def save(context: Context, chosen: StaffFilter) -> None:
    if context.user_data is not None:
        context.user_data[KEY] = chosen.to_json()


def parse_words(words: Sequence[str], bot_data: BotData) -> StaffFilter | str:
    """The filter the words after a command ask for, or what is wrong with them."""
    kb = bot_data.kb
    chosen = StaffFilter()
    today = local_today(bot_data.now())
    status_names = [s.name for s in kb.statuses]
    for word in words:
        word = word.strip("，,、；;")
        if not word:
            continue
        if word.lower() == "csv":
            chosen.csv = True
        elif (region := normalize_region(word)) is not None:
            chosen.regions.append(region)
        elif word in REVIEWS:
            chosen.review = REVIEWS[word].value
        elif word in APPROVALS:
            chosen.approval = APPROVALS[word].value
        elif word in PERIODS:
            chosen.since = (today - dt.timedelta(days=PERIODS[word])).isoformat()
        elif word in ("本月", "今年"):
            chosen.since = (today.replace(day=1) if word == "本月"
                            else today.replace(month=1, day=1)).isoformat()
        elif re.fullmatch(r"(?:任务|第)\S+|\d{1,3}", word):
            task = parse_task_number(word, kb.task_numbers)
            if isinstance(task, FieldError):
                return task.message
            chosen.tasks.append(task)
        elif not isinstance(status := parse_status(word, status_names, kb.status_words),
                            FieldError):
            chosen.statuses.append(status)
        elif (dates := _dates(word, today)) is not None:
            if isinstance(dates, str):
                return dates
            chosen.since, chosen.until = dates
        else:
            reading = read_industries(word, kb.industry_choices, kb.aliases)
            if len(reading.found) == 1 and not reading.unknown and not reading.ambiguous:
                chosen.industries.append(reading.found[0].name)
                continue
            return (f"看不懂“{word[:20]}”。可以写：地市（洛阳）、任务（任务13）、状态"
                    f"（{'、'.join(status_names)}）、行业（铸造）、审核（未审核/已核实/有问题/驳回）、"
                    "登记（已批准/待批准）、"
                    "近7天/近30天/本月/今年，或日期范围 2026-11-01~2026-11-30。")
    return chosen


def _dates(word: str, today: dt.date) -> tuple[str | None, str | None] | str | None:
    """``2026-11-01~2026-11-30``, ``自2026-11-01``, ``至2026-11-30``; None: not a date."""
    since_text, until_text = None, None
    if match := _RANGE.fullmatch(word):
        since_text, until_text = match[1], match[2]
    elif word.startswith(("自", "从")):
        since_text = word[1:]
    elif word.startswith(("至", "到")):
        until_text = word[1:]
    elif re.match(r"\d{4}[-/.年]", word):
        since_text = until_text = word
    else:
        return None
    out: list[str | None] = []
    for text in (since_text, until_text):
        if text is None:
            out.append(None)
            continue
        day = parse_date(text, today=today, prefer="past")
        if isinstance(day, FieldError):
            return day.message
        out.append(day.isoformat())
    if out[0] and out[1] and out[0] > out[1]:
        return "开始日期晚于结束日期。"
    return out[0], out[1]


def scoped(actor: Actor, chosen: StaffFilter, kb: KnowledgeBase) -> ReportFilter | str:
    """The filter limited to the actor's scope; a message if it asks outside it."""
    for region in chosen.regions:
        refusal = refuse_region(actor, region)
        if refusal is not None:
            return refusal
    flt = chosen.report_filter(kb)
    if actor.is_admin or actor.scope.province:
        return flt
    return flt.within(actor.scope.regions)


def scope_regions(actor: Actor) -> frozenset[str]:
    """The regions an actor's views are limited to (empty: the whole province)."""
    return frozenset() if actor.is_admin or actor.scope.province else actor.scope.regions


def regions_in_scope(actor: Actor) -> list[str]:
    return [r for r in REGIONS if actor.covers(r)]
