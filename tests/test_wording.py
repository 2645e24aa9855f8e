"""Issue 17's wording list: /pending names the applicant, /audit reads as Chinese with
Beijing times, 谢谢 is not a question, an enterprise's /start names /register and
/report."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from knowledge.engine import Engine
from storage import audit
from storage.enterprises import register
from storage.users import Role, grant_role, touch_user
from tests.bot_harness import FakeClock, RunningBot, running_bot
from tests.dialog_driver import Chat, credit_code

ADMIN = 900
STAFF = 21


@pytest.fixture
async def bot(tmp_path: Path, engine: Engine) -> object:
    clock = FakeClock()
    async with running_bot(tmp_path, engine=engine, clock=clock, admins=frozenset({ADMIN}),
                           flood_burst=10_000) as running:
        grant_role(running.db, STAFF, Role.STAFF, ["郑州市"], clock())
        yield running


async def test_pending_names_the_applicant(bot: RunningBot) -> None:
    touch_user(bot.db, 10001, "张经理", bot.clock())
    register(bot.db, user_id=10001, name="名称测试有限公司", credit_code=credit_code(70),
             city="郑州市", county=None, industries=["化工"], contact_name="赵六",
             phone="13812345678", now=bot.clock())
    shown = await Chat(bot, STAFF).say("/pending")
    assert "Telegram 用户：张经理（ID 10001）" in shown


async def test_audit_reads_as_chinese_in_beijing_time(bot: RunningBot) -> None:
    now = bot.clock()
    audit.record(bot.db, actor_id=0, action="grant", subject="user:20", now=now, role="staff")
    audit.record(bot.db, actor_id=STAFF, action="review", subject="report:3", now=now,
                 verdict="verified", review=1)
    audit.record(bot.db, actor_id=ADMIN, action="notify", subject="notice:2", now=now,
                 send_at=(now + dt.timedelta(days=1)).isoformat())
    shown = await Chat(bot, ADMIN).say("/audit")
    assert "用户0" not in shown and "命令行" in shown
    assert "verdict=" not in shown and "已核实" in shown
    assert "send_at" not in shown and "2021-06-02 10:00" in shown
    assert "北京时间" in shown


async def test_thanks_is_not_a_question(bot: RunningBot) -> None:
    answer = await Chat(bot, 5555).say("谢谢")
    assert "请用文字描述" not in answer and "不客气" in answer


async def test_an_enterprise_start_names_register_and_report(bot: RunningBot) -> None:
    shown = await Chat(bot, 5555).say("/start")
    assert "/register" in shown and "/report" in shown


async def test_steps_are_numbered_without_gaps_when_done(bot: RunningBot) -> None:
    """已完成 asks no percentage: 第2步 is followed by 第3步, not 第4步."""
    from storage.enterprises import approve

    registration = register(
        bot.db, user_id=6161, name="步骤测试有限公司", credit_code=credit_code(71),
        city="郑州市", county=None, industries=["化工"], contact_name="赵六",
        phone="13812345678", now=bot.clock())
    approve(bot.db, account_id=registration.account.id, approver_id=ADMIN,
            admins=frozenset({ADMIN}), now=bot.clock())
    owner = Chat(bot, 6161)
    await owner.say("/report")
    await owner.say("5")
    described = await owner.press("已完成")
    assert "第3步：请简要说明" in described and "第4步" not in described
    assert "第4步：请输入实际完成日期" in await owner.say("设备已验收")


def test_the_time_example_is_a_date_to_come(bot: RunningBot) -> None:
    from handlers.officials.notify import when_prompt

    class Stub:
        bot_data = bot.app.bot_data

    text, _ = when_prompt(Stub())  # type: ignore[arg-type]
    assert "2021-06-02 09:00" in text and "2026-12-05" not in text
