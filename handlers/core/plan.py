"""The plan's shape as storage needs it: the deadline calendar and who each task concerns.

Storage never reads the knowledge base; handlers hand it these values, built here
from ``context.bot_data.kb`` (so another plan's YAML works unchanged).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from handlers.core.context import BotData
from knowledge.model import Deadline, KnowledgeBase, Task
from storage.calendar import CalendarEntry, added_deadlines
from storage.enterprises import Enterprise
from storage.qualifiers import WORDS, qualifiers_of

if TYPE_CHECKING:  # the ledger (openpyxl) is loaded only by the exports that use it
    from storage.ledger import Describe


def plan_entries(kb: KnowledgeBase) -> list[CalendarEntry]:
    """The plan's own deadlines, each with whom it concerns (its own audience, else its
    task's). One that concerns no enterprise is listed for officials, and reminds nobody."""
    entries = []
    for task in kb.tasks:
        for index, deadline in enumerate(task.deadlines, start=1):
            entries.append(CalendarEntry(
                key=f"kb:{task.number}:{index}",
                task=task.number,
                due=deadline.date,
                what=deadline.what or task.title,
                wording=deadline.wording,
                who=task.audience_of(deadline),
                starts=deadline.starts,
            ))
    return entries


def tasks_of(bot_data: BotData, enterprise: Enterprise) -> tuple[Task, ...]:
    """The tasks that concern ``enterprise``: its industries and its qualifier answers
    through ``KnowledgeBase.tasks_concerning`` (the one answer, as reminders and the
    staff views give it in SQL)."""
    return bot_data.kb.tasks_concerning(enterprise.industries,
                                        qualifiers_of(bot_data.db, enterprise.id))


def last_deadline(bot_data: BotData, enterprise: Enterprise, task: int) -> Deadline | None:
    """The task's last deadline that concerns ``enterprise`` (a start date 自…起执行 is
    none; of a task with per-audience dates, the enterprise's own), else the task's last
    deadline; None when the task has no deadline."""
    found = next((t for t in bot_data.kb.tasks if t.number == task), None)
    if found is None:
        return None
    real = [d for d in found.deadlines if not d.starts]
    answers = qualifiers_of(bot_data.db, enterprise.id)
    own = [d for d in real if found.audience_of(d).concerns(enterprise.industries, answers)]
    return max(own or real, key=lambda d: d.date, default=None)


def describe_enterprises(kb: KnowledgeBase) -> Describe:
    """For the ledger's 企业 sheet: an enterprise's qualifier answers in words
    (``土壤污染重点监管单位：是；…``; unanswered: 未知) and the tasks that concern it
    (``tasks_concerning``, remembered per distinct profile: a province has few)."""
    seen: dict[tuple[tuple[str, ...], tuple[tuple[str, str], ...]], tuple[str, str]] = {}

    def describe(industries: Sequence[str], answers: Mapping[str, str]) -> tuple[str, str]:
        key = (tuple(industries), tuple(sorted(answers.items())))
        if key not in seen:
            words = "；".join(
                f"{q.name}：{WORDS[answers[q.key]] if q.key in answers else '未知'}"
                for q in kb.qualifiers)
            tasks = "、".join(str(t.number) for t in kb.tasks_concerning(industries, answers))
            seen[key] = (words, tasks)
        return seen[key]

    return describe


def calendar(bot_data: BotData) -> list[CalendarEntry]:
    """The plan's deadlines and the officials', by date."""
    entries = plan_entries(bot_data.kb) + added_deadlines(bot_data.db, bot_data.kb.concern())
    return sorted(entries, key=lambda e: (e.due, e.task, e.key))


def date_words(entry: CalendarEntry) -> str:
    """``2021年12月31日`` (with the plan's wording when it says more, e.g. 年底前); a
    start date reads ``2022年9月1日起``."""
    day = f"{entry.due.year}年{entry.due.month}月{entry.due.day}日"
    if entry.starts:
        return f"{day}起"
    return day if entry.wording.startswith(day) else f"{day}（{entry.wording}）"


def days_words(entry: CalendarEntry, today: dt.date) -> str:
    """How far ``today`` is from the entry, in words that never call a start date
    overdue: 还有5天 / 今天截止 / 已过期3天; 还有5天起执行 / 今天起执行 / 已执行3天."""
    days = (entry.due - today).days
    if entry.starts:
        return (f"还有{days}天起执行" if days > 0 else "今天起执行" if days == 0
                else f"已于{-days}天前起执行")
    return "今天截止" if days == 0 else f"还有{days}天" if days > 0 else f"已过期{-days}天"
