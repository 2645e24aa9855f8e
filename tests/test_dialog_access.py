"""Access is decided at every step of a dialog, not only when it starts (issue 14, item 1).

Each test plays the probe's observation over the Bot API stand-in: a user's role is
revoked, or their scope narrowed, while a dialog waits; the next typed text or typed
button label must not do what the user may no longer do, and the dialog ends with a
message (its draft dropped).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.engine import Engine
from storage.users import Role, grant_role, revoke_role
from tests.bot_harness import FakeClock, RunningBot, running_bot
from tests.dialog_driver import Chat
from tests.test_officials import LY, OFFICIAL_PROVINCE, ZZ, _setup, beijing, got

STAFF = 6100
NOW = beijing(2026, 12, 1, 10, 0)
LOST = "已结束"  # every ended-for-access message says the dialog ended


@pytest.fixture
async def bot(tmp_path: Path, engine: Engine) -> object:
    _setup(tmp_path, NOW)
    async with running_bot(tmp_path, engine=engine, clock=FakeClock(NOW),
                           flood_burst=10_000) as running:
        grant_role(running.db, STAFF, Role.STAFF, (), NOW)
        yield running


def notices(bot: RunningBot) -> int:
    return int(bot.rows("SELECT count(*) AS n FROM notices")[0]["n"])


def drafts(bot: RunningBot, user_id: int, name: str) -> bool:
    """Whether the user's dialog draft ``name`` is still kept (in memory)."""
    return name in (bot.app.user_data.get(user_id) or {})


def _nothing_sent(bot: RunningBot, reply: str) -> None:
    """The notify dialog ended with a message, and no notice reached anyone."""
    assert LOST in reply
    assert notices(bot) == 0
    assert all(got(bot, user, "门禁系统建设") == 0 for user in ZZ + LY)
    assert not drafts(bot, OFFICIAL_PROVINCE, "notify")


async def _to_preview(official: Chat) -> None:
    await official.say("/notify")
    await official.press("全部已审核企业")
    preview = await official.say("请于本月底前完成门禁系统建设。")
    assert "接收人：5位" in preview


async def test_a_revoked_official_typing_the_send_label_sends_nothing(bot: RunningBot) -> None:
    official = Chat(bot, OFFICIAL_PROVINCE)
    await _to_preview(official)
    revoke_role(bot.db, OFFICIAL_PROVINCE, NOW)
    reply = await official.say("立即发送")
    assert "没有权限" in reply
    _nothing_sent(bot, reply)
    # the dialog is over: the same text again is not a dialog step
    await official.say("立即发送")
    assert notices(bot) == 0


async def test_an_official_narrowed_mid_dialog_cannot_send_a_province_notice(
    bot: RunningBot,
) -> None:
    official = Chat(bot, OFFICIAL_PROVINCE)
    await _to_preview(official)
    grant_role(bot.db, OFFICIAL_PROVINCE, Role.OFFICIAL, ["洛阳市"], NOW)
    reply = await official.press("立即发送")
    assert "范围" in reply and "洛阳市" in reply
    _nothing_sent(bot, reply)


async def test_an_official_narrowed_mid_dialog_is_stopped_at_the_next_typed_step(
    bot: RunningBot,
) -> None:
    official = Chat(bot, OFFICIAL_PROVINCE)
    await official.say("/notify")
    await official.press("全部已审核企业")
    grant_role(bot.db, OFFICIAL_PROVINCE, Role.OFFICIAL, ["洛阳市"], NOW)
    reply = await official.say("请于本月底前完成门禁系统建设。")
    assert "洛阳市" in reply and LOST in reply and "预览" not in reply
    assert notices(bot) == 0


def _report_id(bot: RunningBot) -> int:
    return int(bot.rows("SELECT max(id) AS id FROM reports")[0]["id"])  # ZZ[0]'s, 郑州市


async def test_a_revoked_staff_members_typed_comment_is_not_stored(bot: RunningBot) -> None:
    staff = Chat(bot, STAFF)
    report_id = _report_id(bot)
    assert "请输入问题" in await staff.say(f"/review {report_id} 有问题")
    revoke_role(bot.db, STAFF, NOW)
    reply = await staff.say("门禁照片看不清")
    assert "没有权限" in reply and LOST in reply
    assert bot.rows("SELECT count(*) AS n FROM reviews") == [{"n": 0}]
    await bot.outbox_drained()
    assert got(bot, ZZ[0], "报告审核") == 0
    assert not drafts(bot, STAFF, "review")


async def test_staff_narrowed_to_another_city_cannot_reject_its_report(bot: RunningBot) -> None:
    staff = Chat(bot, STAFF)
    report_id = _report_id(bot)
    assert "请输入驳回理由" in await staff.say(f"/review {report_id} 驳回")
    grant_role(bot.db, STAFF, Role.STAFF, ["洛阳市"], NOW)
    reply = await staff.say("材料不全")
    # out of scope reads like a missing record (ids of other cities cannot be probed)
    assert "找不到这条记录" in reply and LOST in reply
    assert bot.rows("SELECT count(*) AS n FROM reviews") == [{"n": 0}]
    await bot.outbox_drained()
    assert got(bot, ZZ[0], "报告审核") == 0


def _no_deadline(bot: RunningBot, reply: str) -> None:
    assert LOST in reply
    assert bot.rows("SELECT count(*) AS n FROM audit_log WHERE action = 'deadline_add'") == [
        {"n": 0}]
    assert not drafts(bot, OFFICIAL_PROVINCE, "deadline")


async def _to_deadline_confirm(official: Chat) -> None:
    await official.say("/deadline add")
    await official.say("13")
    await official.say("2027-03-31")
    await official.press("完成")
    await official.press("完成")
    assert "新增截止日期" in await official.say("完成门禁系统建设")


async def test_a_revoked_officials_typed_confirm_adds_no_deadline(bot: RunningBot) -> None:
    official = Chat(bot, OFFICIAL_PROVINCE)
    await _to_deadline_confirm(official)
    revoke_role(bot.db, OFFICIAL_PROVINCE, NOW)
    reply = await official.say("确认添加")
    assert "没有权限" in reply
    _no_deadline(bot, reply)


async def test_an_official_narrowed_cannot_add_a_deadline_for_the_province(
    bot: RunningBot,
) -> None:
    official = Chat(bot, OFFICIAL_PROVINCE)
    await _to_deadline_confirm(official)
    grant_role(bot.db, OFFICIAL_PROVINCE, Role.OFFICIAL, ["洛阳市"], NOW)
    reply = await official.press("确认添加")
    assert "洛阳市" in reply
    _no_deadline(bot, reply)
