"""``lvdong run`` killed with SIGKILL 2–8 ms after a reviewer's comment or an official's
confirm (the second probe's timings, issue 14 item 5), then restarted, repeatedly.

Each run: one review (one note to the enterprise) or one notice in the end, never
two; and the user hears about it — told it went through, before or after the kill,
or asked once more after the restart (then they do it again, as people do).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path

import pytest

from storage.db import open_db
from storage.reports import ReportDraft, add_report
from storage.users import Role, grant_role
from tests.bot_harness import plan_shape
from tests.bot_process import T0, ProcessChat, enterprise_users, eventually, kill, running
from tests.botapi_server import BotApiServer

ENTERPRISE, STAFF, OFFICIAL = 2001, 2101, 2102
DELAYS_MS = (2, 4, 6, 8)
AGAIN = "意外重启"  # asked once more after the restart
DONE = "已经完成了"  # a replayed confirm: told it went through


def on_disk(path: Path, sql: str) -> list[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return conn.execute(sql).fetchall()


def _prepare(db_path: Path) -> int:
    """An approved enterprise in 郑州市 with one report; staff and an official of the
    province. The report's id."""
    enterprise_users(db_path, [ENTERPRISE])
    db = open_db(db_path)
    try:
        grant_role(db, STAFF, Role.STAFF, (), T0)
        grant_role(db, OFFICIAL, Role.OFFICIAL, (), T0)
        enterprise_id = db.execute("SELECT enterprise_id FROM accounts WHERE user_id = ?",
                                   (ENTERPRISE,)).fetchone()[0]
        return add_report(db, ReportDraft(enterprise_id=enterprise_id, user_id=ENTERPRISE,
                                          task=2, status="进行中", description="施工中"),
                          T0, **plan_shape())
    finally:
        db.conn.close()


def _path(chat: ProcessChat, since: int, stored: str) -> str:
    """Which way the user heard of it, for the log: before the kill, after it, or asked."""
    heard = [w for w in (stored, DONE, AGAIN) if _seen(chat, since, w)]
    return "+".join(heard)


def _seen(chat: ProcessChat, since: int, *words: str) -> bool:
    return any(word in text for text in chat.shown(since) for word in words)


async def _waiting_at(db_path: Path, dialog: str, state: str) -> None:
    """The step before the kill is on disk (the probe kills at the confirm)."""
    await eventually(lambda: on_disk(
        db_path, f"SELECT state FROM conversations WHERE name = '{dialog}'") == [(f'"{state}"',)])


async def _killed_after(proc: asyncio.subprocess.Process, delay_ms: int) -> None:
    asyncio.get_running_loop().call_later(delay_ms / 1000, kill, proc)
    await asyncio.wait_for(proc.wait(), 20)


@pytest.mark.parametrize("delay_ms", DELAYS_MS)
async def test_a_review_comment_killed_at_the_probe_timings(
    tmp_path: Path, delay_ms: int
) -> None:
    db_path = tmp_path / "lvdong.sqlite"
    report_id = _prepare(db_path)
    stored = "已通知企业"
    async with BotApiServer() as server:
        api = server.api
        staff = ProcessChat(api, STAFF)
        async with running(server, db_path) as proc:
            await staff.say(f"/review {report_id} 有问题", "请输入问题")
            await _waiting_at(db_path, "review", "COMMENT")
            since = len(api.calls)
            api.send_text(STAFF, "照片看不清，请补拍")
            await _killed_after(proc, delay_ms)
        async with running(server, db_path):
            await api.wait_for(lambda: _seen(staff, since, stored, DONE, AGAIN), 15)
            print(f"review killed after {delay_ms} ms: {_path(staff, since, stored)}")
            if not _seen(staff, since, stored, DONE):  # asked once more: do it again
                await staff.say("照片看不清，请补拍", stored)
            await eventually(lambda: on_disk(
                db_path, "SELECT count(*) FROM outbox WHERE status IN ('queued', 'sending')"
            ) == [(0,)])
    assert on_disk(db_path, "SELECT count(*) FROM reviews") == [(1,)], delay_ms
    assert on_disk(db_path, "SELECT count(*) FROM outbox_messages WHERE kind = 'review'") == [(1,)]
    notes = [c for c in api.sent(ENTERPRISE) if "报告审核" in str(c.params.get("text"))]
    assert len(notes) <= 1, "the enterprise is told at most once"
    assert on_disk(db_path, "PRAGMA integrity_check") == [("ok",)]


@pytest.mark.parametrize("delay_ms", DELAYS_MS)
async def test_a_notice_confirm_killed_at_the_probe_timings(
    tmp_path: Path, delay_ms: int
) -> None:
    db_path = tmp_path / "lvdong.sqlite"
    _prepare(db_path)
    stored = "通知 #1"
    async with BotApiServer() as server:
        api = server.api
        official = ProcessChat(api, OFFICIAL)
        async with running(server, db_path) as proc:
            await official.say("/notify", "发给谁")
            await official.press("nt:aud:all", "通知内容")
            await official.say("请于本月底前完成门禁系统建设。", "预览")
            await _waiting_at(db_path, "notify", "PREVIEW")
            preview = official.newest_message()
            since = len(api.calls)
            api.click(OFFICIAL, OFFICIAL, preview, "nt:send")
            await _killed_after(proc, delay_ms)
        async with running(server, db_path):
            await api.wait_for(lambda: _seen(official, since, stored, DONE, AGAIN), 15)
            print(f"notice killed after {delay_ms} ms: {_path(official, since, stored)}")
            if not _seen(official, since, stored, DONE):  # asked once more: press again
                before = len(api.calls)
                api.click(OFFICIAL, OFFICIAL, preview, "nt:send")
                await official.wait(before, stored)
    assert on_disk(db_path, "SELECT count(*) FROM notices") == [(1,)], delay_ms
    assert on_disk(db_path, "PRAGMA integrity_check") == [("ok",)]
