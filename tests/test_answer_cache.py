"""The answer cache: the engine is asked once per distinct question, yet every ask is
logged and every reply gets its own buttons."""

from __future__ import annotations

from pathlib import Path

import pytest

from handlers.core.answer_cache import AnswerCache
from handlers.public.answering import render_text
from knowledge.engine import load_engine
from knowledge.model import Answer
from tests.bot_harness import CONFIDENT_QUESTION, MINI_KB, NOT_COVERED_QUESTION, running_bot


class CountingEngine:
    """An engine that counts the questions it is asked (and can be made to fail)."""

    def __init__(self, answer: Answer | None = None) -> None:
        self.kb = load_engine(MINI_KB).kb
        self.asked: list[str] = []
        self.fail = False
        self.answer = answer or Answer(text="答：<要淘汰> & 立即", confident=False,
                                       sources=("二（一）2",), suggestions=("冲天炉要淘汰吗？",))

    def ask(self, question: str, **context: object) -> Answer:
        self.asked.append(question)
        if self.fail:
            raise RuntimeError("engine failed on purpose")
        return self.answer


def test_same_question_asks_the_engine_once() -> None:
    engine = CountingEngine()
    cache = AnswerCache()
    first = cache.answer(engine, "冲天炉要淘汰吗？", render_text)
    second = cache.answer(engine, "冲天炉要淘汰吗？", render_text)
    assert engine.asked == ["冲天炉要淘汰吗？"]
    assert second is first
    assert (cache.hits, cache.misses) == (1, 1)


def test_cached_rendering_is_what_rendering_directly_produces() -> None:
    engine = CountingEngine()
    rendered = AnswerCache().answer(engine, "q", render_text)
    direct = render_text(engine.answer)
    assert rendered.html == direct.html
    assert "&lt;要淘汰&gt; &amp; 立即" in rendered.html  # escaped once, not twice
    assert rendered.answered


def test_a_different_engine_empties_the_cache() -> None:
    old, new = CountingEngine(), CountingEngine(Answer(text="新", confident=True))
    cache = AnswerCache()
    cache.answer(old, "q", render_text)
    assert cache.answer(new, "q", render_text).answer.text == "新"
    assert new.asked == ["q"]


def test_least_recently_used_goes_first_when_full() -> None:
    engine = CountingEngine()
    cache = AnswerCache(capacity=2)
    cache.answer(engine, "a", render_text)
    cache.answer(engine, "b", render_text)
    cache.answer(engine, "a", render_text)  # a is now the most recent
    cache.answer(engine, "c", render_text)  # evicts b
    engine.asked.clear()
    cache.answer(engine, "a", render_text)
    cache.answer(engine, "b", render_text)
    assert engine.asked == ["b"]
    assert len(cache) == 2


def test_capacity_zero_turns_the_cache_off() -> None:
    engine = CountingEngine()
    cache = AnswerCache(capacity=0)
    cache.answer(engine, "q", render_text)
    cache.answer(engine, "q", render_text)
    assert engine.asked == ["q", "q"]
    assert len(cache) == 0


def test_failures_are_not_cached() -> None:
    engine = CountingEngine()
    engine.fail = True
    cache = AnswerCache()
    with pytest.raises(RuntimeError):
        cache.answer(engine, "q", render_text)
    engine.fail = False
    assert cache.answer(engine, "q", render_text).answer is engine.answer
    assert len(engine.asked) == 2


async def test_repeated_question_is_logged_each_time_with_its_own_buttons(
    tmp_path: Path,
) -> None:
    real = load_engine(MINI_KB)
    engine = CountingEngine()
    engine.answer = real.ask(NOT_COVERED_QUESTION)
    async with running_bot(tmp_path, engine=engine) as bot:
        first = await bot.exchange(1001, NOT_COVERED_QUESTION)
        second = await bot.exchange(1002, "  " + NOT_COVERED_QUESTION)  # same once normalised
        assert len(engine.asked) == 1, "the second ask is served from the cache"
        rows = bot.rows("SELECT id, user_id, answered FROM questions ORDER BY id")
        assert [(r["user_id"], r["answered"]) for r in rows] == [
            (1001, int(engine.answer.in_scope and bool(engine.answer.text.strip()))),
            (1002, int(engine.answer.in_scope and bool(engine.answer.text.strip()))),
        ]
        for reply, row in zip((first[-1], second[-1]), rows, strict=True):
            keyboard = reply.params["reply_markup"]["inline_keyboard"]
            data = [button["callback_data"] for r in keyboard for button in r]
            assert f"s:{row['id']}:0" in data, "buttons keyed by this ask's id"
            if engine.answer.in_scope:  # a refusal asks for no feedback
                assert f"f:{row['id']}:1" in data and f"f:{row['id']}:0" in data
            if engine.answer.suggestions:
                assert f"s:{row['id']}:0" in data
        assert first[-1].params["text"] == second[-1].params["text"]


async def test_the_real_engine_answers_through_the_cache(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        [reply] = await bot.exchange(1001, CONFIDENT_QUESTION)
        [again] = await bot.exchange(1001, CONFIDENT_QUESTION)
        assert again.params["text"] == reply.params["text"]
        assert len(bot.rows("SELECT * FROM questions")) == 2
