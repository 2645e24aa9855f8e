"""Another plan's YAML works with the same code: its task numbers, statuses, audience,
deadlines and title flow through registration, /report, /myreports, reminders and the
staff's views."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from handlers.delivery.reminders import run_reminders
from knowledge.engine import load_engine
from storage.clock import SHANGHAI
from storage.reminders import set_clock_mark
from storage.users import Role, grant_role
from tests.bot_harness import FakeClock, running_bot
from tests.dialog_driver import Chat, register_approved

OTHER_PLAN = Path(__file__).parent / "data" / "other-plan.yaml"
ALICE, STAFF = 1201, 1301


async def test_another_plan_runs_end_to_end(tmp_path: Path) -> None:
    clock = FakeClock(dt.datetime(2027, 1, 10, 2, 0, tzinfo=dt.UTC))
    async with running_bot(tmp_path, engine=load_engine(OTHER_PLAN), clock=clock,
                           flood_burst=1000) as bot:
        alice = Chat(bot, ALICE)
        assert "《2027年测试市工业减排方案》" in await alice.say("/start")
        await register_approved(alice)
        await alice.say("/report")
        assert {"30. 锅炉低氮改造", "31. 建立环保台账"} <= set(alice.labels())
        assert "任务30：锅炉低氮改造" in await alice.say("30")
        assert {"计划中", "施工中", "已验收"} <= set(alice.labels())
        assert "百分之多少" in await alice.press("施工中")
        await alice.say("40")
        await alice.say("正在更换低氮燃烧器")
        await alice.say("2027-06-15")
        await alice.press("完成")
        assert "已收到" in await alice.press("确认提交")
        assert bot.rows("SELECT task, status, percent FROM reports") == [
            {"task": 30, "status": "施工中", "percent": 40}]
        assert "30. 锅炉低氮改造 — 施工中 40%" in await alice.say("/myreports")

        clock.now = dt.datetime(2027, 3, 1, 9, 0, tzinfo=SHANGHAI).astimezone(dt.UTC)
        set_clock_mark(bot.db, clock.now)  # months pass at once: confirmed, as an admin would
        run_reminders(bot.app.bot_data, bot.app.bot_data.reminders)
        await bot.outbox_drained()
        [note] = [c.params["text"] for c in bot.api.sent(ALICE) if "截止提醒" in c.params["text"]]
        assert "任务31" in note and "还有30天" in note and "“已验收”" in note

        grant_role(bot.db, STAFF, Role.STAFF, (), clock())
        found = await Chat(bot, STAFF).say("/reports 任务30 施工中")
        assert "共1条" in found and "锅炉低氮" in found
        assert "1到26" not in await Chat(bot, STAFF).say("/reports 任务26")
