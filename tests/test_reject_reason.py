"""Issue 17: rejecting a registration asks for a reason (buttons for the common ones, or
typed) and a confirmation; the applicant is told the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.engine import Engine
from storage.enterprises import register
from storage.users import Role, grant_role
from tests.bot_harness import FakeClock, RunningBot, running_bot
from tests.dialog_driver import Chat, credit_code

STAFF = 21


@pytest.fixture
async def bot(tmp_path: Path, engine: Engine) -> object:
    clock = FakeClock()
    async with running_bot(tmp_path, engine=engine, clock=clock,
                           flood_burst=10_000) as running:
        grant_role(running.db, STAFF, Role.STAFF, ["郑州市"], clock())
        for n, user in enumerate((6001, 6002)):
            register(running.db, user_id=user, name=f"驳回测试{n}有限公司",
                     credit_code=credit_code(60 + n), city="郑州市", county=None,
                     industries=["化工"], contact_name="赵六", phone="13812345678",
                     now=clock())
        yield running


def note_to(bot: RunningBot, user: int) -> str:
    notes = [str(c.params["text"]) for c in bot.api.sent(user) if "未通过" in str(c.params["text"])]
    return notes[-1] if notes else ""


async def test_a_rejection_asks_for_a_reason_and_a_confirmation(bot: RunningBot) -> None:
    staff = Chat(bot, STAFF)
    await staff.say("/pending")
    asked = await staff.press("驳回")
    assert "驳回理由" in asked and "驳回测试" in asked
    assert {"信用代码与企业不符", "非本企业人员", "信息不完整"} <= set(staff.labels())
    assert bot.rows("SELECT count(*) AS n FROM accounts WHERE status = 'rejected'") == [{"n": 0}]
    confirm = await staff.press("信用代码与企业不符")
    assert "信用代码与企业不符" in confirm and "确认驳回" in staff.labels()
    assert bot.rows("SELECT count(*) AS n FROM accounts WHERE status = 'rejected'") == [{"n": 0}]
    done = await staff.press("确认驳回")
    assert "已驳回" in done
    rejected = bot.rows("SELECT user_id FROM accounts WHERE status = 'rejected'")
    assert len(rejected) == 1
    assert "原因：信用代码与企业不符" in note_to(bot, rejected[0]["user_id"])


async def test_a_typed_reason_reaches_the_applicant(bot: RunningBot) -> None:
    staff = Chat(bot, STAFF)
    await staff.say("/pending")
    await staff.press("驳回")
    confirm = await staff.say("联系电话无法接通，请核实后重新登记")
    assert "联系电话无法接通" in confirm
    await staff.press("确认驳回")
    rejected = bot.rows("SELECT user_id FROM accounts WHERE status = 'rejected'")
    assert "原因：联系电话无法接通，请核实后重新登记" in note_to(bot, rejected[0]["user_id"])
