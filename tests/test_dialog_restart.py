"""Dialogs survive a restart and a kill; abandoned dialogs time out, live and across restarts."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from knowledge.engine import Engine
from storage.enterprises import enterprise_of_user
from tests.bot_harness import FakeClock, running_bot
from tests.botapi_server import BotApiServer
from tests.dialog_driver import Chat, answer_qualifiers, credit_code, register_approved

ALICE = 1001
TIMED_OUT = "由于长时间没有操作"


def on_disk(path: Path, sql: str) -> list[tuple[object, ...]]:
    """Read with an independent connection: only what was committed is seen."""
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


def snapshot(source: Path, target: Path) -> None:
    """A copy of what is committed right now: what a SIGKILL at this moment leaves behind."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


async def test_dialog_resumes_at_the_same_step_after_a_restart(
    tmp_path: Path, engine: Engine
) -> None:
    clock = FakeClock()
    async with BotApiServer() as server:
        async with running_bot(tmp_path, engine=engine, server=server, clock=clock,
                               flood_burst=1000) as bot:
            alice = Chat(bot, ALICE)
            await alice.say("/register")
            await alice.say("重启测试有限公司")
            assert "第3步" in await alice.say(credit_code(5, "410205"))  # a Kaifeng code
        async with running_bot(tmp_path, engine=engine, server=server, clock=clock,
                               flood_burst=1000) as bot:
            alice = Chat(bot, ALICE)
            assert "第4步" in await alice.press("开封市"), "the city button of the old prompt"
            await alice.press("跳过")
            await alice.press("化工")
            await answer_qualifiers(alice, await alice.press("完成"))
            await alice.say("王五")
            summary = await alice.say("13812345678")
            assert "重启测试有限公司" in summary and credit_code(5, "410205") in summary
            assert "开封市" in summary
            await alice.press("确认提交")
            assert enterprise_of_user(bot.db, ALICE) is not None


async def test_each_step_is_on_disk_at_once_so_a_kill_loses_nothing(
    tmp_path: Path, engine: Engine
) -> None:
    """No waiting for the 1 s persistence interval, no graceful shutdown: the copy of the
    database taken right after the step resumes the dialog (with its attachments)."""
    clock = FakeClock()
    killed = tmp_path / "killed"
    killed.mkdir()
    async with BotApiServer() as server:
        async with running_bot(tmp_path, engine=engine, server=server, clock=clock,
                               flood_burst=1000) as bot:
            alice = Chat(bot, ALICE)
            await register_approved(alice)
            await alice.say("/report")
            await alice.say("8")
            await alice.press("进行中")
            await alice.say("40")
            await alice.say("施工中")
            await alice.say("12月底")
            assert "已添加1个" in await alice.photo()
            path = tmp_path / "lvdong.sqlite"
            [(state,)] = on_disk(path, "SELECT state FROM conversations WHERE name = 'report'")
            assert json.loads(str(state)) == "ATTACH"
            [(data,)] = on_disk(path, f"SELECT data FROM user_data WHERE user_id = {ALICE}")
            assert json.loads(str(data))["report"]["percent"] == 40
            snapshot(path, killed / "lvdong.sqlite")
        async with running_bot(killed, engine=engine, server=server, clock=clock,
                               flood_burst=1000) as bot:
            alice = Chat(bot, ALICE)
            assert "已添加2个" in await alice.document()
            summary = await alice.press("完成")
            assert "进行中（完成约40%）" in summary and "附件：2个" in summary
            assert "报告编号 #1" in await alice.press("确认提交")


async def test_abandoned_dialog_times_out_with_a_note(tmp_path: Path, engine: Engine) -> None:
    async with running_bot(tmp_path, engine=engine, flood_burst=1000,
                           dialog_timeout=0.3) as bot:
        alice = Chat(bot, ALICE)
        await alice.say("/register")
        await alice.say("半途而废有限公司")
        await bot.api.wait_for(
            lambda: any(TIMED_OUT in c.params["text"] for c in bot.api.sent(ALICE)), 5.0
        )
        assert "企业登记已自动结束" in bot.api.sent(ALICE)[-1].params["text"]
        assert "register" not in bot.app.user_data[ALICE], "the draft is dropped"
        await alice.say("锅炉什么时候淘汰")
        assert len(bot.rows("SELECT * FROM questions")) == 1, "text is a question again"


async def test_dialog_abandoned_while_the_bot_was_down_gets_the_note_at_start_up(
    tmp_path: Path, engine: Engine
) -> None:
    clock = FakeClock()
    async with BotApiServer() as server:
        async with running_bot(tmp_path, engine=engine, server=server, clock=clock,
                               flood_burst=1000, dialog_timeout=600) as bot:
            alice = Chat(bot, ALICE)
            await register_approved(alice)
            await alice.say("/report")
            await alice.say("8")
        clock.advance(601)
        async with running_bot(tmp_path, engine=engine, server=server, clock=clock,
                               flood_burst=1000, dialog_timeout=600) as bot:
            notes = [c for c in bot.api.sent(ALICE) if TIMED_OUT in c.params["text"]]
            assert len(notes) == 1 and "进展填报已自动结束" in notes[0].params["text"]
            assert "report" not in bot.app.user_data.get(ALICE, {})
            assert on_disk(tmp_path / "lvdong.sqlite", "SELECT * FROM conversations") == []
            await Chat(bot, ALICE).say("锅炉什么时候淘汰")
            assert len(bot.rows("SELECT * FROM questions")) == 1


async def test_dialog_restored_after_a_restart_still_times_out(
    tmp_path: Path, engine: Engine
) -> None:
    """A restored dialog has no timeout job; its age is checked when the user comes back."""
    clock = FakeClock()
    async with BotApiServer() as server:
        async with running_bot(tmp_path, engine=engine, server=server, clock=clock,
                               flood_burst=1000, dialog_timeout=600) as bot:
            await Chat(bot, ALICE).say("/register")
        clock.advance(300)
        async with running_bot(tmp_path, engine=engine, server=server, clock=clock,
                               flood_burst=1000, dialog_timeout=600) as bot:
            assert not [c for c in bot.api.sent(ALICE) if TIMED_OUT in c.params["text"]][1:]
            clock.advance(400)
            reply = await Chat(bot, ALICE).say("迟到的公司名")
            assert "企业登记已自动结束" in reply
            assert "第1步" in await Chat(bot, ALICE).say("/register")
