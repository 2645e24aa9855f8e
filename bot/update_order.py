"""Process updates concurrently across users, but one user's updates strictly in order.

python-telegram-bot either processes every update one after the other
(``concurrent_updates(False)``) or all of them at once (``True``). Neither fits
a Q&A bot: one slow reply to one user must not hold up everybody else, and a
user's second message (or a dialog step) must not overtake the first. This
processor keys every update by its user (or chat) and runs updates with the
same key one at a time, in arrival order.

Listeners are told when an update has been fully processed (handlers and error
handlers done); the terminal chat and the tests use that to wait for "idle".
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

UpdateListener = Callable[[object], None]


def ordering_key(update: object) -> int | None:
    """Whose updates must stay in order: the user's, else the chat's; None: no constraint."""
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return update.effective_user.id
    if update.effective_chat is not None:
        return update.effective_chat.id
    return None


class _KeyLock:
    __slots__ = ("lock", "users")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Up to ``max_concurrent_updates`` at once, never two of the same user at once.

    ``asyncio.Lock`` wakes waiters first-in first-out, so a user's updates run in
    the order the application handed them over, which is the order of update ids.
    """

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, _KeyLock] = {}
        self.listeners: list[UpdateListener] = []

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = ordering_key(update)
        try:
            if key is None:
                await coroutine
                return
            entry = self._locks.get(key)
            if entry is None:
                entry = self._locks[key] = _KeyLock()
            entry.users += 1
            try:
                async with entry.lock:
                    await coroutine
            finally:
                entry.users -= 1
                if entry.users == 0:
                    del self._locks[key]
        finally:
            for listener in list(self.listeners):
                listener(update)

    @property
    def waiting_keys(self) -> int:
        """How many users currently have an update queued or running (for tests)."""
        return len(self._locks)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""
