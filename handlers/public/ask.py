"""Questions: any text in a private chat, a mention in a group, or ``/ask 问题`` anywhere."""

from __future__ import annotations

from telegram import Update

from handlers.core.addressing import strip_mentions
from handlers.core.context import Context
from handlers.public.answering import answer_question
from handlers.public.start import greet, is_greeting, is_thanks, thank

ASK_USAGE = "请在 /ask 后面写上您的问题，例如：/ask 冲天炉要淘汰吗？"


async def _answer(update: Update, context: Context, question: str) -> None:
    message = update.effective_message
    if message is None or update.effective_chat is None or update.effective_user is None:
        return
    in_group = update.effective_chat.type != "private"
    if is_greeting(question):
        await greet(update, context)
        return
    if is_thanks(question):
        await thank(update, context)
        return
    await answer_question(
        context,
        question=question,
        user_id=update.effective_user.id,
        chat_id=update.effective_chat.id,
        reply_to=message if in_group else None,
    )


async def on_text(update: Update, context: Context) -> None:
    """A private message: the whole text is the question."""
    if update.effective_message is not None:
        await _answer(update, context, update.effective_message.text or "")


async def on_mention(update: Update, context: Context) -> None:
    """A group message mentioning the bot: the text without the mention is the question."""
    if update.effective_message is not None:
        await _answer(update, context, strip_mentions(update.effective_message))


async def ask_command(update: Update, context: Context) -> None:
    """``/ask 问题`` (also ``/ask@bot 问题`` in groups)."""
    question = " ".join(context.args or ())
    if not question.strip():
        if update.effective_message is not None:
            await update.effective_message.reply_text(ASK_USAGE)
        return
    await _answer(update, context, question)
