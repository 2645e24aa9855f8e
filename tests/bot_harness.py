"""The real bot, started against the HTTP Bot API stand-in, for end-to-end tests.

Real ``Application`` (``bot.app.build_application``), real engine, real SQLite
file, real HTTP (httpx → aiohttp on 127.0.0.1). Tests play users through
``bot.api`` and wait on conditions with deadlines, never on fixed sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlite_utils import Database
from telegram.ext import Application
from telegram.request import HTTPXRequest

from bot.app import build_application, update_processor
from bot.lifecycle import polling
from bot.local_api import ApiCall, LocalBotApi
from bot.settings import Settings
from handlers.core.context import AnswerEngine
from knowledge.engine import Engine, load_engine
from knowledge.model import KnowledgeBase
from storage.clock import to_db
from storage.db import open_db
from tests.botapi_server import BotApiServer

MINI_KB = Path(__file__).parent / "data" / "mini-kb.yaml"
CONFIDENT_QUESTION = "燃煤锅炉什么时候要淘汰？"  # answered by the mini KB, with its clause
NOT_COVERED_QUESTION = "今天天气怎么样？"  # outside any pollution plan
WAIT = 8.0  # deadline for one exchange; generous, the usual is milliseconds
# The shipped pace (``LVDONG_MAX_RATE`` 30 a second, a fifth of it per chat) is real time:
# a test user answers every prompt within milliseconds, faster than any person, and would
# wait out that pace on every third button. The bots here keep the pacing machinery
# (429 holds, group limits, reply-before-outbox) at a pace no test reaches; the pace
# itself is tested on its own clock (tests/test_fairness.py, tests/test_outbox_delivery.py).
TEST_PACE = {"max_rate": 1000.0, "send_rate": 1000.0}


# Built once per test process and shared: a KnowledgeBase is frozen and the engine keeps
# no state between questions (tests/conftest.py also hands them out as fixtures).
# Every httpx client reads the CA bundle into a TLS context of its own (about 20 ms);
# the stand-in speaks plain HTTP, so the bots here share one context.
_NO_NEW_TLS = {"verify": ssl.create_default_context()}


@functools.cache
def shipped_engine() -> Engine:
    """The engine over the shipped plan."""
    return load_engine()


@functools.cache
def mini_engine() -> Engine:
    """The engine over ``MINI_KB``, the bot's default in these tests."""
    return load_engine(MINI_KB)


def shipped_kb() -> KnowledgeBase:
    return shipped_engine().kb


@dataclass
class FakeClock:
    now: dt.datetime = dt.datetime(2021, 6, 1, 2, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


class BudgetClock:
    """The send budget's monotonic clock, moved ahead by a test instead of waiting out
    a 429's pause in real time."""

    def __init__(self) -> None:
        self.ahead = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.ahead


@dataclass
class RunningBot:
    server: BotApiServer
    app: Application[Any, Any, Any, Any, Any, Any]
    db: Database
    clock: FakeClock
    processed: set[int] = field(default_factory=set)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def api(self) -> LocalBotApi:
        return self.server.api

    def on_processed(self, update: object) -> None:
        update_id = getattr(update, "update_id", None)
        if update_id is not None:
            self.processed.add(update_id)
            self._changed.set()

    async def wait_processed(self, *update_ids: int, timeout: float = WAIT) -> None:
        async def all_done() -> None:
            while not set(update_ids) <= self.processed:
                self._changed.clear()
                await self._changed.wait()

        await asyncio.wait_for(all_done(), timeout)

    def budget_clock(self) -> BudgetClock:
        """Put the send budget (``bot.sending.SendBudget``) on a clock the test moves."""
        clock = BudgetClock()
        self.app.bot.rate_limiter.budget._clock = clock  # type: ignore[union-attr]
        return clock

    def outbox_pending(self) -> int:
        """Deliveries due now that the outbox has not finished with."""
        return int(self.db.execute(
            "SELECT count(*) FROM outbox WHERE status IN ('queued', 'sending') AND not_before <= ?",
            (to_db(self.clock()),),
        ).fetchone()[0])

    async def outbox_drained(self, timeout: float = WAIT) -> None:
        """Wait until the outbox has sent everything due (what the bot says on its own)."""
        async def drained() -> None:
            while self.outbox_pending() or self.app.bot_data.outbox.busy:
                self.app.bot_data.outbox.wake()
                await asyncio.sleep(0.005)

        await asyncio.wait_for(drained(), timeout)

    async def exchange(
        self, user_id: int, text: str, *, chat_id: int | None = None, timeout: float = WAIT
    ) -> list[ApiCall]:
        """Send ``text`` as ``user_id``; return the messages the bot sent to that chat meanwhile."""
        chat = user_id if chat_id is None else chat_id
        before = len(self.api.sent(chat))
        update_id = self.api.send_text(user_id, text, chat_id=chat_id)
        await self.wait_processed(update_id, timeout=timeout)
        return self.api.sent(chat)[before:]

    async def click(self, user_id: int, chat_id: int, message_id: int, data: str) -> list[ApiCall]:
        before = len(self.api.calls)
        update_id = self.api.click(user_id, chat_id, message_id, data)
        await self.wait_processed(update_id)
        return self.api.calls[before:]

    def last_message_id(self, chat_id: int) -> int:
        bot_messages = [
            mid for (cid, mid), msg in self.api.messages.items()
            if cid == chat_id and msg.get("from", {}).get("id") == self.api.bot_id
        ]
        return max(bot_messages)

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        return list(self.db.query(sql, params))


class ExplodingEngine:
    """The real engine, except that the question "boom" raises (to test the error path)."""

    def __init__(self, engine: AnswerEngine) -> None:
        self.engine = engine
        self.kb = engine.kb

    def ask(self, question: str, **context: Any) -> Any:
        if "boom" in question:
            raise RuntimeError("engine exploded on purpose")
        return self.engine.ask(question, **context)


def settings_for(server: BotApiServer, tmp_path: Path, **overrides: Any) -> Settings:
    settings = Settings(
        token=server.token, api_base_url=server.base_url, db_path=tmp_path / "lvdong.sqlite",
        admins=frozenset({900}), **TEST_PACE,
    )
    return replace(settings, **overrides)


@contextlib.asynccontextmanager
async def running_bot(
    tmp_path: Path, *, engine: AnswerEngine | None = None, read_timeout: float = 1.0,
    server: BotApiServer | None = None, clock: FakeClock | None = None,
    **settings_overrides: Any,
) -> AsyncIterator[RunningBot]:
    """The bot on a fresh stand-in; pass ``server`` (and ``clock``) of an earlier run to
    restart the bot against the same Telegram and the same SQLite file."""
    async with contextlib.AsyncExitStack() as stack:
        if server is None:
            server = await stack.enter_async_context(BotApiServer())
        else:
            server.api.reopen()  # the previous run closed it to release its long polls
        settings = settings_for(server, tmp_path, **settings_overrides)
        db = open_db(settings.db_path)
        clock = clock or FakeClock()
        app = build_application(
            settings,
            engine=engine or mini_engine(),
            db=db,
            request=HTTPXRequest(connection_pool_size=32, read_timeout=read_timeout,
                                 httpx_kwargs=_NO_NEW_TLS),
            get_updates_request=HTTPXRequest(read_timeout=read_timeout,
                                             httpx_kwargs=_NO_NEW_TLS),
            clock=clock,
        )
        bot = RunningBot(server=server, app=app, db=db, clock=clock)
        update_processor(app).listeners.append(bot.on_processed)
        async with polling(app, poll_timeout=1.0):
            yield bot
            server.api.close()


def plan_shape() -> dict[str, Any]:
    """``add_report``'s keyword arguments for the shipped plan (tests file reports directly)."""
    kb = shipped_kb()
    return {"task_numbers": kb.task_numbers, "statuses": [s.name for s in kb.statuses]}
