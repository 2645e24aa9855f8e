"""Slow work off the event loop: exports, charts and province-wide queries.

One event loop serves every user; a 10-second export run on it would stall every
answer for 10 seconds. :func:`in_worker` runs such work in a worker thread, on a
read-only connection of its own (WAL lets it read a consistent snapshot while the
bot keeps writing on the main connection, which stays on the event loop, so
writes remain serialised).

Two kinds of work, on two sets of threads, so a pile of exports never holds up a
``/reports`` page: :func:`in_worker` for light queries (lists, pages, searches) and
:func:`in_heavy_worker` for exports and charts (:func:`in_writer` for an import, on a
write connection), capped at one job per user and
:data:`HEAVY_IN_FLIGHT` in all (running or waiting for one of :data:`HEAVY_THREADS`);
over a cap the job is not queued but refused with :class:`Busy`, whose message tells
the user to wait.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlite_utils import Database

from handlers.core.context import BotData
from storage.db import MEMORY, open_db, open_reader

T = TypeVar("T")

LIGHT_THREADS = 4  # light queries at once
HEAVY_THREADS = 2  # exports and charts at once (the machine has few cores)
HEAVY_IN_FLIGHT = 4  # exports and charts running or waiting, in all
SAME_USER = "您的上一个导出或统计图还在生成，请等它完成后再试。"
TOO_MANY = "现在生成导出和统计图的人较多，请稍等一两分钟再试。"

_light = concurrent.futures.ThreadPoolExecutor(LIGHT_THREADS, thread_name_prefix="light")
_heavy = concurrent.futures.ThreadPoolExecutor(HEAVY_THREADS, thread_name_prefix="heavy")
_heavy_users: set[int] = set()  # whose heavy job is running or waiting (one event loop)


class Busy(Exception):
    """A heavy job over its cap; ``message`` is for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


async def _run(bot_data: BotData, work: Callable[[Database], T],
               pool: concurrent.futures.Executor,
               connect: Callable[[Path], Database] = open_reader) -> T:
    path = bot_data.db_path
    if str(path) == MEMORY:  # a private in-memory database has no second connection
        return work(bot_data.db)

    def run() -> T:
        db = connect(path)
        try:
            return work(db)
        finally:
            db.conn.close()

    return await asyncio.get_running_loop().run_in_executor(pool, run)


async def in_worker(bot_data: BotData, work: Callable[[Database], T]) -> T:
    """``work(reader)`` — a light query — in a worker thread with its own read-only
    connection."""
    return await _run(bot_data, work, _light)


async def in_heavy_worker(bot_data: BotData, user_id: int,
                          work: Callable[[Database], T]) -> T:
    """``work(reader)`` — an export or a chart — on the heavy threads; :class:`Busy`
    when ``user_id`` already has one running or waiting, or :data:`HEAVY_IN_FLIGHT`
    are."""
    return await _heavy_job(bot_data, user_id, work, open_reader)


async def in_writer(bot_data: BotData, user_id: int, work: Callable[[Database], T]) -> T:
    """``work(db)`` — an import, one long transaction — on the heavy threads (same caps)
    and a write connection of its own, while the bot's own connection stays on the event
    loop (its writes wait for the lock, up to the busy timeout)."""
    return await _heavy_job(bot_data, user_id, work, open_db)


async def _heavy_job(bot_data: BotData, user_id: int, work: Callable[[Database], T],
                     connect: Callable[[Path], Database]) -> T:
    if user_id in _heavy_users:
        raise Busy(SAME_USER)
    if len(_heavy_users) >= HEAVY_IN_FLIGHT:
        raise Busy(TOO_MANY)
    _heavy_users.add(user_id)
    try:
        return await _run(bot_data, work, _heavy, connect)
    finally:
        _heavy_users.discard(user_id)
