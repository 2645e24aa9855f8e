"""Slow work off the event loop: exports, charts and province-wide queries.

One event loop serves every user; a 10-second export run on it would stall every
answer for 10 seconds. :func:`in_worker` runs such work in a worker thread, on a
read-only connection of its own (WAL lets it read a consistent snapshot while the
bot keeps writing on the main connection, which stays on the event loop, so
writes remain serialised).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlite_utils import Database

from handlers.core.context import BotData
from storage.db import MEMORY, open_db, open_reader

T = TypeVar("T")


async def in_worker(bot_data: BotData, work: Callable[[Database], T]) -> T:
    """``work(reader)`` in a worker thread with its own read-only connection."""
    return await _in_thread(bot_data, work, open_reader)


async def in_writer(bot_data: BotData, work: Callable[[Database], T]) -> T:
    """``work(db)`` in a worker thread on a write connection of its own: a long write
    (an import, in one transaction) while the bot's own connection stays on the event
    loop (its writes wait for the lock, up to the busy timeout)."""
    return await _in_thread(bot_data, work, open_db)


async def _in_thread(bot_data: BotData, work: Callable[[Database], T],
                     connect: Callable[[Path], Database]) -> T:
    path = bot_data.db_path
    if str(path) == MEMORY:  # a private in-memory database has no second connection
        return work(bot_data.db)

    def run() -> T:
        db = connect(path)
        try:
            return work(db)
        finally:
            db.conn.close()

    return await asyncio.to_thread(run)
