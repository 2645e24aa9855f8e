"""Issue 17: the staff's and officials' daily work — officials read reports in their
scope; /reports filters by review state; /stats counts what awaits review."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from knowledge.engine import Engine
from storage.reviews import Verdict, add_review
from storage.users import Role, grant_role
from tests.bot_harness import FakeClock, RunningBot, running_bot
from tests.dialog_driver import Chat
from tests.test_staff import NOW, PROVINCE_STAFF, _sent_file, _setup

ZZ_OFFICIAL = 3001


@pytest.fixture
async def bot(tmp_path: Path, engine: Engine) -> object:
    _setup(tmp_path, NOW - dt.timedelta(days=3))
    async with running_bot(tmp_path, engine=engine, clock=FakeClock(NOW),
                           flood_burst=10_000) as running:
        grant_role(running.db, ZZ_OFFICIAL, Role.OFFICIAL, ["郑州市"], NOW)
        yield running


async def test_officials_read_reports_cards_and_the_ledger_in_their_scope(
    bot: RunningBot,
) -> None:
    official = Chat(bot, ZZ_OFFICIAL)
    listed = await official.say("/reports 任务2")
    assert "共13条" in listed and "洛阳" not in listed
    assert "不在您负责的范围（郑州市）" in await official.say("/reports 洛阳")
    card = await official.say("/enterprise 郑州铸造00厂")
    assert "各项任务进展" in card
    assert not [label for label in official.labels() if "#" in label], (
        "no review buttons for an official: review stays with staff")
    await official.say("/export")  # the filter of the refused /reports 洛阳 was not kept
    ledger, caption = _sent_file(bot, ZZ_OFFICIAL, "document")
    assert ledger[:2] == b"PK" and "填报台账" in caption, "the ledger of their scope"
    report_id = bot.rows("SELECT min(id) AS id FROM reports")[0]["id"]
    assert "没有权限" in await official.say(f"/review {report_id} 已核实")


async def test_reports_filter_by_review_state_apart_from_registration(bot: RunningBot) -> None:
    first, second = (row["id"] for row in bot.rows(
        "SELECT id FROM reports WHERE task = 2 ORDER BY id LIMIT 2"))
    add_review(bot.db, report_id=first, reviewer_id=PROVINCE_STAFF, verdict=Verdict.VERIFIED,
               comment="", now=NOW)
    add_review(bot.db, report_id=second, reviewer_id=PROVINCE_STAFF, verdict=Verdict.PROBLEM,
               comment="照片不清", now=NOW)
    staff = Chat(bot, PROVINCE_STAFF)
    assert "共26条" in await staff.say("/reports 未审核"), "13×2 in 郑州 + 2 in 洛阳, less 2"
    assert "共26条" in await staff.say("/reports 待审核")
    assert "共2条" in await staff.say("/reports 已审核")
    verified = await staff.say("/reports 已核实")
    assert "共1条" in verified and "未审核" not in verified
    assert "共1条" in await staff.say("/reports 有问题")
    assert "没有符合条件" in await staff.say("/reports 驳回")
    assert "共28条" in await staff.say("/reports 已批准"), "the registration filter, apart"
    await staff.say("/stats")
    _, caption = _sent_file(bot, PROVINCE_STAFF, "photo")
    assert "待审核的填报：郑州市24条、洛阳市2条" in caption


async def test_unanswered_questions_can_be_ignored_or_attached_to_any_entry(
    bot: RunningBot,
) -> None:
    asker = Chat(bot, 9999)
    await asker.say("今天郑州天气怎么样")
    await asker.say("化铁的那个炉子咋整")
    staff = Chat(bot, PROVINCE_STAFF)
    listing = await staff.say("/unanswered")
    assert "今天郑州天气怎么样" in listing and "/attach" in listing
    weather = bot.rows("SELECT id FROM questions WHERE text = '今天郑州天气怎么样'")[0]["id"]
    message_id, data = next((mid, data) for mid, data in _buttons(bot, PROVINCE_STAFF)
                            if data == f"ui:{weather}")
    await bot.click(PROVINCE_STAFF, PROVINCE_STAFF, message_id, data)
    assert "今天郑州天气怎么样" not in await staff.say("/unanswered"), "out of the list"
    assert bot.rows("SELECT count(*) AS n FROM questions WHERE text = '今天郑州天气怎么样'") == [
        {"n": 1}], "kept"
    assert bot.rows("SELECT count(*) AS n FROM learned_questions") == [{"n": 0}], "not taught"
    assert bot.rows("SELECT action FROM audit_log WHERE action = 'ignore'") == [
        {"action": "ignore"}]

    furnace = bot.rows("SELECT id FROM questions WHERE text = '化铁的那个炉子咋整'")[0]["id"]
    found = await staff.say(f"/attach {furnace} 冲天炉")
    assert "冲天炉" in found
    choice = next(label for label in staff.labels() if label.startswith("关联到"))
    taught = await staff.press(choice)
    assert "已把“化铁的那个炉子咋整”关联到" in taught
    assert "依据" in await asker.say("化铁的那个炉子咋整")


def _buttons(bot: RunningBot, chat_id: int) -> list[tuple[int, str]]:
    return [(mid, str(button["callback_data"]))
            for (cid, mid), message in bot.api.messages.items() if cid == chat_id
            for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
            for button in row if "callback_data" in button]


async def test_reminders_shows_the_next_runs_within_scope(tmp_path: Path, engine: Engine) -> None:
    june = dt.datetime(2021, 6, 1, 2, 0, tzinfo=dt.UTC)
    _setup(tmp_path, june - dt.timedelta(days=3))
    async with running_bot(tmp_path, engine=engine, clock=FakeClock(june),
                           flood_burst=10_000) as bot:
        grant_role(bot.db, ZZ_OFFICIAL, Role.OFFICIAL, ["郑州市"], june)
        shown = await Chat(bot, ZZ_OFFICIAL).say("/reminders")
        assert "接下来的提醒" in shown and "北京时间" in shown and "郑州市" in shown
        lines = [line for line in shown.splitlines() if "家企业" in line]
        assert lines and all(line[:10] >= "2021-06-01" for line in lines)
        assert any(" 0家企业" not in line for line in lines)
        assert "没有权限" in await Chat(bot, 7000).say("/reminders")
