"""Dialogs abandoned while the bot was down: tell their users at start-up.

PTB's ``conversation_timeout`` runs on in-memory jobs, which a restart loses.
``SqlitePersistence.get_conversations`` drops stored dialogs older than the
timeout when the application loads them and lists them in ``expired``; this
sends those users the same note a live timeout sends, and drops their drafts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from telegram.error import BadRequest, Forbidden
from telegram.ext import Application

from handlers.core.dialogs import Dialog, forget_drafts

_LOGGER = logging.getLogger(__name__)

ConversationKey = tuple[int | str, ...]


async def notify_expired(
    application: Application[Any, Any, Any, Any, Any, Any],
    expired: Iterable[tuple[str, ConversationKey]],
    dialogs: Mapping[str, Dialog],
) -> int:
    """Send the timeout note for each expired ``(handler name, (chat, user))``; returns
    how many notes were sent."""
    sent = 0
    users: set[int] = set()
    for name, key in expired:
        dialog = dialogs.get(name)
        if dialog is None or not key or not isinstance(key[0], int):
            continue
        chat_id, user_id = key[0], key[-1]
        if isinstance(user_id, int) and forget_drafts(
            application.user_data, user_id, _names(dialogs.values())
        ):
            users.add(user_id)
        try:
            await application.bot.send_message(chat_id, dialog.timed_out)
            sent += 1
        except (Forbidden, BadRequest) as exc:
            _LOGGER.info("expired-dialog note not delivered to %s: %s", chat_id, exc.message)
    if users and application.persistence is not None:
        application.mark_data_for_update_persistence(user_ids=users)
        await application.update_persistence()
    return sent


def _names(dialogs: Iterable[Dialog]) -> Sequence[str]:
    return [dialog.name for dialog in dialogs]
