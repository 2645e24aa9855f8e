"""Every state-changing confirm is idempotent by its dialog's token (issue 14, item 5).

The crash window: the result has committed, the process dies before the dialog's end
reaches the disk, and Telegram delivers the same update again after the restart.
:func:`snapshot` copies the database at exactly that moment (what a SIGKILL leaves
behind); a bot started on the copy gets the same update again
(``LocalBotApi.redeliver``). One review, one notice, and the user is told it went
through. A dialog state restored without its draft ends with a message, not an error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from handlers.core.errors import SORRY
from handlers.officials import notify as notify_dialog
from handlers.staff import review as review_dialog
from knowledge.engine import Engine
from storage.conversations import save_conversation
from storage.db import open_db
from storage.users import Role, grant_role
from tests.bot_harness import FakeClock, RunningBot, running_bot
from tests.botapi_server import BotApiServer
from tests.dialog_driver import Chat
from tests.test_dialog_restart import on_disk, snapshot
from tests.test_officials import OFFICIAL_PROVINCE, ZZ, _setup, beijing

STAFF = 6100
NOW = beijing(2026, 12, 1, 10, 0)
DONE = "已经完成了"


def _prepare(path: Path) -> None:
    _setup(path, NOW)
    db = open_db(path / "lvdong.sqlite")
    grant_role(db, STAFF, Role.STAFF, (), NOW)
    db.conn.close()


def _prepare_to_kill(path: Path) -> tuple[Path, FakeClock]:
    """The database in ``path``, a directory for its copy at the kill, and the clock."""
    _prepare(path)
    killed = path / "killed"
    killed.mkdir()
    return killed, FakeClock(NOW)


def _killed_after(module: Any, name: str, source: Path, target: Path) -> Callable[..., Any]:
    """``module.name`` that snapshots the database right after it ran (committed)."""
    real = getattr(module, name)

    def run_then_die(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        snapshot(source / "lvdong.sqlite", target / "lvdong.sqlite")  # killed right here
        return result

    return run_then_die


async def _notice_confirmed_then_killed(
    server: BotApiServer, path: Path, killed: Path, clock: FakeClock, engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> int:
    """An official confirms a notice; the database is copied to ``killed`` right after the
    notice was stored (the kill). The confirm's update id."""
    async with running_bot(path, engine=engine, server=server, clock=clock,
                           flood_burst=1000) as bot:
        official = Chat(bot, OFFICIAL_PROVINCE)
        await official.say("/notify")
        await official.press("全部已审核企业")
        await official.say("请于本月底前完成门禁系统建设。")
        monkeypatch.setattr(notify_dialog, "card",
                            _killed_after(notify_dialog, "card", path, killed))
        message_id, data = official.button("立即发送")
        update_id = bot.api.click(OFFICIAL_PROVINCE, OFFICIAL_PROVINCE, message_id, data)
        await bot.wait_processed(update_id)
        monkeypatch.undo()
    return update_id


def _report_id(path: Path) -> int:
    return int(on_disk(path / "lvdong.sqlite", "SELECT max(id) FROM reports")[0][0])


def _told(bot: RunningBot, since: int, user_id: int, text: str) -> int:
    return sum(text in str(call.params.get("text", "")) for call in bot.api.calls[since:]
               if call.method == "sendMessage" and call.params.get("chat_id") == user_id)


@pytest.mark.parametrize("verdict", ["有问题", "已核实"])
async def test_a_review_replayed_after_a_crash_is_stored_once_and_told_once(
    tmp_path: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch, verdict: str
) -> None:
    killed, clock = _prepare_to_kill(tmp_path)
    report_id = _report_id(tmp_path)
    async with BotApiServer() as server:
        async with running_bot(tmp_path, engine=engine, server=server, clock=clock,
                               flood_burst=1000) as bot:
            staff = Chat(bot, STAFF)
            monkeypatch.setattr(review_dialog, "record",
                                _killed_after(review_dialog, "record", tmp_path, killed))
            if verdict == "有问题":
                assert "请输入问题" in await staff.say(f"/review {report_id} 有问题")
                update_id = bot.api.send_text(STAFF, "门禁照片看不清")
            else:
                update_id = bot.api.send_text(STAFF, f"/review {report_id} 已核实")
            await bot.wait_processed(update_id)
            monkeypatch.undo()
        assert on_disk(killed / "lvdong.sqlite", "SELECT count(*) FROM reviews") == [(1,)]
        since = len(server.api.calls)  # the restart may send what the killed run queued
        async with running_bot(killed, engine=engine, server=server, clock=clock,
                               flood_burst=1000) as bot:
            server.api.redeliver(update_id)  # Telegram sends the unconfirmed update again
            await bot.wait_processed(update_id)
            await bot.outbox_drained()
            assert bot.rows("SELECT count(*) AS n FROM reviews") == [{"n": 1}]
            assert _told(bot, since, ZZ[0], "报告审核") == 1, "the enterprise is told once"
            assert _told(bot, since, STAFF, DONE) == 1, "the reviewer is told it went through"
            assert _told(bot, since, STAFF, SORRY) == 0


async def test_a_notice_confirm_replayed_after_a_crash_queues_one_notice(
    tmp_path: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    killed, clock = _prepare_to_kill(tmp_path)
    async with BotApiServer() as server:
        update_id = await _notice_confirmed_then_killed(
            server, tmp_path, killed, clock, engine, monkeypatch)
        assert on_disk(killed / "lvdong.sqlite", "SELECT count(*) FROM notices") == [(1,)]
        since = len(server.api.calls)
        async with running_bot(killed, engine=engine, server=server, clock=clock,
                               flood_burst=1000) as bot:
            server.api.redeliver(update_id)
            await bot.wait_processed(update_id)
            assert bot.rows("SELECT count(*) AS n FROM notices") == [{"n": 1}]
            assert _told(bot, since, OFFICIAL_PROVINCE, "通知 #1") == 1


async def test_a_state_restored_without_its_draft_ends_with_a_message(
    tmp_path: Path, engine: Engine
) -> None:
    """What a crash between two separate commits used to leave (issue 14): the review
    dialog waiting for a comment, its draft gone. Every later message raised KeyError."""
    _prepare(tmp_path)
    db = open_db(tmp_path / "lvdong.sqlite")
    save_conversation(db, "review", (STAFF, STAFF), "COMMENT", NOW - dt.timedelta(minutes=1))
    db.conn.close()
    async with running_bot(tmp_path, engine=engine, clock=FakeClock(NOW),
                           flood_burst=1000) as bot:
        staff = Chat(bot, STAFF)
        reply = await staff.say("材料不全")
        assert "填写的内容已丢失" in reply and "/review" in reply and SORRY not in reply
        assert bot.rows("SELECT count(*) AS n FROM reviews") == [{"n": 0}]
        # the dialog is over: a new one starts normally
        assert "请输入问题" in await staff.say(f"/review {_report_id(tmp_path)} 有问题")


async def test_after_a_crash_a_user_waiting_at_the_last_step_is_asked_once_more(
    tmp_path: Path, engine: Engine
) -> None:
    """The probe's lost confirm: pressed just before the kill, the update acknowledged to
    Telegram but never handled. After the restart the official is told to press again
    (once), pressing again queues the notice; a clean restart says nothing."""
    killed, clock = _prepare_to_kill(tmp_path)
    async with BotApiServer() as server:
        async with running_bot(tmp_path, engine=engine, server=server, clock=clock,
                               flood_burst=1000) as bot:
            official = Chat(bot, OFFICIAL_PROVINCE)
            await official.say("/notify")
            await official.press("全部已审核企业")
            await official.say("请于本月底前完成门禁系统建设。")
            snapshot(tmp_path / "lvdong.sqlite", killed / "lvdong.sqlite")  # killed here
        async with running_bot(killed, engine=engine, server=server, clock=clock,
                               flood_burst=1000) as bot:
            await bot.outbox_drained()
            official = Chat(bot, OFFICIAL_PROVINCE)
            notes = [t for t in bot.api.calls if t.method == "sendMessage"
                     and "意外重启" in str(t.params.get("text"))
                     and t.params.get("chat_id") == OFFICIAL_PROVINCE]
            assert len(notes) == 1 and "发送通知" in notes[0].params["text"]
            assert "通知 #1" in await official.press("立即发送")
        async with running_bot(killed, engine=engine, server=server, clock=clock,
                               flood_burst=1000) as bot:  # after a clean stop
            await bot.outbox_drained()
            notes = [t for t in bot.api.calls if "意外重启" in str(t.params.get("text"))]
            assert len(notes) == 1, "no new note"


async def test_a_confirm_telegram_hands_over_again_is_not_asked_for_once_more(
    tmp_path: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The crashed run fetched the confirm but never confirmed it to Telegram, so it is
    waiting when the bot starts again: the dialog goes on by itself, and the official is
    not also asked to press again (the two notes contradicted each other)."""
    killed, clock = _prepare_to_kill(tmp_path)
    async with BotApiServer() as server:
        update_id = await _notice_confirmed_then_killed(
            server, tmp_path, killed, clock, engine, monkeypatch)
        since = len(server.api.calls)
        server.api.redeliver(update_id)  # waiting at Telegram before the bot is back
        async with running_bot(killed, engine=engine, server=server, clock=clock,
                               flood_burst=1000) as bot:
            await bot.wait_processed(update_id)
            await bot.outbox_drained()
            assert bot.rows("SELECT count(*) AS n FROM notices") == [{"n": 1}]
            assert _told(bot, since, OFFICIAL_PROVINCE, "通知 #1") == 1
            assert _told(bot, since, OFFICIAL_PROVINCE, "意外重启") == 0
