"""The error handler: log what went wrong (never what the user typed), then apologise.

One bad update never stops the bot: python-telegram-bot calls this for any
exception a handler raises and carries on with the next update.

The log line names the update by its ids, its kind and the names of its fields
(``update 17 message chat=1001 user=1001 message=5 fields=[chat, date, from,
message_id, text]``), and the error by its type and traceback. Values stay out:
message text, captions, names, phone numbers, file names, and callback data
beyond its prefix. An exception's own message is kept only for errors whose text
comes from Telegram, SQLite or the operating system; any other message (a
``ValueError`` from ``int()``, a ``KeyError``) may quote what a user typed.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import traceback

from telegram import Update
from telegram.error import TelegramError

from handlers.core.callback_queries import is_stale_query
from handlers.core.context import Context

_LOGGER = logging.getLogger(__name__)
SORRY = "抱歉，处理您的消息时出了点问题，请稍后再试，或换个说法提问。"
# Errors whose message is written by Telegram, SQLite or the OS, not built from input.
MESSAGE_KEPT = (TelegramError, sqlite3.Error, OSError)
WITHHELD = "(message withheld: it may quote user input)"
_CHAIN_LIMIT = 5
_PREFIX_CHARS = 8  # lvdong's callback prefixes are 2-3 characters ("rp", "apy")


def describe_update(update: object) -> str:
    """Ids, kind and field names of ``update``: enough to find it, nothing a user typed."""
    if not isinstance(update, Update):
        return "no update" if update is None else f"a {type(update).__name__}"
    data = update.to_dict()
    kind = next((key for key in data if key != "update_id"), "empty")
    body = data.get(kind)
    parts = [f"update {update.update_id} {kind}"]
    if update.effective_chat is not None:
        parts.append(f"chat={update.effective_chat.id}")
    if update.effective_user is not None:
        parts.append(f"user={update.effective_user.id}")
    if update.effective_message is not None:
        parts.append(f"message={update.effective_message.message_id}")
    if update.callback_query is not None and update.callback_query.data:
        parts.append(f"data={update.callback_query.data.split(':', 1)[0][:_PREFIX_CHARS]}:…")
    if isinstance(body, dict):  # PTB lists service flags even when False: leave them out
        fields = sorted(key for key, value in body.items() if value is not False)
        parts.append(f"fields=[{', '.join(fields)}]")
    return " ".join(parts)


def describe_error(error: BaseException) -> str:
    """Type and traceback of ``error`` and its causes, each message kept or withheld."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and len(chain) < _CHAIN_LIMIT and current not in chain:
        chain.append(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    blocks = []
    for exc in reversed(chain):
        frames = "".join(traceback.format_list(traceback.extract_tb(exc.__traceback__)))
        name = type(exc).__qualname__
        headline = f"{name}: {exc}" if isinstance(exc, MESSAGE_KEPT) else f"{name} {WITHHELD}"
        blocks.append(f"Traceback (most recent call last):\n{frames}{headline}")
    return "\n\nwhich led to\n\n".join(blocks)


async def on_error(update: object, context: Context) -> None:
    error = context.error
    if error is not None and is_stale_query(error):
        _LOGGER.info("stale callback query ignored: %s", error)
        return
    if update is None and isinstance(error, TelegramError):
        # polling hiccup: python-telegram-bot retries on its own (a fatal one stops the runner)
        _LOGGER.warning("Bot API problem while polling: %s: %s", type(error).__name__, error)
        return
    _LOGGER.error(
        "exception while handling %s\n%s",
        describe_update(update), describe_error(error) if error else "(no exception)",
    )
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    try:
        if update.callback_query is not None:
            with contextlib.suppress(TelegramError):
                await update.callback_query.answer()
        await context.bot.send_message(update.effective_chat.id, SORRY)
    except TelegramError as exc:
        _LOGGER.warning("could not tell chat %s about the error: %s", update.effective_chat.id, exc)
