"""The long-lived services handlers use, kept in ``application.bot_data``.

``build_application`` puts them there once; handlers read them through these
typed accessors instead of indexing ``bot_data`` with string keys all over.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from typing import Any, Protocol

from sqlite_utils import Database

from handlers.core.flood_control import FloodGate
from knowledge.model import Answer

Clock = Callable[[], dt.datetime]

ENGINE = "engine"
DB = "db"
CLOCK = "clock"
FLOOD = "flood"
SUGGESTIONS = "suggestions"
SETTINGS = "settings"


class AnswerEngine(Protocol):
    """What the bot needs of ``knowledge.engine.Engine``."""

    def ask(self, question: str) -> Answer: ...


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


def engine(bot_data: Mapping[str, Any]) -> AnswerEngine:
    return bot_data[ENGINE]  # type: ignore[no-any-return]


def db(bot_data: Mapping[str, Any]) -> Database:
    return bot_data[DB]  # type: ignore[no-any-return]


def now(bot_data: Mapping[str, Any]) -> dt.datetime:
    clock: Clock = bot_data[CLOCK]
    return clock()


def flood_gate(bot_data: Mapping[str, Any]) -> FloodGate:
    return bot_data[FLOOD]  # type: ignore[no-any-return]


def suggestions(bot_data: MutableMapping[str, Any]) -> SuggestionMemory:
    return bot_data[SUGGESTIONS]  # type: ignore[no-any-return]
