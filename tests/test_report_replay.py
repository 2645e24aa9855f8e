"""A 确认提交 replayed after a crash files nothing twice (issue 9: duplicate reports).

The crash window: ``add_report`` has committed, the process dies before the dialog's
end reaches the disk, so the dialog state on disk still says CONFIRM with the whole
draft. :func:`snapshot` copies the database at exactly that moment (what a SIGKILL
leaves behind), and a bot started on the copy gets the replayed confirm.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from handlers.enterprise import report as report_dialog
from knowledge.engine import Engine
from tests.bot_harness import FakeClock, running_bot
from tests.botapi_server import BotApiServer
from tests.dialog_driver import Chat, register_approved, report
from tests.test_dialog_restart import on_disk, snapshot

ALICE = 1001


async def test_a_confirm_replayed_after_a_crash_gets_the_same_report(
    tmp_path: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    killed = tmp_path / "killed"
    killed.mkdir()
    real_add_report = report_dialog.add_report

    def add_report_then_die(*args: Any, **kwargs: Any) -> int:
        report_id = real_add_report(*args, **kwargs)
        snapshot(tmp_path / "lvdong.sqlite", killed / "lvdong.sqlite")  # killed right here
        return report_id

    async with BotApiServer() as server:
        async with running_bot(tmp_path, engine=engine, server=server, clock=clock,
                               flood_burst=1000) as bot:
            alice = Chat(bot, ALICE)
            await register_approved(alice)
            monkeypatch.setattr(report_dialog, "add_report", add_report_then_die)
            assert "报告编号 #1" in await report(alice)
            monkeypatch.undo()
        path = killed / "lvdong.sqlite"
        assert on_disk(path, "SELECT count(*) FROM reports") == [(1,)]
        assert on_disk(path, "SELECT state FROM conversations WHERE name = 'report'") == [
            ('"CONFIRM"',)], "the crash window: committed, the dialog still at CONFIRM"
        async with running_bot(killed, engine=engine, server=server, clock=clock,
                               flood_burst=1000) as bot:
            alice = Chat(bot, ALICE)
            assert "请核对以上信息" in await alice.say("好了吗？")  # no answer seen: asks again
            reply = await alice.press("确认提交")  # and confirms again
            assert "已经提交过了（报告编号 #1）" in reply
            assert bot.rows("SELECT count(*) AS n FROM reports") == [{"n": 1}]
            assert "报告编号 #2" in await report(alice, task=9), "the dialog had ended"
