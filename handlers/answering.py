"""Ask the engine, log the question, and send the answer with its buttons.

Every way of asking (a message, ``/ask``, a mention in a group, a suggestion or
common-question button) ends in :func:`answer_question`, so an answer always
looks the same: the engine's text (escaped), a 依据 line, suggestion buttons
when the engine is unsure, and 👍/👎 feedback buttons.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, ReplyParameters
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from handlers import services
from handlers.telegram_html import MAX_MESSAGE_CHARS, clean, escape, fit, utf16_len
from knowledge.model import Answer
from storage.questions import log_question

MAX_QUESTION_CHARS = 1000  # longer input is cut before it reaches the engine
MAX_BUTTON_CHARS = 60
NOT_COVERED = "抱歉，《河南省2021年工业污染防治攻坚方案》没有涉及这个问题。"
TRY_THESE = "您可以试试下面这些问题："
EMPTY_QUESTION = "请直接输入您的问题，例如：“冲天炉要淘汰吗？”"

# Callback data (at most 64 bytes): short keys, never the raw question text.
SUGGESTION_PREFIX = "s"  # s:<question id>:<index>
FEEDBACK_PREFIX = "f"  # f:<question id>:<1 useful | 0 not useful>
COMMON_PREFIX = "q"  # q:<index into the common questions>


@dataclass(frozen=True)
class Reply:
    """A message ready to send: HTML text and its inline keyboard."""

    html: str
    keyboard: InlineKeyboardMarkup | None


def normalize_question(text: str) -> str:
    """The question as the engine sees it: no control characters, bounded length."""
    return " ".join(clean(text).split())[:MAX_QUESTION_CHARS]


def feedback_row(question_id: int) -> list[InlineKeyboardButton]:
    return [
        InlineKeyboardButton("👍 有用", callback_data=f"{FEEDBACK_PREFIX}:{question_id}:1"),
        InlineKeyboardButton("👎 没用", callback_data=f"{FEEDBACK_PREFIX}:{question_id}:0"),
    ]


def render_answer(answer: Answer, question_id: int) -> Reply:
    """The HTML reply and keyboard for ``answer`` to question ``question_id``."""
    text = answer.text.strip() or (NOT_COVERED if not answer.in_scope else "")
    tail_parts: list[str] = []
    if answer.sources and "依据" not in text:
        tail_parts.append("<b>依据：</b>" + escape("；".join(answer.sources)))
    if answer.suggestions and not any(s in text for s in answer.suggestions):
        tail_parts.append(escape(TRY_THESE))
    tail = "\n\n".join(tail_parts)
    budget = MAX_MESSAGE_CHARS - utf16_len(tail) - 4
    body = escape(fit(text, budget)) if text else ""
    html = "\n\n".join(part for part in (body, tail) if part) or escape(NOT_COVERED)

    rows = [
        [InlineKeyboardButton(
            fit(suggestion, MAX_BUTTON_CHARS),
            callback_data=f"{SUGGESTION_PREFIX}:{question_id}:{index}",
        )]
        for index, suggestion in enumerate(answer.suggestions[:3])
    ]
    rows.append(feedback_row(question_id))
    return Reply(html=html, keyboard=InlineKeyboardMarkup(rows))


async def answer_question(
    context: ContextTypes.DEFAULT_TYPE,
    *,
    question: str,
    user_id: int,
    chat_id: int,
    reply_to: Message | None = None,
) -> Message:
    """Answer ``question`` in ``chat_id`` (quoting ``reply_to`` if given) and log it."""
    bot_data = context.bot_data
    text = normalize_question(question)
    if not text:
        return await context.bot.send_message(chat_id, EMPTY_QUESTION)
    answer = services.engine(bot_data).ask(text)
    question_id = log_question(
        services.db(bot_data),
        user_id=user_id,
        chat_id=chat_id,
        text=clean(question)[:4096],
        answered=answer.in_scope and bool(answer.text.strip()),
        confident=answer.confident,
        sources=answer.sources,
        now=services.now(bot_data),
    )
    services.suggestions(bot_data).remember(question_id, answer.suggestions)
    reply = render_answer(answer, question_id)
    return await context.bot.send_message(
        chat_id,
        reply.html,
        parse_mode=ParseMode.HTML,
        reply_markup=reply.keyboard,
        reply_parameters=(
            ReplyParameters(reply_to.message_id, allow_sending_without_reply=True)
            if reply_to is not None
            else None
        ),
    )
