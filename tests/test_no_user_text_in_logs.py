"""No user-typed text in the log: after a handler error, a 400 or repeated 502s following
the phone step of /register, the log (JSON, at DEBUG) holds ids and field names only."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from telegram import Update

from bot.log_redaction import LIBRARY_LOGGERS, NOISY_LOGGERS, configure_logging
from handlers.core.errors import describe_update
from knowledge.engine import Engine
from tests.bot_harness import ExplodingEngine, RunningBot, running_bot
from tests.botapi_server import TEST_TOKEN
from tests.dialog_driver import Chat, register

ALICE = 1001
PHONE = "13987650432"
SECRET_NAME = "王秘密"  # the user's Telegram first name
TYPED = (PHONE, PHONE[3:], "河南绿源化工有限公司", "张三", SECRET_NAME)


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    configure_logging(TEST_TOKEN, level="DEBUG", fmt="json", stream=stream)
    yield stream
    root.handlers = saved[0]
    root.setLevel(saved[1])
    for name in (*LIBRARY_LOGGERS, *NOISY_LOGGERS):
        logging.getLogger(name).setLevel(logging.NOTSET)


def entries(stream: io.StringIO) -> list[dict[str, str]]:
    """Every line is one JSON object (the structured format)."""
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def assert_nothing_typed(stream: io.StringIO) -> str:
    text = stream.getvalue()
    for typed in TYPED:
        assert typed not in text, f"{typed!r} reached the log"
    return text


async def up_to_the_phone_step(bot: RunningBot) -> Chat:
    alice = Chat(bot, ALICE)
    await register(alice, contact="张三", confirm=False, phone="0371-1234567")
    await alice.press("修改")
    await alice.press("联系电话")  # back at the phone step, where the probe's number leaked
    return alice


async def test_a_400_after_the_phone_step_logs_ids_not_the_number(
    tmp_path: Path, engine: Engine, log_stream: io.StringIO
) -> None:
    async with running_bot(tmp_path, engine=engine, flood_burst=1000) as bot:
        alice = await up_to_the_phone_step(bot)
        bot.server.inject("sendMessage", "400")
        assert "抱歉" in await alice.say(PHONE)
    [error] = [e for e in entries(log_stream) if e["level"] == "ERROR"]
    assert f"message chat={ALICE} user={ALICE}" in error["message"]
    assert "fields=[chat, date, from, message_id, text]" in error["message"]
    assert "BadRequest: Message text is empty" in error["message"]
    assert "Processing update" not in log_stream.getvalue(), "PTB's DEBUG dump stays off"
    assert_nothing_typed(log_stream)


async def test_repeated_502s_after_the_phone_step_log_no_number(
    tmp_path: Path, engine: Engine, log_stream: io.StringIO
) -> None:
    async with running_bot(tmp_path, engine=engine, flood_burst=1000) as bot:
        alice = await up_to_the_phone_step(bot)
        bot.server.inject("sendMessage", "502", times=4)  # the reply fails, 3 retries too
        assert "抱歉" in await alice.say(PHONE)
    logged = entries(log_stream)
    assert any("retry 3/3" in e["message"] for e in logged)
    assert any(e["level"] == "ERROR" and "NetworkError: Bad Gateway" in e["message"]
               for e in logged)
    assert_nothing_typed(log_stream)


async def test_a_handler_exception_logs_where_but_not_what_was_typed(
    tmp_path: Path, engine: Engine, log_stream: io.StringIO
) -> None:
    async with running_bot(tmp_path, engine=ExplodingEngine(engine)) as bot:
        update_id = bot.api.send_text(ALICE, f"boom 我的电话{PHONE}", first_name=SECRET_NAME)
        await bot.wait_processed(update_id)
    [error] = [e for e in entries(log_stream) if e["level"] == "ERROR"]
    assert f"update {update_id} message" in error["message"]
    assert "RuntimeError (message withheld" in error["message"]
    assert "bot_harness.py" in error["message"] and "in ask" in error["message"]
    assert "boom" not in assert_nothing_typed(log_stream)


def test_callback_data_is_logged_up_to_its_prefix_only() -> None:
    user = {"id": ALICE, "is_bot": False, "first_name": SECRET_NAME}
    update = Update.de_json({"update_id": 9, "callback_query": {
        "id": "q1", "from": user, "chat_instance": "1", "data": f"rp:note:{PHONE}",
        "message": {"message_id": 3, "date": 0, "chat": {"id": ALICE, "type": "private"},
                    "text": f"联系电话：{PHONE}"},
    }}, None)
    described = describe_update(update)
    assert described == (f"update 9 callback_query chat={ALICE} user={ALICE} message=3 "
                         "data=rp:… fields=[chat_instance, data, from, id, message]")
