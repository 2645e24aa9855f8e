"""Staff and the plan's qualifiers: set or correct an enterprise's answers from its card,
list the enterprises whose answers are unknown, and ask those enterprises once.

Under an enterprise's card (``/enterprise``) each qualifier has 是/否/不清楚 buttons
(``qs:<enterprise>:<qualifier>:<answer>``, staff covering the enterprise's region:
:mod:`handlers.policy`); a change is audited (``set_qualifiers`` action) and the
message shows what now concerns the enterprise. ``/qualifiers`` lists the approved
enterprises of the asker's scope with unknown answers (不清楚 or never asked: they are
reminded of no task that depends on them) and offers to ask them: one message per
enterprise, through the outbox, with the buttons the enterprise answers
(:mod:`handlers.enterprise.qualifiers`); the same question is never queued twice.
"""

from __future__ import annotations

import json
from contextlib import suppress

from sqlite_utils import Database
from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from handlers.core.access import actor_of
from handlers.core.callback_queries import acknowledge, parse_data
from handlers.core.context import BotData, Context
from handlers.core.dialogs import keyboard
from handlers.core.offload import in_worker
from handlers.core.plan import tasks_of
from handlers.core.telegram_html import MAX_MESSAGE_CHARS, escape, fit
from handlers.enterprise.qualifiers import answer_rows, question
from handlers.staff import filters as staff_filters
from storage import audit
from storage.audiences import recipients
from storage.enterprises import Enterprise, get_enterprise
from storage.outbox import Message, Priority
from storage.qualifiers import (
    UNKNOWN,
    VALUES,
    WORDS,
    qualifiers_of,
    qualifiers_of_many,
    set_qualifiers,
    unanswered,
)

SET_PREFIX = "qs"  # qs:<enterprise id>:<qualifier index>:<answer index>
ASK_PREFIX = "qq"  # qq:ask — ask the listed enterprises
LISTED = 30
STALE = "请重新打开企业卡片（/enterprise）再设置。"
NONE_DECLARED = "本方案没有规定认定事项（只按行业确定涉及的任务）。"


def panel(bot_data: BotData, enterprise: Enterprise) -> tuple[str, InlineKeyboardMarkup | None]:
    """The enterprise's answers, what concerns it as a result, and the buttons."""
    kb = bot_data.kb
    answers = qualifiers_of(bot_data.db, enterprise.id)
    lines = [f"<b>{escape(enterprise.name)} 的认定情况</b>（决定哪些任务涉及本企业；"
             "不清楚按不涉及计）："]
    for index, qualifier in enumerate(kb.qualifiers):
        value = answers.get(qualifier.key, UNKNOWN)
        word = WORDS[value] if qualifier.key in answers else "未知（未回答）"
        lines.append(f"{index + 1}. {escape(qualifier.name)}：<b>{word}</b>")
    concerning = [task.number for task in tasks_of(bot_data, enterprise)]
    lines.append("")
    lines.append(f"涉及任务{len(concerning)}项：" + ("、".join(map(str, concerning)) or "无"))
    lines.append("点下方按钮设置或更正（序号同上，操作会记录）。")
    return "\n".join(lines), keyboard(answer_rows(SET_PREFIX, enterprise.id, kb, answers))


async def send_panel(context: Context, chat_id: int, enterprise: Enterprise) -> None:
    if not context.bot_data.kb.qualifiers:
        return
    text, markup = panel(context.bot_data, enterprise)
    await context.bot.send_message(chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def on_set(update: Update, context: Context) -> None:
    """``qs:<enterprise>:<qualifier>:<answer>``: the access policy checked the scope."""
    query = update.callback_query
    if query is None:
        return
    bot_data = context.bot_data
    kb = bot_data.kb
    parsed = parse_data(query.data, SET_PREFIX, 3)
    enterprise = get_enterprise(bot_data.db, parsed[0]) if parsed else None
    if parsed is None or enterprise is None or not (
            0 <= parsed[1] < len(kb.qualifiers) and 0 <= parsed[2] < len(VALUES)):
        await acknowledge(query, STALE)
        return
    qualifier, value = kb.qualifiers[parsed[1]], VALUES[parsed[2]]
    changed = set_qualifiers(bot_data.db, enterprise.id, {qualifier.key: value},
                             actor_id=query.from_user.id, now=bot_data.now())
    await acknowledge(query, f"{qualifier.name}：{WORDS[value]}" if changed else "没有变化")
    text, markup = panel(bot_data, enterprise)
    with suppress(BadRequest):  # unchanged, or too old to edit: the change is recorded either way
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


Row = tuple[int, str, str, tuple[str, ...], dict[str, str]]  # id, name, city, keys, answers


async def _unanswered(bot_data: BotData, user_id: int) -> list[Row]:
    """The approved enterprises of the user's scope with unknown answers, read off the
    event loop (province-wide it is every enterprise)."""
    regions = staff_filters.scope_regions(actor_of(bot_data, user_id))
    keys = [q.key for q in bot_data.kb.qualifiers]

    def read(db: Database) -> list[Row]:
        found = unanswered(db, keys, regions=regions)
        answers = qualifiers_of_many(db, [u.enterprise_id for u in found])
        return [(u.enterprise_id, u.name, u.city, u.keys, answers[u.enterprise_id])
                for u in found]

    return await in_worker(bot_data, read)


def listing_text(bot_data: BotData, rows: list[Row]) -> str:
    names = bot_data.kb.qualifier_names
    if not rows:
        return "您负责的范围内，所有已审核企业都已回答全部认定事项（是/否）。"
    lines = [f"<b>认定事项未知的已审核企业</b>：共<b>{len(rows)}</b>家（不清楚或未回答的，"
             "按不涉及计：不提醒、不计逾期）。", ""]
    for _, name, city, keys, _ in rows[:LISTED]:
        what = "、".join(names.get(k, k) for k in keys)
        lines.append(f"• {escape(city)} · {escape(fit(name, 24))}：{escape(fit(what, 60))}")
    if len(rows) > LISTED:
        lines.append(f"……另有{len(rows) - LISTED}家。")
    lines.append("\n可用 /enterprise 企业名称 逐家更正，或点下方按钮向这些企业发送一次询问。")
    return fit("\n".join(lines), MAX_MESSAGE_CHARS - 100)


async def qualifiers_command(update: Update, context: Context) -> None:
    """/qualifiers — enterprises of the asker's scope whose qualifiers are unknown."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    if not context.bot_data.kb.qualifiers:
        await message.reply_text(NONE_DECLARED)
        return
    rows = await _unanswered(context.bot_data, user.id)
    markup = keyboard([[("📨 向这些企业发送一次询问", f"{ASK_PREFIX}:ask")]]) if rows else None
    await message.reply_text(listing_text(context.bot_data, rows), parse_mode=ParseMode.HTML,
                             reply_markup=markup)


async def ask(bot_data: BotData, user_id: int) -> tuple[int, int]:
    """Queue the question for every listed enterprise (each question once); returns how
    many enterprises and users it was queued for now."""
    db, kb = bot_data.db, bot_data.kb
    enterprises = users = 0
    for eid, name, _, keys, answers in await _unanswered(bot_data, user_id):
        chats = recipients(db, [eid])
        if not chats:
            continue
        text, markup = question(kb, eid, name, keys, answers)
        message = Message(key=f"qualifiers:ask:{eid}:{'+'.join(keys)}", kind="question",
                          text=text, markup=json.dumps(markup.to_dict(), ensure_ascii=False)
                          if markup else None)
        added = bot_data.outbox.queue(message, chats, priority=Priority.BULK)
        if added:
            enterprises += 1
            users += added
    if enterprises:
        audit.record(db, actor_id=user_id, action="ask_qualifiers", subject="enterprises",
                     now=bot_data.now(), enterprises=enterprises, users=users)
    return enterprises, users


async def on_ask(update: Update, context: Context) -> None:
    """``qq:ask``: ask the enterprises ``/qualifiers`` lists (within the asker's scope)."""
    query = update.callback_query
    if query is None or update.effective_chat is None:
        return
    enterprises, users = await ask(context.bot_data, query.from_user.id)
    await acknowledge(query)
    text = (f"已通过消息队列向{enterprises}家企业（{users}位用户）发送询问；企业点按钮回答后，"
            "认定情况即更新。" if enterprises
            else "没有新的询问可发送（已问过，或这些企业还没有绑定的账号）。")
    await context.bot.send_message(update.effective_chat.id, text)
