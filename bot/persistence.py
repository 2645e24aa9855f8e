"""A python-telegram-bot persistence that writes through to lvdong's SQLite file.

Each ``update_*`` call commits before it returns, so nothing PTB has handed over
is lost if the process is killed; :meth:`SqlitePersistence.flush` has nothing
left to do. Note that PTB itself calls ``update_*`` from
``Application.update_persistence``, which runs every ``update_interval`` seconds
(and at shutdown) — hence the short default interval below; a handler that must
be durable at once can ``await application.update_persistence()``.

Data is stored as JSON, not pickled: see :mod:`storage.conversations` for what
that means for the values dialogs may keep in ``user_data``/``chat_data``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import Any, cast

from sqlite_utils import Database
from telegram.ext import BasePersistence, PersistenceInput
from telegram.ext._utils.types import CDCData, ConversationDict, ConversationKey

from storage import conversations as store
from storage.clock import utc_now
from storage.db import transaction

Data = dict[Any, Any]


class SqlitePersistence(BasePersistence[Data, Data, Data]):
    """Write-through persistence on an open lvdong database (see :func:`storage.db.open_db`).

    ``conversation_timeout``: conversations untouched for longer are dropped when a
    handler's states are loaded; the dropped ``(name, key)`` pairs are kept in
    :attr:`expired` so the bot can tell those users their dialog was closed.
    """

    def __init__(
        self,
        db: Database,
        *,
        store_data: PersistenceInput | None = None,
        update_interval: float = 1.0,
        conversation_timeout: dt.timedelta | None = None,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> None:
        super().__init__(store_data=store_data, update_interval=update_interval)
        self.db = db
        self.conversation_timeout = conversation_timeout
        self.clock = clock
        self.expired: list[tuple[str, store.ConversationKey]] = []
        self._last_singletons: dict[str, str] = {}
        # (table, id) -> JSON last written or loaded: PTB hands over the data of every
        # user and chat that sent an update, changed or not; unchanged data is not rewritten.
        self._last_data: dict[tuple[str, int], str] = {}
        # Inside write_together: writes wait here and then commit in one transaction.
        self._together = 0
        self._waiting: list[Callable[[], object]] = []

    async def write_together(self, work: Awaitable[object]) -> None:
        """Run ``work`` (``Application.update_persistence()``) with every write it makes
        committed in one transaction at its end: a dialog's new state and its draft
        reach the disk together or not at all (a state restored without its draft
        cannot happen). Writes made meanwhile by other callers join it."""
        self._together += 1
        try:
            await work
        finally:
            self._together -= 1
            waiting, self._waiting = self._waiting, []
            if waiting:
                with transaction(self.db):
                    for write in waiting:
                        write()

    def _write(self, write: Callable[[], object]) -> None:
        if self._together:
            self._waiting.append(write)
        else:
            write()

    # --- loading (called once by Application.initialize / add_handler) --------------

    async def get_user_data(self) -> dict[int, Data]:
        return self._load_data("user_data")

    async def get_chat_data(self) -> dict[int, Data]:
        return self._load_data("chat_data")

    def _load_data(self, table: str) -> dict[int, Data]:
        data = store.load_data(self.db, table)
        for owner_id, value in data.items():
            self._last_data[(table, owner_id)] = store.to_json(value)
        return data

    async def get_bot_data(self) -> Data:
        data = store.load_singleton(self.db, "bot_data")
        return data if isinstance(data, dict) else {}

    async def get_callback_data(self) -> CDCData | None:
        data = store.load_singleton(self.db, "callback_data")
        if data is None:
            return None
        buttons, mapping = data
        return [(uuid, stamp, dict(keyboard)) for uuid, stamp, keyboard in buttons], dict(mapping)

    async def get_conversations(self, name: str) -> ConversationDict:
        if self.conversation_timeout is not None:
            self.expired.extend(
                store.expire_conversations(
                    self.db, self.conversation_timeout, self.clock(), name=name
                )
            )
        return cast(ConversationDict, store.load_conversations(self.db, name))

    # --- writing (each call commits) -------------------------------------------------

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        now = self.clock()
        self._write(lambda: store.save_conversation(self.db, name, key, new_state, now))

    async def update_user_data(self, user_id: int, data: Data) -> None:
        self._save_data_if_changed("user_data", user_id, data)

    async def update_chat_data(self, chat_id: int, data: Data) -> None:
        self._save_data_if_changed("chat_data", chat_id, data)

    def _save_data_if_changed(self, table: str, owner_id: int, data: Data) -> None:
        """Skip the write (and its fsync) when nothing changed; an empty dict that was
        never stored is not stored either (most users never start a dialog)."""
        text = store.to_json(data)
        previous = self._last_data.get((table, owner_id))
        if previous == text or (previous is None and not data):
            return
        now = self.clock()
        self._write(lambda: store.save_data(self.db, table, owner_id, data, now))
        self._last_data[(table, owner_id)] = text

    async def update_bot_data(self, data: Data) -> None:
        self._save_singleton_if_changed("bot_data", data)

    async def update_callback_data(self, data: CDCData) -> None:
        self._save_singleton_if_changed("callback_data", [data[0], data[1]])

    def _save_singleton_if_changed(self, name: str, data: object) -> None:
        """PTB hands over bot_data on *every* interval; skip the fsync when unchanged."""
        text = store.to_json(data)
        if self._last_singletons.get(name) == text:
            return
        now = self.clock()
        self._write(lambda: store.save_singleton(self.db, name, data, now))
        self._last_singletons[name] = text

    async def drop_chat_data(self, chat_id: int) -> None:
        self._write(lambda: store.drop_data(self.db, "chat_data", chat_id))
        self._last_data.pop(("chat_data", chat_id), None)

    async def drop_user_data(self, user_id: int) -> None:
        self._write(lambda: store.drop_data(self.db, "user_data", user_id))
        self._last_data.pop(("user_data", user_id), None)

    # --- nothing external changes our data, and nothing is buffered ------------------

    async def refresh_user_data(self, user_id: int, user_data: Data) -> None:
        """No-op: this process is the only writer of user_data."""

    async def refresh_chat_data(self, chat_id: int, chat_data: Data) -> None:
        """No-op: this process is the only writer of chat_data."""

    async def refresh_bot_data(self, bot_data: Data) -> None:
        """No-op: this process is the only writer of bot_data."""

    async def flush(self) -> None:
        """Nothing to do: every update was committed when it was made."""
