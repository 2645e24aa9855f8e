"""Recently rendered answers, so a popular question costs the engine once; and each
chat's last question, so a follow-up (那石灰窑呢？, 哪个处负责？) builds on it."""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

from knowledge.model import Answer
from storage.clock import SHANGHAI

ANSWER_CACHE_SIZE = 4096
FOLLOW_UP_SECONDS = 600  # how long a chat's last question stays what a follow-up refers to
CHATS_REMEMBERED = 20_000  # chats whose last question is kept (the oldest go first)
Rendered = TypeVar("Rendered")


class _Engine(Protocol):
    def ask(
        self, question: str, *, today: dt.date | None = None, previous: str | None = None
    ) -> Answer: ...


class AnswerCache(Generic[Rendered]):
    """Rendered answers keyed by the normalised question and the day (least recently used
    go first), and each chat's last question for its follow-ups.

    The engine is a pure function of the question, the day (a deadline already behind it
    is said to have passed) and, for a follow-up, the chat's previous question. So an
    answer is cached per question and day; a follow-up asked after a previous question
    of its chat is answered afresh (it depends on that chat) and never cached. Cached
    entries are tied to the engine object they came from; a different engine (a reloaded
    knowledge base) empties the cache. ``capacity=0`` turns caching off (follow-ups
    still work). Exceptions are not cached. Every question is still logged, one row per ask.
    """

    def __init__(self, capacity: int = ANSWER_CACHE_SIZE) -> None:
        self.capacity = capacity
        self.hits = 0
        self.misses = 0
        self._engine: Any = None
        self._items: OrderedDict[tuple[str, dt.date | None], tuple[Answer, Rendered]] = (
            OrderedDict()
        )
        self._last: OrderedDict[int, tuple[str, dt.datetime]] = OrderedDict()

    def answer(
        self,
        engine: _Engine,
        question: str,
        render: Callable[[Answer], Rendered],
        *,
        chat: int | None = None,
        now: dt.datetime | None = None,
    ) -> Rendered:
        """``render(engine.ask(question, …))``, from the cache when it was asked recently."""
        if engine is not self._engine:
            self._items.clear()
            self._engine = engine
        today = now.astimezone(SHANGHAI).date() if now is not None else None
        previous = self._previous(chat, now)
        key = (question, today)
        cached = self._items.get(key)
        if cached is not None and not (previous and cached[0].follow_up):
            self.hits += 1
            self._items.move_to_end(key)
            self._remember(chat, cached[0], now)
            return cached[1]
        self.misses += 1
        answer = engine.ask(question, today=today, previous=previous)
        rendered = render(answer)
        if self.capacity > 0 and not (previous and answer.follow_up):
            self._items[key] = (answer, rendered)
            self._items.move_to_end(key)
            if len(self._items) > self.capacity:
                self._items.popitem(last=False)
        self._remember(chat, answer, now)
        return rendered

    def _previous(self, chat: int | None, now: dt.datetime | None) -> str | None:
        """The chat's last question as understood, if asked within ``FOLLOW_UP_SECONDS``."""
        if chat is None or now is None or chat not in self._last:
            return None
        understood, when = self._last[chat]
        if (now - when).total_seconds() > FOLLOW_UP_SECONDS:
            return None
        return understood

    def _remember(self, chat: int | None, answer: Answer, now: dt.datetime | None) -> None:
        if chat is None or now is None:
            return
        self._last.pop(chat, None)
        if answer.understood:  # a refused question leaves nothing to follow up on
            self._last[chat] = (answer.understood, now)
            while len(self._last) > CHATS_REMEMBERED:
                self._last.popitem(last=False)

    def clear(self) -> None:
        """Forget every answer (what staff taught changes what a question is answered with)."""
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
