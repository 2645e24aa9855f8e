"""The typed ``bot_data`` and callback context every handler receives.

python-telegram-bot lets an application choose the classes of its context and of
``bot_data`` (``ContextTypes``; see PTB's ``contexttypesbot.py``). lvdong's
``bot_data`` is :class:`BotData`: the long-lived services, as typed attributes,
filled in once by ``bot.app.build_application``. Handlers write
``context.bot_data.db`` instead of indexing a dict with string keys.

``bot_data`` is never persisted (it holds the engine and the database handle);
dialog drafts live in ``user_data``, which is.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlite_utils import Database
from telegram.ext import Application, CallbackContext, ExtBot

from handlers.core.answer_cache import AnswerCache
from handlers.core.flood_control import FloodGate
from knowledge.learned import LearnedQuestions
from knowledge.model import Answer, Fact, KnowledgeBase

if TYPE_CHECKING:
    from handlers.core.access import Command
    from handlers.delivery.outbox import OutboxSender
    from handlers.delivery.reminders import ReminderSettings

Clock = Callable[[], dt.datetime]


class AnswerEngine(Protocol):
    """What the bot needs of ``knowledge.engine.Engine``."""

    @property
    def kb(self) -> KnowledgeBase: ...

    def ask(
        self, question: str, *, today: dt.date | None = None, previous: str | None = None
    ) -> Answer: ...

    def answer_fact(self, fact_id: str, *, today: dt.date | None = None) -> Answer | None: ...

    def candidates(self, question: str, limit: int = 4) -> list[Fact]: ...


def system_clock() -> dt.datetime:
    """The production clock: aware UTC now."""
    return dt.datetime.now(dt.UTC)


class SuggestionMemory:
    """Suggestions offered with recent answers, by question id, so buttons carry a short key.

    Bounded: the oldest entries go first. After a restart the memory is empty and the
    suggestion handler falls back to the button's own text.
    """

    def __init__(self, capacity: int = 20_000) -> None:
        self.capacity = capacity
        self._items: OrderedDict[int, tuple[str, ...]] = OrderedDict()

    def remember(self, question_id: int, suggestions: Sequence[str]) -> None:
        if not suggestions:
            return
        self._items[question_id] = tuple(suggestions)
        self._items.move_to_end(question_id)
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def get(self, question_id: int, index: int) -> str | None:
        items = self._items.get(question_id, ())
        return items[index] if 0 <= index < len(items) else None


class BotData:
    """The services handlers use. PTB creates it empty; ``build_application`` fills it.

    Attributes declared without a value here are set by ``build_application``
    before the first update; reading one earlier is a wiring bug (AttributeError).
    """

    engine: AnswerEngine
    db: Database
    db_path: Path  # the same database, for read-only connections in worker threads
    learned: LearnedQuestions  # questions staff taught (reloaded when they change)
    clock: Clock
    admins: frozenset[int]  # the settings' administrators (LVDONG_ADMINS)
    dialog_timeout: float  # seconds of silence that close a dialog; 0: never
    flood: FloodGate
    outbox: OutboxSender  # everything the bot sends on its own goes through it
    commands: tuple[Command, ...]  # the declared commands (handlers.policy), for /help
    reminders: ReminderSettings
    invite_hours: float  # how long an invitation link stays valid
    enterprise_invite_days: float  # how long an enterprise's invitation link stays valid

    def __init__(self) -> None:
        self.run_id = 0  # this run of the bot (storage.dialog_results.start_run)
        self.suggestions = SuggestionMemory()
        self.answer_cache: AnswerCache[Any] = AnswerCache()
        self.touched: set[int] = set()  # ids of updates a dialog step handled (to persist)
        self.users_seen: dict[int, tuple[str, dt.datetime]] = {}  # id -> (name, last written)
        self.clock_ticked = False  # the reminders ticked in this process (a clock check)
        self.clock_warned: str | None = None  # the clock problem already logged

    def now(self) -> dt.datetime:
        return self.clock()

    @property
    def kb(self) -> KnowledgeBase:
        """The plan the engine answers from: one source for its shape everywhere."""
        return self.engine.kb


class Context(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """The context of every lvdong handler: ``context.bot_data`` is a :class:`BotData`.

    ``typed_button``: the callback data of the button whose label a user typed in a
    dialog, for this update only (see ``handlers.core.dialogs.pressed``).
    ``dialog_access``: what the dialog handling this update needs (set by the dialog
    machinery, see ``handlers.core.dialog_access``)."""

    typed_button: str | None = None
    dialog_access: Any = None


App = Application[Any, Context, Any, Any, BotData, Any]
