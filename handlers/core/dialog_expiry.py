"""Dialogs abandoned while the bot was down: tell their users at start-up.

PTB's ``conversation_timeout`` runs on in-memory jobs, which a restart loses.
``SqlitePersistence.get_conversations`` drops stored dialogs older than the
timeout when the application loads them and lists them in ``expired``; this
sends those users the same note a live timeout sends, and drops their drafts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence

from handlers.core.context import App
from handlers.core.dialogs import Dialog, expiry_note, forget_drafts

_LOGGER = logging.getLogger(__name__)

ConversationKey = tuple[int | str, ...]


async def notify_expired(
    application: App,
    expired: Iterable[tuple[str, ConversationKey]],
    dialogs: Mapping[str, Dialog],
) -> int:
    """Queue the timeout note for each expired ``(handler name, (chat, user))`` in the
    outbox and drop the drafts; returns how many notes were queued."""
    queued = 0
    users: set[int] = set()
    stamp = application.bot_data.now().isoformat()
    for name, key in expired:
        dialog = dialogs.get(name)
        if dialog is None or not key or not isinstance(key[0], int):
            continue
        chat_id, user_id = key[0], key[-1]
        if isinstance(user_id, int) and forget_drafts(
            application.user_data, user_id, _names(dialogs.values())
        ):
            users.add(user_id)
        queued += application.bot_data.outbox.queue(expiry_note(dialog, chat_id, stamp), [chat_id])
    if users and application.persistence is not None:
        application.mark_data_for_update_persistence(user_ids=users)
        await application.update_persistence()
    return queued


def _names(dialogs: Iterable[Dialog]) -> Sequence[str]:
    return [dialog.name for dialog in dialogs]
