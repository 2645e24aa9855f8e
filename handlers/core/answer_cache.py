"""Recently rendered answers, so a popular question costs the engine once."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Generic, Protocol, TypeVar

from knowledge.model import Answer

ANSWER_CACHE_SIZE = 4096
Rendered = TypeVar("Rendered")


class _Engine(Protocol):
    def ask(self, question: str) -> Answer: ...


class AnswerCache(Generic[Rendered]):
    """Rendered answers keyed by the normalised question (least recently used go first).

    The engine is a pure function of the question text and the knowledge base it was
    built from, so asking it again for a question it has just answered (a common
    question button, a suggestion, the same FAQ from many users) only costs time:
    about a millisecond of CPU per question, plus escaping and fitting the reply.
    Cached entries are tied to the engine object they came from; a different engine
    (a reloaded knowledge base) empties the cache. ``capacity=0`` turns it off.
    Exceptions are not cached. Every question is still logged, one row per ask.
    """

    def __init__(self, capacity: int = ANSWER_CACHE_SIZE) -> None:
        self.capacity = capacity
        self.hits = 0
        self.misses = 0
        self._engine: Any = None
        self._items: OrderedDict[str, Rendered] = OrderedDict()

    def answer(
        self, engine: _Engine, question: str, render: Callable[[Answer], Rendered]
    ) -> Rendered:
        """``render(engine.ask(question))``, from the cache when it was asked recently."""
        if engine is not self._engine:
            self._items.clear()
            self._engine = engine
        cached = self._items.get(question)
        if cached is not None:
            self.hits += 1
            self._items.move_to_end(question)
            return cached
        self.misses += 1
        rendered = render(engine.ask(question))
        if self.capacity > 0:
            self._items[question] = rendered
            if len(self._items) > self.capacity:
                self._items.popitem(last=False)
        return rendered

    def __len__(self) -> int:
        return len(self._items)
