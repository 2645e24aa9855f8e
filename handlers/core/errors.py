"""The error handler: log first (with the update), then tell the user politely.

One bad update never stops the bot: python-telegram-bot calls this for any
exception a handler raises and carries on with the next update.
"""

from __future__ import annotations

import contextlib
import json
import logging

from telegram import Update
from telegram.error import NetworkError, TelegramError

from handlers.core.callback_queries import is_stale_query
from handlers.core.context import Context

_LOGGER = logging.getLogger(__name__)
SORRY = "抱歉，处理您的消息时出了点问题，请稍后再试，或换个说法提问。"


def _describe(update: object) -> str:
    if isinstance(update, Update):
        return json.dumps(update.to_dict(), ensure_ascii=False)[:2000]
    return repr(update)[:2000]


async def on_error(update: object, context: Context) -> None:
    error = context.error
    if error is not None and is_stale_query(error):
        _LOGGER.info("stale callback query ignored: %s", error)
        return
    if update is None and isinstance(error, NetworkError):
        # polling hiccup: python-telegram-bot retries on its own
        _LOGGER.warning("network problem while polling: %s", error)
        return
    _LOGGER.error("exception while handling update %s", _describe(update), exc_info=error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    try:
        if update.callback_query is not None:
            with contextlib.suppress(TelegramError):
                await update.callback_query.answer()
        await context.bot.send_message(update.effective_chat.id, SORRY)
    except TelegramError as exc:
        _LOGGER.warning("could not tell chat %s about the error: %s", update.effective_chat.id, exc)
