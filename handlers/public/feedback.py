"""👍/👎 under every answer: store the vote, thank the user, retire the buttons."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from handlers.core.callback_queries import acknowledge, parse_data
from handlers.core.context import Context
from handlers.public.answering import FEEDBACK_PREFIX
from storage.questions import record_feedback

_LOGGER = logging.getLogger(__name__)
THANKS_USEFUL = "谢谢！很高兴对您有帮助。"
THANKS_NOT_USEFUL = "谢谢反馈！我们会据此改进回答。"
UNKNOWN = "找不到这条回答了，请重新提问。"


def _without_feedback(markup: InlineKeyboardMarkup | None) -> InlineKeyboardMarkup | None:
    """The keyboard minus its feedback row (suggestion buttons stay)."""
    if markup is None:
        return None
    rows = [
        row for row in markup.inline_keyboard
        if not any(str(b.callback_data or "").startswith(f"{FEEDBACK_PREFIX}:") for b in row)
    ]
    return InlineKeyboardMarkup(rows) if rows else None


async def on_feedback(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None:
        return
    parsed = parse_data(query.data, FEEDBACK_PREFIX, 2)
    if parsed is None or parsed[1] not in (0, 1):
        await acknowledge(query)
        return
    question_id, useful = parsed[0], parsed[1] == 1
    try:
        record_feedback(
            context.bot_data.db,
            question_id=question_id,
            user_id=query.from_user.id,
            useful=useful,
            now=context.bot_data.now(),
        )
    except LookupError:
        await acknowledge(query, UNKNOWN)
        return
    await acknowledge(query, THANKS_USEFUL if useful else THANKS_NOT_USEFUL)
    message = update.effective_message
    if message is not None and update.effective_chat is not None and message.reply_markup:
        try:
            await query.edit_message_reply_markup(_without_feedback(message.reply_markup))
        except BadRequest as exc:  # already edited by an earlier click, or too old to edit
            _LOGGER.info("feedback buttons not retired: %s", exc.message)
