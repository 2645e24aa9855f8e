"""Process updates concurrently across users, but one user's updates strictly in order.

python-telegram-bot either processes every update one after the other
(``concurrent_updates(False)``) or all of them at once (``True``). Neither fits
a Q&A bot: one slow reply to one user must not hold up everybody else, and a
user's second message (or a dialog step) must not overtake the first. This
processor keys every update by its user (or chat) and runs updates with the
same key one at a time, in arrival order.

Fairness under floods: a user's updates are admitted to a per-user backlog of at most
``backlog`` (queued or running) *before* they take one of the global slots, so one
user's burst — questions, dialog steps, buttons alike — holds at most one slot and
never queues ahead of everybody else. An update beyond the backlog is dropped, never
queued: ``on_overflow`` is told (``first`` True once per burst, so the user hears
"慢一点" once) and its coroutine is closed unrun.

Listeners are told when an update has been fully processed (handlers and error
handlers done); the terminal chat and the tests use that to wait for "idle".
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

UpdateListener = Callable[[object], None]
OverflowHook = Callable[[object, bool], object]
# python-telegram-bot's own semaphore (taken before ``do_process_update``) is made wide
# enough never to block; the real global slots are taken after the user's turn came.
_UNBOUNDED = 1 << 30


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
    __slots__ = ("lock", "users", "warned")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0
        self.warned = False


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Up to ``max_concurrent_updates`` at once, never two of the same user at once, at
    most ``backlog`` of one user's updates held (the rest dropped, see the module
    docstring).

    ``asyncio.Lock`` wakes waiters first-in first-out, so a user's updates run in
    the order the application handed them over, which is the order of update ids.
    """

    def __init__(self, max_concurrent_updates: int, *, backlog: int = 8) -> None:
        super().__init__(_UNBOUNDED)
        if max_concurrent_updates < 1 or backlog < 1:
            raise ValueError("max_concurrent_updates and backlog must be positive")
        self._slots_total = max_concurrent_updates
        self._slots = asyncio.Semaphore(max_concurrent_updates)
        self.backlog = backlog
        self._locks: dict[int, _KeyLock] = {}
        self.listeners: list[UpdateListener] = []
        self.on_overflow: OverflowHook | None = None
        self.dropped = 0

    @property
    def slots(self) -> int:
        """The global slots: updates processed at once across users (PTB's own
        ``max_concurrent_updates`` is left wide open, see ``_UNBOUNDED``)."""
        return self._slots_total

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = ordering_key(update)
        try:
            if key is None:
                async with self._slots:
                    await coroutine
                return
            entry = self._locks.get(key)
            if entry is None:
                entry = self._locks[key] = _KeyLock()
            if entry.users >= self.backlog:
                self._drop(update, coroutine, entry)
                return
            entry.users += 1
            try:
                async with entry.lock, self._slots:  # the user's turn first, then a slot
                    await coroutine
            finally:
                entry.users -= 1
                if entry.users == 0:
                    del self._locks[key]
        finally:
            for listener in list(self.listeners):
                listener(update)

    def _drop(self, update: object, coroutine: Awaitable[Any], entry: _KeyLock) -> None:
        self.dropped += 1
        close = getattr(coroutine, "close", None)
        if close is not None:
            close()  # never awaited: no "coroutine was never awaited" warning
        first, entry.warned = not entry.warned, True
        if self.on_overflow is not None:
            try:
                self.on_overflow(update, first)
            except Exception:  # the hook only answers; never let it break the fetcher
                logging.getLogger(__name__).exception("overflow hook failed")

    @property
    def waiting_keys(self) -> int:
        """How many users currently have an update queued or running (for tests)."""
        return len(self._locks)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""
