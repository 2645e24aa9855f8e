"""A clock jump does not send everything (issue 14, item 7): reminders are planned only
for a plausible clock; a jump waits for an admin's confirmation; stale runs recorded by
a clock ahead are planned again when it is back."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from knowledge.engine import Engine
from storage.db import open_db
from storage.reminders import clock_mark, runs_of
from tests.bot_harness import FakeClock
from tests.command_line import lvdong
from tests.dialog_driver import Chat
from tests.test_reminders import CASTING_ZZ, _setup, _tick, beijing, received, running_bot

ADMIN = 900


async def test_a_jump_ahead_and_back_sends_nothing_and_loses_nothing(
    tmp_path: Path, engine: Engine
) -> None:
    clock = FakeClock(beijing(2021, 9, 30, 12, 0))
    _setup(tmp_path, clock.now)
    async with running_bot(tmp_path, engine=engine, clock=clock) as bot:
        clock.now = beijing(2021, 10, 1, 9, 0)
        await _tick(bot)
        assert len(received(bot, CASTING_ZZ, "截止提醒")) == 1  # 30 days before

        clock.now = beijing(2021, 11, 12, 9, 0)  # 42 days ahead while running
        assert await _tick(bot) == 0
        assert not received(bot, CASTING_ZZ, "逾期提醒")
        assert not any("还有1天" in t for t in received(bot, CASTING_ZZ, "截止提醒"))

        clock.now = beijing(2021, 10, 1, 9, 10)  # corrected
        await _tick(bot)
        for day in range(2, 25):  # then the days pass, one tick a day
            clock.now = beijing(2021, 10, day, 9, 0)
            await _tick(bot)
        notes = received(bot, CASTING_ZZ, "截止提醒")
        assert len(notes) == 2 and "还有7天" in notes[-1], "the 7-day note, not stale"
        assert not any(run.stale for run in runs_of(bot.db, "kb:2:1"))


async def test_a_confirmed_jump_that_is_undone_plans_its_stale_runs_again(
    tmp_path: Path, engine: Engine
) -> None:
    clock = FakeClock(beijing(2021, 9, 30, 12, 0))
    _setup(tmp_path, clock.now)
    async with running_bot(tmp_path, engine=engine, clock=clock, flood_burst=100) as bot:
        await _tick(bot)
        clock.now = beijing(2021, 11, 12, 9, 0)
        assert await _tick(bot) == 0
        admin = Chat(bot, ADMIN)
        assert "跳变" in await admin.say("/clock")
        assert "已确认" in await admin.say("/clock 确认")
        await _tick(bot)  # the admin confirmed: the runs of the last days go, the rest stale
        assert any(run.stale for run in runs_of(bot.db, "kb:2:1"))

        clock.now = beijing(2021, 10, 24, 9, 30)  # the clock was wrong after all
        assert await _tick(bot) == 0, "back: waits for confirmation too"
        await admin.say("/clock 确认")
        await _tick(bot)
        assert any("还有7天" in t for t in received(bot, CASTING_ZZ, "截止提醒")), (
            "the stale 7-day run was planned again")


def test_lvdong_doctor_confirms_the_clock(tmp_path: Path) -> None:
    db_path = tmp_path / "lvdong.sqlite"
    open_db(db_path).conn.close()
    result = lvdong("doctor", "--confirm-clock", env={"LVDONG_DB": str(db_path)})
    assert "时钟" in result.stdout, result.stderr
    mark = clock_mark(open_db(db_path))
    assert mark is not None and abs(mark - dt.datetime.now(dt.UTC)) < dt.timedelta(hours=1)
