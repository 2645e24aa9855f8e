"""A Bot API answer no retry can fix ends ``lvdong run`` with exit code 1 and a clear
paragraph, so a supervisor sees it, instead of a live process whose polling loop died."""

from __future__ import annotations

import json
from pathlib import Path

from tests.bot_harness import CONFIDENT_QUESTION
from tests.bot_process import ProcessChat, bot_env, finish, running, start
from tests.botapi_server import BotApiServer

WRONG_TOKEN = "111111111:WRONG-token_that-the-stand-in-refuses"
UNCAUGHT = 'File "<frozen runpy>"'  # the outermost frame of an exception nobody caught


async def test_a_rejected_token_at_start_up_exits_1_with_a_paragraph(tmp_path: Path) -> None:
    async with BotApiServer() as server:
        proc = await start(bot_env(server, tmp_path / "lvdong.sqlite",
                                   TELEGRAM_BOT_TOKEN=WRONG_TOKEN))
        code, err = await finish(proc)
    assert code == 1, err
    assert "Telegram 不接受这个令牌（Unauthorized）" in err and "@BotFather" in err
    assert "Traceback" not in err
    assert WRONG_TOKEN.split(":")[1] not in err


async def test_a_token_revoked_while_polling_ends_the_process(tmp_path: Path) -> None:
    async with BotApiServer() as server, running(server, tmp_path / "lvdong.sqlite") as proc:
        alice = ProcessChat(server.api, 1001)
        await alice.say(CONFIDENT_QUESTION, "依据")
        server.token = WRONG_TOKEN  # revoked at @BotFather: every request is now 401
        server.api.send_text(1001, CONFIDENT_QUESTION)  # ends the long poll in flight
        code, err = await finish(proc)
    assert code == 1, err
    assert err.splitlines()[-1].startswith("lvdong: Telegram 不接受这个令牌")
    assert "database closed" in err, "an orderly shutdown, not a crash"
    assert UNCAUGHT not in err


async def test_another_instance_polling_409_ends_the_process(tmp_path: Path) -> None:
    """Also: with LVDONG_LOG_FORMAT=json every log line is one JSON object."""
    async with BotApiServer() as server:
        conflict = server.inject("getUpdates", "409", times=1000)
        proc = await start(bot_env(server, tmp_path / "lvdong.sqlite",
                                   LVDONG_LOG_FORMAT="json"))
        code, err = await finish(proc)
    assert code == 1, err
    assert conflict.hits >= 1
    *log, paragraph = err.splitlines()
    assert "409 Conflict" in paragraph and "另一个进程正用同一个令牌" in paragraph
    entries = [json.loads(line) for line in log]
    assert {"time", "level", "logger", "message"} <= set(entries[0])
    assert any(e["level"] == "CRITICAL" and "Conflict" in e["message"] for e in entries)
    assert any(e["message"] == "database closed" for e in entries)
    assert "Traceback" not in err
