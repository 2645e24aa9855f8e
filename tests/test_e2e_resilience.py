"""End to end over HTTP: groups, flood control, Telegram's errors, a failing handler."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import pytest

from handlers.core.errors import SORRY
from handlers.core.flood import SLOW_DOWN
from handlers.core.telegram_html import to_plain
from knowledge.engine import load_engine
from tests.bot_harness import (
    CONFIDENT_QUESTION,
    MINI_KB,
    ExplodingEngine,
    running_bot,
)

ALICE, BOB = 1001, 1002
GROUP = -100555


async def test_group_silent_unless_mentioned_or_asked(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        username = bot.api.bot_username
        assert await bot.exchange(ALICE, CONFIDENT_QUESTION, chat_id=GROUP) == []
        assert await bot.exchange(ALICE, "@someone_else 锅炉", chat_id=GROUP) == []
        assert await bot.exchange(ALICE, "/help@other_bot", chat_id=GROUP) == []

        [reply] = await bot.exchange(ALICE, f"@{username} {CONFIDENT_QUESTION}", chat_id=GROUP)
        assert "依据" in to_plain(reply.params["text"])
        assert reply.params["reply_parameters"]["message_id"]  # quotes the asker

        [reply] = await bot.exchange(ALICE, f"/ask@{username} {CONFIDENT_QUESTION}",
                                     chat_id=GROUP)
        assert "依据" in to_plain(reply.params["text"])

        # a reply to one of the bot's messages counts as addressing it
        bot_message = bot.last_message_id(GROUP)
        update_id = bot.api.send_text(BOB, CONFIDENT_QUESTION, chat_id=GROUP,
                                      reply_to=bot_message)
        await bot.wait_processed(update_id)
        assert len(bot.api.sent(GROUP)) == 3
        questions = bot.rows("SELECT chat_id, text FROM questions")
        assert [q["chat_id"] for q in questions] == [GROUP] * 3
        assert all("@" not in q["text"] for q in questions)


async def test_flooding_user_is_slowed_while_others_are_answered(tmp_path: Path) -> None:
    async with running_bot(tmp_path, flood_burst=3, flood_per_minute=6) as bot:
        ids = [bot.api.send_text(ALICE, f"{CONFIDENT_QUESTION} {i}") for i in range(8)]
        bob = bot.api.send_text(BOB, CONFIDENT_QUESTION)
        await bot.wait_processed(*ids, bob)
        alice_texts = [to_plain(c.params["text"]) for c in bot.api.sent(ALICE)]
        assert sum("依据" in t for t in alice_texts) == 3
        assert alice_texts.count(SLOW_DOWN) == 1, "told once, then quiet"
        assert len(alice_texts) == 4
        [bob_reply] = bot.api.sent(BOB)
        assert "依据" in to_plain(bob_reply.params["text"])

        # after a pause (fake clock), Alice is answered again
        bot.clock.advance(10)
        [reply] = await bot.exchange(ALICE, CONFIDENT_QUESTION)
        assert "依据" in to_plain(reply.params["text"])


async def test_group_chatter_does_not_count_against_flood(tmp_path: Path) -> None:
    async with running_bot(tmp_path, flood_burst=2, flood_per_minute=1) as bot:
        for i in range(5):
            await bot.exchange(ALICE, f"闲聊 {i}", chat_id=GROUP)
        [reply] = await bot.exchange(ALICE, CONFIDENT_QUESTION)
        assert "依据" in to_plain(reply.params["text"])


async def test_survives_429_with_retry_after(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        fault = bot.server.inject("sendMessage", "429", retry_after=1)
        started = time.monotonic()
        [reply] = await bot.exchange(ALICE, CONFIDENT_QUESTION)
        assert fault.hits == 1
        assert time.monotonic() - started >= 1.0, "waited retry_after"
        assert "依据" in to_plain(reply.params["text"])


async def test_survives_502_and_a_timeout_answer_arrives_once(tmp_path: Path) -> None:
    async with running_bot(tmp_path, read_timeout=0.5) as bot:
        bad_gateway = bot.server.inject("sendMessage", "502")
        timeout = bot.server.inject("sendMessage", "timeout", delay=1.5)
        replies = await bot.exchange(ALICE, CONFIDENT_QUESTION)
        assert (bad_gateway.hits, timeout.hits) == (1, 1)
        assert len(replies) == 1 and "依据" in to_plain(replies[0].params["text"])
        assert bot.server.requests.count("sendMessage") == 3
        assert len(bot.rows("SELECT * FROM questions")) == 1


async def test_polling_survives_502_and_timeouts_on_get_updates(tmp_path: Path) -> None:
    async with running_bot(tmp_path, read_timeout=0.5) as bot:
        bot.server.inject("getUpdates", "502")
        bot.server.inject("getUpdates", "timeout", delay=3.0)
        update_id = bot.api.send_text(ALICE, CONFIDENT_QUESTION)
        await bot.wait_processed(update_id, timeout=15)
        assert len(bot.api.sent(ALICE)) == 1


async def test_handler_exception_gets_an_apology_and_the_bot_keeps_answering(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = ExplodingEngine(load_engine(MINI_KB))
    async with running_bot(tmp_path, engine=engine) as bot:
        [apology] = await bot.exchange(ALICE, "boom")
        assert apology.params["text"] == SORRY
        [logged] = [r for r in caplog.records if r.name == "handlers.core.errors"]
        assert logged.levelno == logging.ERROR
        message = logged.getMessage()
        assert "message chat=1001 user=1001" in message and "RuntimeError" in message
        assert "bot_harness.py" in message, "the traceback says where it was raised"
        assert "boom" not in message, "what the user typed stays out of the log"
        [reply] = await bot.exchange(ALICE, CONFIDENT_QUESTION)
        assert "依据" in to_plain(reply.params["text"])
        replies = await asyncio.gather(*(bot.exchange(u, CONFIDENT_QUESTION) for u in (5, 6)))
        assert all(len(r) == 1 for r in replies)


async def test_buttons_that_ask_count_and_others_do_not(tmp_path: Path) -> None:
    async with running_bot(tmp_path, flood_burst=2, flood_per_minute=1) as bot:
        await bot.exchange(ALICE, "/start")  # common questions: buttons q:<index>
        message_id = bot.last_message_id(ALICE)
        answers = []
        for _ in range(3):
            calls = await bot.click(ALICE, ALICE, message_id, "q:0")
            answers += [c.params.get("text") for c in calls if c.method == "answerCallbackQuery"]
        assert SLOW_DOWN in answers, "the third question in a burst of two is slowed"
        calls = await bot.click(ALICE, ALICE, message_id, "mr:1")  # not a question
        assert SLOW_DOWN not in [c.params.get("text") for c in calls]
