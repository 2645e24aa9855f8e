"""Qualifiers in chat: staff set and correct them from an enterprise's card (audited,
within their scope); /qualifiers lists the unknown ones and asks those enterprises once,
through the outbox; the enterprise answers with buttons."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from knowledge.engine import Engine
from storage.enterprises import register
from tests.bot_harness import FakeClock, RunningBot, running_bot
from tests.dialog_driver import Chat, credit_code
from tests.test_staff import LY_STAFF, NOW, PROVINCE_STAFF, ZZ_STAFF, _setup


@pytest.fixture
async def bot(tmp_path: Path, engine: Engine) -> AsyncIterator[RunningBot]:
    """test_staff's province: 13 casting enterprises in 郑州市, 3 in 洛阳市, their staff."""
    _setup(tmp_path, NOW - dt.timedelta(days=3))
    async with running_bot(tmp_path, engine=engine, clock=FakeClock(NOW),
                           flood_burst=10_000) as running:
        yield running

LY_SILENT = 7015  # the user of 洛阳铸造15厂


def soil(bot: RunningBot) -> int:
    """The button number of 土壤污染重点监管单位 (the order of the knowledge base)."""
    keys = [q.key for q in bot.app.bot_data.kb.qualifiers]
    return keys.index("soil_key_unit") + 1


async def test_staff_set_a_qualifier_from_the_card_and_it_is_audited(bot: RunningBot) -> None:
    staff = Chat(bot, LY_STAFF)
    opened = await staff.say("/enterprise 洛阳铸造15厂")
    assert "认定情况" in opened and "土壤污染重点监管单位：未知（未回答）" in opened
    assert "涉及任务4项：2、5、7、16" in opened
    n = soil(bot)
    changed = await staff.press(f"{n} 是")
    assert "土壤污染重点监管单位：是" in changed
    assert "涉及任务6项：2、5、7、16、24、25" in changed
    eid = bot.rows("SELECT id FROM enterprises WHERE name = '洛阳铸造15厂'")[0]["id"]
    assert bot.rows("SELECT qualifier, value FROM enterprise_qualifiers") == [
        {"qualifier": "soil_key_unit", "value": "yes"}]
    [entry] = bot.rows("SELECT actor_id, subject, detail FROM audit_log "
                       "WHERE action = 'set_qualifiers'")
    assert entry["actor_id"] == LY_STAFF and entry["subject"] == f"enterprise:{eid}"
    assert "soil_key_unit" in entry["detail"]
    corrected = await staff.press(f"{n} 不清楚")
    assert "土壤污染重点监管单位：不清楚" in corrected and "涉及任务4项" in corrected
    # a 郑州市 staff member cannot set it for a 洛阳市 enterprise, even with forged data
    await Chat(bot, ZZ_STAFF).say("/help")
    calls = await bot.click(ZZ_STAFF, ZZ_STAFF, int(bot.last_message_id(ZZ_STAFF)),
                            f"qs:{eid}:{n - 1}:0")
    answers = [str(c.params.get("text", "")) for c in calls if c.method == "answerCallbackQuery"]
    assert answers and "找不到这条记录" in answers[0], "out of scope reads like missing"
    assert bot.rows("SELECT value FROM enterprise_qualifiers") == [{"value": "unknown"}]


async def test_unknown_qualifiers_are_listed_and_asked_once(bot: RunningBot) -> None:
    staff = Chat(bot, LY_STAFF)
    listed = await staff.say("/qualifiers")
    assert "共<b>3</b>家" not in listed and "共3家" in listed, "the three in 洛阳市"
    assert "郑州" not in listed
    sent = await staff.press("📨 向这些企业发送一次询问")
    assert "向3家企业（3位用户）发送询问" in sent
    await bot.outbox_drained()
    [asked] = [str(c.params["text"]) for c in bot.api.sent(LY_SILENT)
               if "请回答以下问题" in str(c.params["text"])]
    assert "是否为土壤污染重点监管单位" in asked and "洛阳铸造15厂" in asked
    assert "没有新的询问" in await staff.press("📨 向这些企业发送一次询问"), "asked once"

    enterprise = Chat(bot, LY_SILENT)
    answered = await enterprise.press(f"{soil(bot)} 否")
    assert "（已答：否）" in answered
    assert bot.rows("SELECT value FROM enterprise_qualifiers WHERE qualifier = 'soil_key_unit'"
                    ) == [{"value": "no"}]
    assert bot.rows("SELECT count(*) AS n FROM audit_log WHERE action = 'set_qualifiers'"
                    ) == [{"n": 0}], "an enterprise's own answer is not a staff action"
    assert bot.rows("SELECT count(*) AS n FROM audit_log WHERE action = 'ask_qualifiers'"
                    ) == [{"n": 1}]
    # another enterprise's user cannot answer for it
    eid = bot.rows("SELECT id FROM enterprises WHERE name = '洛阳铸造15厂'")[0]["id"]
    await Chat(bot, 7014).say("/help")
    calls = await bot.click(7014, 7014, int(bot.last_message_id(7014)), f"qa:{eid}:0:0")
    assert not any("已记录" in str(c.params.get("text", "")) for c in calls)
    # nor can a pending claim on it
    claim = register(bot.db, user_id=9100, name="洛阳铸造15厂", credit_code=credit_code(15),
                     city="洛阳市", county=None, industries=["铸造"], contact_name="张三",
                     phone="13800000001", now=NOW)
    assert claim.account.enterprise_id == eid
    await Chat(bot, 9100).say("/help")
    calls = await bot.click(9100, 9100, int(bot.last_message_id(9100)), f"qa:{eid}:0:0")
    assert any("审核通过后才能回答" in str(c.params.get("text", "")) for c in calls)
    assert bot.rows("SELECT count(*) AS n FROM enterprise_qualifiers") == [{"n": 1}]
    assert "共16家" in await Chat(bot, PROVINCE_STAFF).say("/qualifiers")
