"""/overdue and /silent: who is behind, counts first.

Whom a task concerns is the knowledge base's audience (industries and qualifiers
answered 是), the one answer reminders and charts use too.

/overdue: approved enterprises past a deadline of a task that concerns them and not
done with it — their latest report is not 已完成/不涉及, or they never reported on
it — by city and by task, then the list. /silent: approved enterprises that some task
concerns and that have never reported on anything. A start date (自…起执行) is no
deadline: nobody is overdue on it. Both read the calendar (the plan's deadlines and the
officials') and are limited to the asker's scope; ``/overdue 洛阳 任务13`` narrows
them further. Province-wide they run off the event loop.
"""

from __future__ import annotations

from collections.abc import Iterable

from telegram import Update
from telegram.constants import ParseMode

from handlers.core.access import actor_of
from handlers.core.context import BotData, Context
from handlers.core.offload import in_worker
from handlers.core.plan import calendar
from handlers.core.telegram_html import MAX_MESSAGE_CHARS, escape, fit, fit_lines
from handlers.staff import filters as staff_filters
from knowledge.model import Audience
from storage.clock import format_local, local_today
from storage.progress import Due, Overdue, ReportFilter, overdue, silent
from storage.regions import REGIONS

LISTED = 40
TEXT_LIMIT = MAX_MESSAGE_CHARS - 200


def dues(bot_data: BotData) -> list[Due]:
    """The calendar's deadlines (a start date is no deadline: nobody is overdue on it)."""
    return [Due(e.task, e.due, e.who, e.regions) for e in calendar(bot_data) if not e.starts]


def _by_city(counts: dict[str, int]) -> str:
    return "、".join(f"{city}{counts[city]}" for city in REGIONS if counts.get(city))


def overdue_text(bot_data: BotData, found: Overdue, scope: str) -> str:
    if not found.rows:
        return f"您负责的范围（{escape(scope)}）内没有逾期未完成的任务。"
    titles = bot_data.kb.task_titles
    lines = [
        f"<b>逾期未完成</b>（{escape(scope)}）：共<b>{found.total}</b>项，涉及"
        f"<b>{found.enterprises}</b>家已审核企业"
        + (f"（其中未加入{found.not_joined}家）。" if found.not_joined else "。"),
        f"按地市：{escape(_by_city(found.by_city))}",
        "按任务：" + "、".join(f"任务{t} {n}项" for t, n in sorted(found.by_task.items())),
        "",
    ]
    for row in found.rows[:LISTED]:
        status = (f"最新：{row.status}" if row.status
                  else "从未填报" if row.joined else "未加入")
        lines.append(f"• {escape(row.city)} · {escape(fit(row.enterprise_name, 24))} · "
                     f"任务{row.task} {escape(fit(titles.get(row.task, ''), 10))}"
                     f"（截止{row.due.isoformat()}）— {status}")
    if len(found.rows) > LISTED:
        lines.append(f"……另有{len(found.rows) - LISTED}项；可用 /export 导出台账。")
    return fit_lines(lines, TEXT_LIMIT)


async def _asked(update: Update, context: Context) -> ReportFilter | None:
    """The typed filter within the asker's scope; None (after saying why) if unusable."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return None
    chosen = staff_filters.parse_words(list(context.args or ()), context.bot_data)
    flt = chosen if isinstance(chosen, str) else staff_filters.scoped(
        actor_of(context.bot_data, user.id), chosen, context.bot_data.kb)
    if isinstance(flt, str):
        await message.reply_text(flt)
        return None
    return flt


def _scope_words(flt: ReportFilter) -> str:
    return "、".join(sorted(flt.regions, key=REGIONS.index)) if flt.regions else "全省"


async def overdue_command(update: Update, context: Context) -> None:
    """/overdue [地市…] [任务N…]"""
    flt = await _asked(update, context)
    if flt is None or update.effective_message is None:
        return
    bot_data = context.bot_data
    calendar_dues = dues(bot_data)
    today = local_today(bot_data.now())
    found = await in_worker(bot_data, lambda db: overdue(
        db, calendar_dues, today=today, done=bot_data.kb.done_statuses,
        regions=flt.regions, tasks=flt.tasks))
    await update.effective_message.reply_text(
        overdue_text(bot_data, found, _scope_words(flt)), parse_mode=ParseMode.HTML)


def silent_text(rows: Iterable[tuple[str, str, str, bool]], scope: str) -> str:
    """Rows (city, name, approved on, joined): 未加入 (on the list, nobody in the bot)
    and 已加入未填报 apart, each with its count by city."""
    listed = list(rows)
    if not listed:
        return f"您负责的范围（{escape(scope)}）内，有涉及任务的已审核企业都填报过进展。"
    absent = [row for row in listed if not row[3]]
    joined = [row for row in listed if row[3]]
    lines = [f"<b>从未填报的企业</b>（{escape(scope)}）：共<b>{len(listed)}</b>家。"]
    shown = 0
    for title, group in (("未加入（名单上的企业，还没有人通过邀请链接加入）", absent),
                         ("已加入未填报", joined)):
        if not group:
            continue
        counts: dict[str, int] = {}
        for city, *_ in group:
            counts[city] = counts.get(city, 0) + 1
        lines += ["", f"<b>{title}</b>：{len(group)}家", f"按地市：{escape(_by_city(counts))}"]
        room = LISTED - shown if group is joined else (LISTED // 2 if joined else LISTED)
        for city, name, approved, was_joined in group[:room]:
            when = f"（{approved}审核通过）" if was_joined and approved else ""
            lines.append(f"• {escape(city)} · {escape(fit(name, 30))}{when}")
        shown += min(room, len(group))
        if len(group) > room:
            lines.append(f"……另有{len(group) - room}家；可用 /export 导出台账。")
    return fit_lines(lines, TEXT_LIMIT)


async def silent_command(update: Update, context: Context) -> None:
    """/silent [地市…]"""
    flt = await _asked(update, context)
    if flt is None or update.effective_message is None:
        return
    bot_data = context.bot_data
    anything = Audience.any_of(*bot_data.kb.concern().values())  # concerned by some task
    rows = await in_worker(bot_data, lambda db: silent(db, regions=flt.regions,
                                                       concerned=anything))
    listed = [(r.city, r.enterprise_name,
               format_local(r.approved_at)[:10] if r.approved_at else "", r.joined)
              for r in rows]
    await update.effective_message.reply_text(silent_text(listed, _scope_words(flt)),
                                              parse_mode=ParseMode.HTML)
