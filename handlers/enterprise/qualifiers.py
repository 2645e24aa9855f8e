"""The plan's qualifiers (土壤污染重点监管单位…) as an enterprise answers them: the
question sent once through the outbox to enterprises whose answers are unknown, and
the 是/否/不清楚 buttons under it (``qa:<enterprise>:<qualifier>:<answer>``, only for the
users who speak for the enterprise: :mod:`handlers.policy`).

The answers decide which tasks concern the enterprise (``KnowledgeBase.tasks_concerning``);
不清楚 counts as not concerned, and staff can correct any answer from the enterprise's
card (:mod:`handlers.staff.qualifiers`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import suppress

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from handlers.core.callback_queries import acknowledge, parse_data
from handlers.core.context import Context
from handlers.core.dialogs import keyboard
from handlers.core.telegram_html import escape
from knowledge.model import KnowledgeBase, Qualifier
from storage.enterprises import enterprise_of_user, get_enterprise
from storage.qualifiers import VALUES, WORDS, qualifiers_of, set_qualifiers

ANSWER_PREFIX = "qa"  # qa:<enterprise id>:<qualifier index>:<answer index in VALUES>
STALE = "这个问题已更新，请以最新消息为准。"
AWAITING_APPROVAL = "贵企业的账号审核通过后才能回答。"


def answer_rows(
    prefix: str, enterprise_id: int, kb: KnowledgeBase, answers: Mapping[str, str],
    keys: Sequence[str] | None = None,
) -> list[list[tuple[str, str]]]:
    """One row of 是/否/不清楚 per qualifier (``keys``: only these; the number is the
    qualifier's in the text), the current answer ticked."""
    rows = []
    for index, qualifier in enumerate(kb.qualifiers):
        if keys is not None and qualifier.key not in keys:
            continue
        current = answers.get(qualifier.key)
        rows.append([(("✅ " if value == current else "") + f"{index + 1} {WORDS[value]}",
                      f"{prefix}:{enterprise_id}:{index}:{number}")
                     for number, value in enumerate(VALUES)])
    return rows


def question_text(name: str, qualifiers: Sequence[tuple[int, Qualifier]],
                  answers: Mapping[str, str]) -> str:
    lines = [f"<b>{escape(name)}</b>：为确定方案中哪些任务与贵企业有关，请回答以下问题"
             "（点下方按钮；不清楚可先选“不清楚”，以后可再改）：", ""]
    for index, qualifier in qualifiers:
        answered = answers.get(qualifier.key)
        mark = f"（已答：{WORDS[answered]}）" if answered else ""
        lines.append(f"{index + 1}. {escape(qualifier.question)}{mark}")
    return "\n".join(lines)


def question(
    kb: KnowledgeBase, enterprise_id: int, name: str, keys: Sequence[str],
    answers: Mapping[str, str],
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The question about ``keys`` for one enterprise, with its answer buttons."""
    chosen = [(i, q) for i, q in enumerate(kb.qualifiers) if q.key in keys]
    return (question_text(name, chosen, answers),
            keyboard(answer_rows(ANSWER_PREFIX, enterprise_id, kb, answers, keys)))


def asked_keys(kb: KnowledgeBase, markup: object) -> list[str]:
    """The qualifiers a message's buttons are about (``<prefix>:<id>:<index>:<answer>``)."""
    rows = getattr(markup, "inline_keyboard", None) or ()
    indices = set()
    for row in rows:
        for button in row:
            parts = str(getattr(button, "callback_data", "") or "").split(":")
            if len(parts) == 4 and parts[2].isascii() and parts[2].isdigit():
                indices.add(int(parts[2]))
    return [q.key for i, q in enumerate(kb.qualifiers) if i in indices]


async def on_answer(update: Update, context: Context) -> None:
    """``qa:<enterprise>:<qualifier>:<answer>``: the access policy checked that the user
    speaks for the enterprise; only an approved account answers for it."""
    query = update.callback_query
    if query is None:
        return
    kb, db = context.bot_data.kb, context.bot_data.db
    parsed = parse_data(query.data, ANSWER_PREFIX, 3)
    enterprise = get_enterprise(db, parsed[0]) if parsed else None
    if parsed is None or enterprise is None or not (
            0 <= parsed[1] < len(kb.qualifiers) and 0 <= parsed[2] < len(VALUES)):
        await acknowledge(query, STALE)
        return
    membership = enterprise_of_user(db, query.from_user.id)
    if membership is None or membership.enterprise.id != enterprise.id \
            or not membership.can_report:
        await acknowledge(query, AWAITING_APPROVAL)  # a pending claim does not speak yet
        return
    qualifier, value = kb.qualifiers[parsed[1]], VALUES[parsed[2]]
    set_qualifiers(db, enterprise.id, {qualifier.key: value}, actor_id=None,
                   now=context.bot_data.now())
    await acknowledge(query, f"已记录：{WORDS[value]}")
    answers = qualifiers_of(db, enterprise.id)
    keys = asked_keys(kb, getattr(query.message, "reply_markup", None))
    text, markup = question(kb, enterprise.id, enterprise.name, keys or [qualifier.key], answers)
    with suppress(BadRequest):  # unchanged, or too old to edit: the answer is recorded either way
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
