"""``lvdong run`` killed with SIGKILL (no shutdown, no flush): mid-burst of /report
confirmations every acknowledged report survives and the database is intact; mid-dialog
the dialog resumes where the user was."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sqlite3
from collections import Counter
from pathlib import Path

from bot.local_api import ApiCall
from tests.bot_process import ProcessChat, enterprise_users, eventually, kill, running
from tests.botapi_server import BotApiServer

USERS = range(2001, 2011)  # 10 enterprises, each with its own user
KILL_AFTER_ACKS = 3  # SIGKILL when this many users have been told their report's number
# "已收到" when filed; "已经提交过了" when a confirm comes again for a filed report (a
# replayed update after the restart, or the user pressing again): the same number
ACK = re.compile(r"(?:已收到，报告编号|已经提交过了（报告编号) #(\d+)")


def on_disk(path: Path, sql: str) -> list[tuple[object, ...]]:
    """Read with a fresh connection: what is committed (a left -wal is read too)."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchall()


def acknowledged(calls: list[ApiCall]) -> dict[int, int]:
    """user id → report number the bot told them, from the messages that reached Telegram."""
    acks = {}
    for call in calls:
        if call.method == "sendMessage":
            found = ACK.search(re.sub(r"<[^>]+>", "", str(call.params.get("text", ""))))
            if found:
                acks[int(call.params["chat_id"])] = int(found.group(1))
    return acks


async def to_confirm_step(chat: ProcessChat) -> None:
    await chat.say("/report", "第1步")
    await chat.say("1", "第2步")
    await chat.press("rp:st:1", "第3步")  # 进行中
    await chat.say("60", "第4步")
    await chat.say(f"第{chat.user_id}号企业锅炉改造施工中", "第5步")
    await chat.say("12月底", "第6步")
    await chat.press("rp:done", "请核对")


def assert_intact_with_every_ack(db_path: Path, acks: dict[int, int]) -> dict[int, int]:
    assert on_disk(db_path, "PRAGMA integrity_check") == [("ok",)]
    rows = on_disk(db_path, "SELECT id, user_id, description FROM reports")
    stored = {int(str(rid)): (int(str(uid)), str(text)) for rid, uid, text in rows}
    for user_id, report_id in acks.items():
        assert stored.get(report_id) == (user_id, f"第{user_id}号企业锅炉改造施工中"), user_id
    return Counter(uid for uid, _ in stored.values())


async def test_sigkill_mid_burst_loses_no_acknowledged_report(tmp_path: Path) -> None:
    db_path = tmp_path / "lvdong.sqlite"
    enterprise_users(db_path, USERS)
    async with BotApiServer() as server:
        api = server.api
        async with running(server, db_path) as proc:
            chats = [ProcessChat(api, user_id) for user_id in USERS]
            await asyncio.gather(*(to_confirm_step(chat) for chat in chats))

            def kill_mid_burst(call: ApiCall) -> None:
                if len(acknowledged(api.calls)) >= KILL_AFTER_ACKS:
                    kill(proc)

            api.listeners.append(kill_mid_burst)
            for chat in chats:  # the burst: everybody presses 确认提交 at once
                api.click(chat.user_id, chat.user_id, chat.newest_message(), "rp:ok")
            await asyncio.wait_for(proc.wait(), 20)
            api.listeners.remove(kill_mid_burst)
        acks = acknowledged(api.calls)
        assert KILL_AFTER_ACKS <= len(acks) < len(USERS), "killed in the middle of the burst"
        assert_intact_with_every_ack(db_path, acks)

        async with running(server, db_path):  # the restart; unconfirmed updates come again
            # who was not told "已收到" presses 确认提交 again, as people do
            await asyncio.gather(*(chat.press("rp:ok", "") for chat in chats
                                   if chat.user_id not in acks))
            # any message answers the press (a "please confirm again" note after the
            # unclean stop may come first): wait until every user was told a number
            await eventually(lambda: set(acknowledged(api.calls)) == set(USERS))
        after = acknowledged(api.calls)
        assert {u: after[u] for u in acks} == acks, "an acknowledgement never changes"
        per_user = assert_intact_with_every_ack(db_path, after)
        assert set(per_user) == set(USERS), "every confirmed report is filed in the end"
        duplicated = sorted(u for u, n in per_user.items() if n > 1)
        print(f"users with a duplicate report after the replayed confirm: {duplicated}")
        assert duplicated == [], "a confirm pressed again filed the report twice"


async def test_sigkill_mid_dialog_resumes_at_the_same_step(tmp_path: Path) -> None:
    db_path = tmp_path / "lvdong.sqlite"
    user = 2001
    enterprise_users(db_path, [user])
    async with BotApiServer() as server:
        chat = ProcessChat(server.api, user)
        async with running(server, db_path) as proc:
            await chat.say("/report", "第1步")
            await chat.say("1", "第2步")
            await chat.press("rp:st:1", "第3步")
            state = "SELECT state FROM conversations WHERE name = 'report'"
            # the step is committed: killed from here on, it must stay
            await eventually(lambda: on_disk(db_path, state) == [(json.dumps("PERCENT"),)])
            kill(proc)
        async with running(server, db_path):
            assert "第4步" in await chat.say("60", "第4步")
            await chat.say("施工中", "第5步")
            await chat.say("12月底", "第6步")
            summary = await chat.press("rp:done", "请核对")
            assert "进行中（完成约60%）" in summary
            await chat.press("rp:ok", "已收到")
    assert on_disk(db_path, "SELECT user_id, percent, description FROM reports") == [
        (user, 60, "施工中")
    ]
