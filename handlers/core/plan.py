"""The plan's shape as storage needs it: the deadline calendar and who each task concerns.

Storage never reads the knowledge base; handlers hand it these values, built here
from ``context.bot_data.kb`` (so another plan's YAML works unchanged).
"""

from __future__ import annotations

from handlers.core.context import BotData
from knowledge.model import KnowledgeBase
from storage.calendar import CalendarEntry, added_deadlines


def plan_entries(kb: KnowledgeBase) -> list[CalendarEntry]:
    """The plan's own deadlines. A task that concerns no enterprise gets an empty
    industry set (its deadline is listed for officials, and reminds nobody)."""
    concern = kb.concern()
    entries = []
    for task in kb.tasks:
        industries = concern.get(task.number, frozenset())
        for index, deadline in enumerate(task.deadlines, start=1):
            entries.append(CalendarEntry(
                key=f"kb:{task.number}:{index}",
                task=task.number,
                due=deadline.date,
                what=deadline.what or task.title,
                wording=deadline.wording,
                industries=industries,
            ))
    return entries


def calendar(bot_data: BotData) -> list[CalendarEntry]:
    """The plan's deadlines and the officials', by date."""
    entries = plan_entries(bot_data.kb) + added_deadlines(bot_data.db, bot_data.kb.concern())
    return sorted(entries, key=lambda e: (e.due, e.task, e.key))


def date_words(entry: CalendarEntry) -> str:
    """``2021年12月31日`` (with the plan's wording when it says more, e.g. 年底前)."""
    day = f"{entry.due.year}年{entry.due.month}月{entry.due.day}日"
    return day if entry.wording.startswith(day) else f"{day}（{entry.wording}）"
