"""Dialogs abandoned while the bot was down, or caught at their last step by a crash:
tell their users at start-up.

PTB's ``conversation_timeout`` runs on in-memory jobs, which a restart loses.
``SqlitePersistence.get_conversations`` drops stored dialogs older than the
timeout when the application loads them and lists them in ``expired``; this
sends those users the same note a live timeout sends, and drops their drafts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence, Set

from handlers.core.context import App
from handlers.core.dialog_shape import Flow
from handlers.core.dialogs import Dialog, expiry_note, forget_drafts
from storage.conversations import load_conversations
from storage.outbox import Message

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


RESUMED = ("绿动刚刚意外重启了。您的{title}停在最后一步：如果您已经确认（或已发送内容）"
           "却没有收到完成的回复，请再操作一次，不会重复提交。")


def notify_waiting(
    application: App, flows: Iterable[Flow], run_id: int, redelivered: Set[int] = frozenset()
) -> int:
    """After a crash: each user whose dialog waits at a step that stores its result may
    have confirmed just before the kill, with the update lost on the way (Telegram had
    it acknowledged). They are asked once more (the confirm is idempotent, see
    ``handlers.core.dialog_access.committing``); returns how many notes were queued.

    Chats in ``redelivered`` are skipped: Telegram is about to hand their unconfirmed
    updates over again, so their dialog goes on by itself (the confirm answers "done"
    or stores it) and a note asking them to repeat it would contradict that answer."""
    outbox, db = application.bot_data.outbox, application.bot_data.db
    queued = 0
    for flow in flows:
        waiting = flow.commit_states
        for key, state in load_conversations(db, flow.dialog.name).items():
            if (state in waiting and key and isinstance(key[0], int)
                    and key[0] not in redelivered):
                note = Message(key=f"resumed:{flow.dialog.name}:{key[0]}:{run_id}",
                               kind="expiry", text=RESUMED.format(title=flow.dialog.title))
                queued += outbox.queue(note, [key[0]])
    return queued
