"""Blocks and unblocks, as they happen: Telegram sends a ``my_chat_member`` update when a
user blocks the bot (status ``kicked``) or unblocks it (``member``). The outbox then
stops or resumes sending to them (see :func:`storage.users.set_reachable`)."""

from __future__ import annotations

import logging

from telegram import ChatMember, Update

from handlers.core.context import Context
from storage.users import set_reachable

_LOGGER = logging.getLogger(__name__)


async def on_my_chat_member(update: Update, context: Context) -> None:
    change = update.my_chat_member
    if change is None or change.chat.type != "private":
        return
    status = change.new_chat_member.status
    reachable = status not in (ChatMember.BANNED, ChatMember.LEFT)
    if set_reachable(context.bot_data.db, change.chat.id, reachable, context.bot_data.now()):
        _LOGGER.info("user %s %s the bot", change.chat.id,
                     "unblocked" if reachable else "blocked")
        if reachable:
            context.bot_data.outbox.wake()
