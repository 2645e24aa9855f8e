"""A click on a suggestion button answers that question.

The button carries ``s:<question id>:<index>``; the text comes from the
suggestion memory, or after a restart from the clicked button itself.
"""

from __future__ import annotations

from telegram import Update

from handlers.core.callback_queries import acknowledge, parse_data
from handlers.core.context import Context
from handlers.public.answering import SUGGESTION_PREFIX, answer_question

EXPIRED = "这个按钮已过期，请直接输入您的问题。"


def _button_text(update: Update, data: str) -> str | None:
    message = update.effective_message
    markup = message.reply_markup if message is not None else None
    if markup is None:
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data == data:
                return button.text
    return None


async def on_suggestion(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None or update.effective_chat is None:
        return
    parsed = parse_data(query.data, SUGGESTION_PREFIX, 2)
    question = None
    if parsed is not None:
        question = context.bot_data.suggestions.get(parsed[0], parsed[1])
        if question is None:
            question = _button_text(update, query.data or "")
    if question is None or question.endswith("…"):
        await acknowledge(query, EXPIRED)
        return
    await acknowledge(query)
    await answer_question(
        context, question=question, user_id=query.from_user.id, chat_id=update.effective_chat.id
    )
