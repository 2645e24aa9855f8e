"""Acknowledging button clicks.

Telegram wants every callback query answered (the client shows a spinner until
then), but only within a short time: a button pressed before a restart, or an
answer that comes late, gets ``BadRequest: query is too old``. That is harmless:
the click is still handled, only the toast is lost.
"""

from __future__ import annotations

import logging

from telegram import CallbackQuery
from telegram.error import BadRequest

_LOGGER = logging.getLogger(__name__)


def is_stale_query(error: BaseException) -> bool:
    if not isinstance(error, BadRequest):
        return False
    message = error.message.lower()
    return "query is too old" in message or "query id is invalid" in message


async def acknowledge(query: CallbackQuery, text: str | None = None) -> None:
    """``answer_callback_query``, tolerating a stale query."""
    try:
        await query.answer(text)
    except BadRequest as exc:
        if not is_stale_query(exc):
            raise
        _LOGGER.info("callback query %s too old to answer; handled anyway", query.id)


def parse_data(data: str | None, prefix: str, parts: int) -> list[int] | None:
    """``"f:12:1"`` with prefix ``f`` and 2 parts → ``[12, 1]``; None if malformed."""
    if not data:
        return None
    fields = data.split(":")
    if fields[0] != prefix or len(fields) != parts + 1:
        return None
    try:
        return [int(field) for field in fields[1:]]
    except ValueError:
        return None
