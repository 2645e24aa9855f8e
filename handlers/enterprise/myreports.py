"""/myreports: the enterprise's latest status on each task (k/N: reported on k of the N
tasks that concern it, industries and qualifiers), and each task's history,
with the staff's reviews (how reports read: :mod:`handlers.core.report_text`; today
from ``bot_data.now()``, so tests move the clock)."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode

from handlers.core.callback_queries import acknowledge, parse_data
from handlers.core.context import Context
from handlers.core.dialogs import in_rows, keyboard
from handlers.core.plan import tasks_of
from handlers.core.report_text import history_entry, latest_line
from handlers.core.telegram_html import escape, pack
from storage.clock import local_today
from storage.enterprises import Membership, enterprise_of_user
from storage.reports import history, latest_by_task
from storage.reviews import last_review, reviews_of

PREFIX = "mr"
NOT_REGISTERED = "请先发送 /register 登记企业，绑定后才能查看进展。"
AWAITING_APPROVAL = "您的登记申请正在等待工作人员审核，审核通过后才能查看本企业的进展。"
NOTHING_YET = "本企业还没有填报过进展。发送 /report 开始填报。"


def _membership(user_id: int, context: Context) -> Membership | None:
    return enterprise_of_user(context.bot_data.db, user_id)


async def myreports_command(update: Update, context: Context) -> None:
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    membership = _membership(user.id, context)
    if membership is None or not membership.can_report:
        await message.reply_text(NOT_REGISTERED if membership is None else AWAITING_APPROVAL)
        return
    latest = latest_by_task(context.bot_data.db, membership.enterprise.id)
    if not latest:
        await message.reply_text(NOTHING_YET)
        return
    titles = context.bot_data.kb.task_titles
    kb, today = context.bot_data.kb, local_today(context.bot_data.now())
    name = escape(membership.enterprise.name)
    concerning = [task.number for task in tasks_of(context.bot_data, membership.enterprise)]
    reported = sum(task in latest for task in concerning)
    lines = [f"<b>{name}</b> 各任务最新进展（{reported}/{len(concerning)}项）："]
    reviews = reviews_of(context.bot_data.db, [r.id for r in latest.values()])
    lines += [latest_line(r, titles.get(task, f"任务{task}"), kb, today,
                          last_review(reviews, r.id))
              for task, r in latest.items()]
    missing = [task for task in concerning if task not in latest]
    if missing:
        lines.append("尚未填报：" + "、".join(f"任务{task}" for task in missing))
    lines.append("\n点下方按钮查看某项任务的历次填报。")
    buttons = [(f"任务{task}历史", f"{PREFIX}:{task}") for task in latest]
    messages = [text for text, _ in pack(lines)]
    for number, text in enumerate(messages, start=1):  # the buttons under the last one
        await message.reply_text(
            text, parse_mode=ParseMode.HTML,
            reply_markup=keyboard(in_rows(buttons, 4)) if number == len(messages) else None)


async def on_history(update: Update, context: Context) -> None:
    """A click on ``mr:<task>``: every report on that task, newest first."""
    query = update.callback_query
    if query is None or update.effective_chat is None:
        return
    parsed = parse_data(query.data, PREFIX, 1)
    membership = _membership(query.from_user.id, context)
    if parsed is None or membership is None or not membership.can_report:
        await acknowledge(query, NOT_REGISTERED if membership is None else None)
        return
    await acknowledge(query)
    task = parsed[0]
    reports = history(context.bot_data.db, membership.enterprise.id, task)
    title = context.bot_data.kb.task_titles.get(task, f"任务{task}")
    head = f"<b>任务{task}. {escape(title)}</b> 历次填报（共{len(reports)}次，最新在前）：\n\n"
    if not reports:
        await context.bot.send_message(update.effective_chat.id, f"任务{task}还没有填报记录。")
        return
    kb, today = context.bot_data.kb, local_today(context.bot_data.now())
    reviews = reviews_of(context.bot_data.db, [report.id for report in reports])
    entries = [history_entry(report, kb, today, reviews.get(report.id, ()))
               for report in reversed(reports)]
    for text, _ in pack([head.rstrip(), *entries], sep="\n\n"):  # all, over several messages
        await context.bot.send_message(update.effective_chat.id, text, parse_mode=ParseMode.HTML)
