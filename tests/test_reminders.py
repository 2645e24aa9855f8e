"""Deadline reminders, driven by the database, with an injected clock.

The shipped plan: task 2 (落后产能, industries 铸造 and 岩棉) is due 2021-10-31
(``kb:2:1``) and 2021-12-31 (``kb:2:2``). Reminders go out from 09:00 Beijing time
on their day, through the outbox, to the Bot API stand-in.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlite_utils import Database

from handlers.delivery.reminders import run_reminders
from knowledge.engine import Engine
from storage.calendar import add_deadline
from storage.clock import SHANGHAI
from storage.db import open_db
from storage.enterprises import approve, register
from storage.qualifiers import set_qualifiers
from storage.reminders import runs_of
from storage.reports import ReportDraft, add_report
from storage.users import Role, grant_role
from tests.bot_harness import FakeClock, RunningBot, plan_shape, running_bot
from tests.botapi_server import BotApiServer
from tests.dialog_driver import credit_code

CASTING_ZZ, CASTING_LY_DONE, TEXTILE, PENDING = 5001, 5002, 5003, 5004
OFFICIAL_ZZ, OFFICIAL_PROVINCE, OFFICIAL_LY = 6001, 6002, 6003
ADMIN = 900


def beijing(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI).astimezone(dt.UTC)


def _enterprise(db: Database, now: dt.datetime, user: int, city: str, industry: str, *,
                approved: bool = True) -> int:
    registration = register(
        db, user_id=user, name=f"企业{user}", credit_code=credit_code(user), city=city,
        county=None, industries=[industry], contact_name="联系人", phone="13800000000",
        now=now,
    )
    if approved:
        approve(db, account_id=registration.account.id, approver_id=ADMIN,
                admins=frozenset({ADMIN}), now=now)
    return registration.enterprise.id


def _setup(path: Path, now: dt.datetime) -> None:
    """Enterprises and officials, in the database before the bot starts."""
    db = open_db(path / "lvdong.sqlite")
    _enterprise(db, now, CASTING_ZZ, "郑州市", "铸造")
    done = _enterprise(db, now, CASTING_LY_DONE, "洛阳市", "铸造")
    add_report(db, ReportDraft(enterprise_id=done, user_id=CASTING_LY_DONE, task=2,
                               status="已完成", description="已淘汰"), now,
               **plan_shape())
    _enterprise(db, now, TEXTILE, "郑州市", "纺织")
    _enterprise(db, now, PENDING, "郑州市", "铸造", approved=False)
    grant_role(db, OFFICIAL_ZZ, Role.OFFICIAL, ["郑州市"], now)
    grant_role(db, OFFICIAL_PROVINCE, Role.OFFICIAL, (), now)
    grant_role(db, OFFICIAL_LY, Role.OFFICIAL, ["洛阳市"], now)
    db.conn.close()


def received(bot: RunningBot, chat: int, marker: str, task: int = 2) -> list[str]:
    """What ``chat`` got with ``marker`` about ``task`` (task 13, for every enterprise,
    falls due on the same day as task 2's first deadline)."""
    return [text for text in (str(c.params["text"]) for c in bot.api.sent(chat))
            if marker in text and f"任务{task}“" in text]


async def _tick(bot: RunningBot) -> int:
    planned = run_reminders(bot.app.bot_data, bot.app.bot_data.reminders)
    await bot.outbox_drained()
    return planned


async def test_reminders_at_each_offset_skip_the_done_and_never_repeat(
    tmp_path: Path, engine: Engine
) -> None:
    clock = FakeClock(beijing(2021, 9, 30, 12, 0))
    _setup(tmp_path, clock.now)
    server = await BotApiServer().__aenter__()
    async with running_bot(tmp_path, engine=engine, clock=clock, server=server) as bot:
        clock.now = beijing(2021, 10, 1, 8, 59)
        await _tick(bot)
        assert not received(bot, CASTING_ZZ, "截止提醒"), "not before 09:00 Beijing time"

        clock.now = beijing(2021, 10, 1, 9, 0)
        await _tick(bot)
        [note] = received(bot, CASTING_ZZ, "截止提醒")
        assert "任务2" in note and "还有30天" in note and "2021年10月31日" in note
        assert not received(bot, CASTING_LY_DONE, "截止提醒"), "reported 已完成: skipped"
        assert not received(bot, TEXTILE, "截止提醒"), "task 2 does not concern textiles"
        assert not received(bot, PENDING, "截止提醒"), "not approved yet"
        [run] = [r for r in runs_of(bot.db, "kb:2:1") if r.kind == "before:30"]
        assert (run.recipients, run.skipped, run.stale) == (1, 1, False)

        assert await _tick(bot) == 0, "the same day again plans nothing"
        for day in range(2, 25):  # the bot ticks all along (a 23-day jump would be held)
            clock.now = beijing(2021, 10, day, 9, 30)
            await _tick(bot)
        assert any("还有7天" in text for text in received(bot, CASTING_ZZ, "截止提醒"))
        assert len(received(bot, CASTING_ZZ, "截止提醒")) == 2

    # a restart the same day neither repeats nor loses anything
    async with running_bot(tmp_path, engine=engine, clock=clock, server=server) as again:
        await again.outbox_drained()
        assert await _tick(again) == 0
        assert len(received(again, CASTING_ZZ, "截止提醒")) == 2
    await server.stop()


async def test_days_missed_while_down_are_caught_up_once_and_old_ones_are_not_sent(
    tmp_path: Path, engine: Engine
) -> None:
    clock = FakeClock(beijing(2021, 10, 24, 10, 0))
    _setup(tmp_path, clock.now)
    server = await BotApiServer().__aenter__()
    async with running_bot(tmp_path, engine=engine, clock=clock, server=server) as bot:
        await bot.outbox_drained()  # start-up planned today: 30 days before is stale by now
        assert [r.stale for r in runs_of(bot.db, "kb:2:1") if r.kind == "before:30"] == [True]
        assert len(received(bot, CASTING_ZZ, "截止提醒")) == 1, "only the 7-day note"
    # down from 10-25 to 11-02: the 1-day note (10-30) and the day-after runs (11-01)
    clock.now = beijing(2021, 11, 2, 10, 0)
    async with running_bot(tmp_path, engine=engine, clock=clock, server=server) as again:
        await again.outbox_drained()  # start-up plans what was missed
        # the 1-day note would arrive after the deadline: superseded by the overdue notice
        assert not any("还有1天" in t for t in received(again, CASTING_ZZ, "截止提醒"))
        assert [r.stale for r in runs_of(again.db, "kb:2:1") if r.kind == "before:1"] == [True]
        [overdue] = received(again, CASTING_ZZ, "逾期提醒")
        assert "截止日期已过" in overdue and "/report" in overdue
        assert not received(again, CASTING_LY_DONE, "逾期提醒")
        [zz] = received(again, OFFICIAL_ZZ, "逾期汇总")
        assert "郑州市1家" in zz and "郑州市" in zz
        [province] = received(again, OFFICIAL_PROVINCE, "逾期汇总")
        assert "<b>1</b>家" in province
        assert not received(again, OFFICIAL_LY, "逾期汇总"), "nothing overdue in Luoyang"
        assert await _tick(again) == 0
        assert len(received(again, CASTING_ZZ, "逾期提醒")) == 1, "caught up once"

    # months later: the second deadline's runs are all too late to send, and are recorded
    clock.now = beijing(2022, 3, 1, 10, 0)
    async with running_bot(tmp_path, engine=engine, clock=clock, server=server) as late:
        await late.outbox_drained()
        runs = runs_of(late.db, "kb:2:2")
        assert runs and all(run.stale for run in runs)
        assert not any("2021年12月31日" in t for t in received(late, CASTING_ZZ, "提醒"))
    await server.stop()


async def test_a_run_due_at_night_waits_for_the_window_and_counts_days_from_sending(
    tmp_path: Path, engine: Engine
) -> None:
    """Issue 15: a deadline added at 01:52 for 24 days ahead said "还有30天" at 01:52."""
    clock = FakeClock(beijing(2021, 6, 1, 1, 52))
    _setup(tmp_path, clock.now)
    db = open_db(tmp_path / "lvdong.sqlite")
    add_deadline(db, task=2, due=dt.date(2021, 6, 25), what="报送冲天炉淘汰计划",
                 industries=(), regions=(), by=OFFICIAL_PROVINCE, now=clock.now)
    db.conn.close()
    async with running_bot(tmp_path, engine=engine, clock=clock) as bot:
        assert await _tick(bot) == 0, "01:52 is outside the window"
        assert not received(bot, CASTING_ZZ, "报送冲天炉淘汰计划")
        clock.now = beijing(2021, 6, 1, 21, 30)
        assert await _tick(bot) == 0, "after the window closes, too"
        clock.now = beijing(2021, 6, 2, 9, 0)
        await _tick(bot)
        [note] = [t for t in received(bot, CASTING_ZZ, "截止提醒")
                  if "报送冲天炉淘汰计划" in t]
        assert "还有23天" in note, "counted from the day it is sent, not the day it was due"
        assert "还有30天" not in note


async def test_a_start_date_is_reminded_before_and_never_overdue(
    tmp_path: Path, engine: Engine
) -> None:
    """Task 23: existing Yellow River dischargers apply the standard from 2022-09-01."""
    clock = FakeClock(beijing(2022, 7, 1, 12, 0))
    db = open_db(tmp_path / "lvdong.sqlite")
    existing = _enterprise(db, clock.now, CASTING_ZZ, "郑州市", "化工")
    unsure = _enterprise(db, clock.now, TEXTILE, "郑州市", "化工")
    set_qualifiers(db, existing, {"yellow_river_existing": "yes"}, actor_id=None, now=clock.now)
    set_qualifiers(db, unsure, {"yellow_river_existing": "unknown"}, actor_id=None, now=clock.now)
    db.conn.close()
    clock.now = beijing(2022, 8, 2, 9, 0)
    server = await BotApiServer().__aenter__()
    async with running_bot(tmp_path, engine=engine, clock=clock, server=server) as bot:
        await _tick(bot)
        [note] = received(bot, CASTING_ZZ, "执行提醒", task=23)
        assert "2022年9月1日起" in note and "还有30天起执行" in note
        assert "截止" not in note and "过期" not in note
        assert not received(bot, TEXTILE, "提醒", task=23), "不清楚 counts as not concerned"
    clock.now = beijing(2022, 9, 5, 9, 0)  # down until after the date
    async with running_bot(tmp_path, engine=engine, clock=clock, server=server) as again:
        await _tick(again)
        assert not received(again, CASTING_ZZ, "逾期", task=23)
        assert len(received(again, CASTING_ZZ, "提醒", task=23)) == 1, "nothing after the date"
        runs = {r.kind: r.stale for r in runs_of(again.db, "kb:23:2")}
        assert runs == {"before:30": False, "before:7": True, "before:1": True}
    await server.stop()
