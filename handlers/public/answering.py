"""Ask the engine, log the question, and send the answer with its buttons.

Every way of asking (a message, ``/ask``, a mention in a group, a suggestion or
common-question button) ends in :func:`answer_question`, so an answer always
looks the same: the engine's text (escaped), a 依据 line, suggestion buttons
when the engine is unsure, and 👍/👎 feedback buttons. A refusal (a question the plan
does not cover) shows its example questions once, as buttons, and asks for no
feedback: there is no answer to rate.
"""

from __future__ import annotations

from dataclasses import dataclass

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, ReplyParameters
from telegram.constants import ParseMode

from handlers.core.context import BotData, Context
from handlers.core.telegram_html import MAX_MESSAGE_CHARS, clean, escape, fit, utf16_len
from knowledge.model import Answer
from storage.clock import local_today
from storage.questions import log_question

MAX_QUESTION_CHARS = 1000  # longer input is cut before it reaches the engine
MAX_BUTTON_CHARS = 60
NOT_COVERED = "抱歉，方案没有涉及这个问题。"  # the engine's refusal names the plan itself
TRY_THESE = "您可以试试下面这些问题："
EMPTY_QUESTION = "请直接输入您的问题，例如：“冲天炉要淘汰吗？”"

# Callback data (at most 64 bytes): short keys, never the raw question text.
SUGGESTION_PREFIX = "s"  # s:<question id>:<index>
FEEDBACK_PREFIX = "f"  # f:<question id>:<1 useful | 0 not useful>
COMMON_PREFIX = "q"  # q:<index into the common questions>



def normalize_question(text: str) -> str:
    """The question as the engine sees it: no control characters, bounded length."""
    return " ".join(clean(text).split())[:MAX_QUESTION_CHARS]


def feedback_row(question_id: int) -> list[InlineKeyboardButton]:
    return [
        InlineKeyboardButton("👍 有用", callback_data=f"{FEEDBACK_PREFIX}:{question_id}:1"),
        InlineKeyboardButton("👎 没用", callback_data=f"{FEEDBACK_PREFIX}:{question_id}:0"),
    ]


@dataclass(frozen=True)
class RenderedAnswer:
    """The part of a reply that depends only on the engine's answer, not on the question id."""

    answer: Answer
    html: str
    suggestion_labels: tuple[str, ...]  # button texts of the first three suggestions

    @property
    def answered(self) -> bool:
        return self.answer.in_scope and bool(self.answer.text.strip())


def _without_listed(text: str, suggestions: tuple[str, ...]) -> str:
    """The refusal's text without the lines listing its suggestions (they are buttons),
    and without the 例如： that introduced them."""
    kept = [line for line in text.splitlines()
            if line.strip().lstrip("·•-*0123456789.、） ").strip() not in suggestions]
    return "\n".join(kept).strip().removesuffix("例如：").strip()


def render_text(answer: Answer) -> RenderedAnswer:
    """Escape and fit the engine's answer (the costly, question-id-free part of a reply)."""
    text = answer.text.strip() or (NOT_COVERED if not answer.in_scope else "")
    if not answer.in_scope:
        text = _without_listed(text, answer.suggestions)
    tail_parts: list[str] = []
    if answer.sources and "依据" not in text:
        tail_parts.append("<b>依据：</b>" + escape("；".join(answer.sources)))
    if answer.suggestions and not any(s in text for s in answer.suggestions):
        tail_parts.append(escape(TRY_THESE))
    tail = "\n\n".join(tail_parts)
    budget = MAX_MESSAGE_CHARS - utf16_len(tail) - 4
    body = escape(fit(text, budget)) if text else ""
    html = "\n\n".join(part for part in (body, tail) if part) or escape(NOT_COVERED)
    labels = tuple(fit(suggestion, MAX_BUTTON_CHARS) for suggestion in answer.suggestions[:3])
    return RenderedAnswer(answer=answer, html=html, suggestion_labels=labels)


def keyboard_for(rendered: RenderedAnswer, question_id: int) -> InlineKeyboardMarkup:
    """Suggestion buttons (if any), then the 👍/👎 row (not under a refusal), all keyed
    by ``question_id``."""
    rows = [
        [InlineKeyboardButton(label, callback_data=f"{SUGGESTION_PREFIX}:{question_id}:{index}")]
        for index, label in enumerate(rendered.suggestion_labels)
    ]
    if rendered.answer.in_scope:
        rows.append(feedback_row(question_id))
    return InlineKeyboardMarkup(rows)


def _taught(bot_data: BotData, question: str) -> RenderedAnswer | None:
    """The answer of the entry staff attached this question to (/unanswered), if any."""
    fact_id = bot_data.learned.match(question)
    if fact_id is None:
        return None
    today = local_today(bot_data.now())
    answer = bot_data.engine.answer_fact(fact_id, today=today)
    return render_text(answer) if answer is not None else None


async def answer_question(
    context: Context,
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
    rendered = _taught(bot_data, text) or bot_data.answer_cache.answer(
        bot_data.engine, text, render_text, chat=chat_id, now=bot_data.now()
    )
    answer = rendered.answer
    question_id = log_question(
        bot_data.db,
        user_id=user_id,
        chat_id=chat_id,
        text=clean(question)[:4096],
        answered=rendered.answered,
        confident=answer.confident,
        sources=answer.sources,
        now=bot_data.now(),
    )
    bot_data.suggestions.remember(question_id, answer.suggestions)
    return await context.bot.send_message(
        chat_id,
        rendered.html,
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard_for(rendered, question_id),
        reply_parameters=(
            ReplyParameters(reply_to.message_id, allow_sending_without_reply=True)
            if reply_to is not None
            else None
        ),
    )
