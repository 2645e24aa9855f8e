"""/deadlines: the deadline calendar as the asking user should see it.

An enterprise sees the deadlines that concern it (its region, industries and
qualifiers: the knowledge base's audience of each), with what it has reported on each
task; officials and staff see those of their scope;
anyone else sees the plan's deadlines for enterprises. Upcoming deadlines come
first; recently passed ones follow, each saying that it has passed. A start date
(自…起执行) says 起执行, never 过期.
"""

from __future__ import annotations

import datetime as dt

from telegram import Update
from telegram.constants import ParseMode

from handlers.core.access import Actor, actor_of
from handlers.core.context import BotData, Context
from handlers.core.plan import calendar, date_words, days_words
from handlers.core.telegram_html import escape
from storage.calendar import CalendarEntry
from storage.clock import local_today
from storage.enterprises import Membership, enterprise_of_user
from storage.qualifiers import qualifiers_of
from storage.reports import latest_by_task
from storage.users import Role

PASSED_SHOWN = 5
UPCOMING_SHOWN = 20  # each line is short; 25 lines stay well inside one message
NONE_UPCOMING = "目前没有即将到来的截止日期。"


def _visible(
    entry: CalendarEntry, actor: Actor, membership: Membership | None,
    qualifiers: dict[str, str],
) -> bool:
    if membership is not None and actor.role is Role.ENTERPRISE:
        enterprise = membership.enterprise
        return entry.concerns(enterprise.city, enterprise.industries, qualifiers)
    if actor.role is Role.ENTERPRISE:
        return not entry.nobody  # the deadlines that concern enterprises
    if actor.is_admin or actor.scope.province or not entry.regions:
        return True
    return not entry.regions.isdisjoint(actor.scope.regions)


def entry_line(bot_data: BotData, entry: CalendarEntry, today: dt.date, note: str = "") -> str:
    title = bot_data.kb.task_titles.get(entry.task, "")
    when = days_words(entry, today)
    added = "（处室新增）" if entry.added_by is not None else ""
    where = f"〔{'、'.join(sorted(entry.regions))}〕" if entry.regions else ""
    return (f"• <b>{escape(date_words(entry))}</b>（{when}）任务{entry.task} {escape(title)}："
            f"{escape(entry.what)}{added}{escape(where)}{note}")


def deadlines_text(bot_data: BotData, user_id: int) -> str:
    actor = actor_of(bot_data, user_id)
    membership = enterprise_of_user(bot_data.db, user_id)
    today = local_today(bot_data.now())
    qualifiers = qualifiers_of(bot_data.db, membership.enterprise.id) if membership else {}
    entries = [e for e in calendar(bot_data) if _visible(e, actor, membership, qualifiers)]
    reported = (latest_by_task(bot_data.db, membership.enterprise.id)
                if membership is not None and actor.role is Role.ENTERPRISE else {})

    def note(entry: CalendarEntry) -> str:
        report = reported.get(entry.task)
        return f" ——贵企业已报：{escape(report.status)}" if report is not None else ""

    upcoming = [e for e in entries if e.due >= today]
    passed = [e for e in entries if e.due < today][-PASSED_SHOWN:]
    if actor.role is Role.ENTERPRISE and membership is not None:
        head = f"<b>{escape(membership.enterprise.name)}</b>涉及的截止日期"
    elif actor.role is Role.ENTERPRISE:
        head = "方案中涉及企业的截止日期（登记企业后，只显示与贵企业有关的）"
    else:
        head = f"截止日期（{escape('全省' if actor.is_admin else actor.scope.describe())}）"
    lines = [head, ""]
    lines += [entry_line(bot_data, e, today, note(e)) for e in upcoming[:UPCOMING_SHOWN]]
    if not upcoming:
        lines.append(NONE_UPCOMING)
    elif len(upcoming) > UPCOMING_SHOWN:
        lines.append(f"……另有{len(upcoming) - UPCOMING_SHOWN}个更晚的截止日期。")
    if passed:
        lines += ["", "<b>已经过去的日期</b>（最近的）："]
        lines += [entry_line(bot_data, e, today, note(e)) for e in reversed(passed)]
    return "\n".join(lines)


async def deadlines_command(update: Update, context: Context) -> None:
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    await message.reply_text(deadlines_text(context.bot_data, user.id), parse_mode=ParseMode.HTML)
