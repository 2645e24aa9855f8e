"""Officials and admins in chat: /notify with its preview and progress, /notices and
cancelling, /deadline and /deadlines, /grant, /revoke, /invite, /audit, menus and /help."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from handlers.admin.roles import GRANT_USAGE, REVOKE_USAGE
from handlers.delivery.reminders import run_reminders
from knowledge.engine import Engine
from storage.clock import SHANGHAI
from storage.db import open_db
from storage.enterprises import approve, register
from storage.qualifiers import set_qualifiers
from storage.reminders import set_clock_mark
from storage.reports import ReportDraft, add_report
from storage.users import Role, get_user, grant_role
from tests.bot_harness import FakeClock, RunningBot, plan_shape, running_bot
from tests.dialog_driver import Chat, credit_code

ADMIN = 900
OFFICIAL_ZZ, OFFICIAL_PROVINCE = 6001, 6002
ZZ = [5001, 5002, 5003]  # casting enterprises in 郑州市
LY = [5101, 5102]  # casting enterprises in 洛阳市


def beijing(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI).astimezone(dt.UTC)


def _setup(path: Path, now: dt.datetime) -> None:
    db = open_db(path / "lvdong.sqlite")
    for user, city in [(u, "郑州市") for u in ZZ] + [(u, "洛阳市") for u in LY]:
        registration = register(
            db, user_id=user, name=f"铸造厂{user}", credit_code=credit_code(user), city=city,
            county=None, industries=["铸造"], contact_name="联系人", phone="13800000000",
            now=now,
        )
        approve(db, account_id=registration.account.id, approver_id=ADMIN,
                admins=frozenset({ADMIN}), now=now)
        # task 13 (门禁系统) concerns bulk-material transport enterprises
        set_qualifiers(db, registration.enterprise.id, {"bulk_transport": "yes"},
                       actor_id=None, now=now)
        if user == ZZ[0]:
            add_report(db, ReportDraft(enterprise_id=registration.enterprise.id, user_id=user,
                                       task=13, status="已完成", description="门禁已建"), now,
                       **plan_shape())
    grant_role(db, OFFICIAL_ZZ, Role.OFFICIAL, ["郑州市"], now)
    grant_role(db, OFFICIAL_PROVINCE, Role.OFFICIAL, (), now)
    db.conn.close()


def got(bot: RunningBot, chat: int, text: str) -> int:
    return sum(text in str(c.params.get("text", "")) for c in bot.api.sent(chat))


async def test_a_city_official_notifies_those_not_done_with_a_task_in_their_city(
    tmp_path: Path, engine: Engine
) -> None:
    clock = FakeClock(beijing(2026, 12, 1, 10, 0))
    _setup(tmp_path, clock.now)
    async with running_bot(tmp_path, engine=engine, clock=clock) as bot:
        official = Chat(bot, OFFICIAL_ZZ)
        first = await official.say("/notify")
        assert "您负责的范围：郑州市" in first
        assert "任务编号" in await official.press("尚未完成某项任务的企业")
        assert "通知内容" in await official.say("13")
        preview = await official.say("请于本月底前完成门禁系统建设并填报。")
        # 郑州市 has three casting enterprises; one reported 已完成 on task 13
        assert "接收人：2位" in preview and "郑州市" in preview
        shown = await official.press("立即发送")
        assert re.search(r"通知 #\d+", shown)
        await bot.outbox_drained()
        assert [got(bot, user, "门禁系统建设") for user in ZZ] == [0, 1, 1]
        assert all(got(bot, user, "门禁系统建设") == 0 for user in LY), "outside the scope"
        await bot.app.bot_data.outbox.stop()  # flushes the progress message
        await bot.app.bot_data.outbox.start()
        progress = [c for c in bot.api.calls if c.method == "editMessageText"
                    and c.params.get("chat_id") == OFFICIAL_ZZ]
        assert progress and "已送达 2" in progress[-1].params["text"]
        assert "已发送完毕" in progress[-1].params["text"]

        listing = await official.say("/notices")
        assert "已送达 2" in listing and "待发送 0" in listing
        audit = bot.rows("SELECT action, actor_id FROM audit_log WHERE action = 'notify'")
        assert audit == [{"action": "notify", "actor_id": OFFICIAL_ZZ}]


async def test_confirming_says_when_the_audience_changed_since_the_preview(
    tmp_path: Path, engine: Engine
) -> None:
    clock = FakeClock(beijing(2026, 12, 1, 10, 0))
    _setup(tmp_path, clock.now)
    async with running_bot(tmp_path, engine=engine, clock=clock) as bot:
        official = Chat(bot, OFFICIAL_ZZ)
        await official.say("/notify")
        await official.press("尚未完成某项任务的企业")
        await official.say("13")
        assert "接收人：2位" in await official.say("请完成门禁系统建设。")
        enterprise = bot.rows("SELECT enterprise_id FROM accounts WHERE user_id = ?", (ZZ[1],))
        add_report(bot.db, ReportDraft(enterprise_id=enterprise[0]["enterprise_id"],
                                       user_id=ZZ[1], task=13, status="已完成",
                                       description="门禁已建"), clock.now, **plan_shape())
        # the label typed instead of pressed: the preview is not counted again on the way
        shown = await official.say("立即发送")
        assert "预览后接收人数有变化，以1位为准" in shown


async def test_a_scheduled_notice_waits_and_can_be_cancelled(
    tmp_path: Path, engine: Engine
) -> None:
    clock = FakeClock(beijing(2026, 12, 1, 10, 0))
    _setup(tmp_path, clock.now)
    async with running_bot(tmp_path, engine=engine, clock=clock) as bot:
        official = Chat(bot, OFFICIAL_PROVINCE)
        await official.say("/notify")
        await official.press("某个地市的企业")
        assert "不在您负责的范围" not in await official.say("洛阳")
        await official.say("下周检查，请准备材料。")
        await official.press("定时发送")
        assert "已经过去" in await official.say("2026-11-30 09:00")
        preview = await official.say("明天 9:00")
        assert "定时：2026-12-02 09:00" in preview and "接收人：2位" in preview
        message_id, confirm = official.button("确认定时发送")
        shown = await official.press("确认定时发送")
        assert "定于 2026-12-02 09:00 发送" in shown
        # the ended dialog's button names the command that starts this dialog again
        calls = await bot.click(OFFICIAL_PROVINCE, OFFICIAL_PROVINCE, message_id, confirm)
        assert [c.params.get("text") for c in calls if c.method == "answerCallbackQuery"] == [
            "这一步已经结束了。需要时请重新发送 /notify。"]
        await bot.outbox_drained()
        assert got(bot, LY[0], "下周检查") == 0, "not before its time"

        # a city official cannot cancel a notice that went to another city
        zz = Chat(bot, OFFICIAL_ZZ)
        listing = await zz.say("/notices")
        assert "下周检查" not in listing
        notice_id = int(re.search(r"通知 #(\d+)", shown)[1])  # type: ignore[index]
        message_id = bot.last_message_id(OFFICIAL_ZZ)
        calls = await bot.click(OFFICIAL_ZZ, OFFICIAL_ZZ, message_id, f"nc:{notice_id}")
        assert any("找不到这条记录" in str(c.params.get("text")) for c in calls)

        cancelled = await official.press(f"取消 #{notice_id}")
        assert "已取消" in cancelled
        clock.advance(2 * 86400)
        await bot.outbox_drained()
        assert got(bot, LY[0], "下周检查") == 0 and got(bot, LY[1], "下周检查") == 0


async def test_deadline_added_by_an_official_is_listed_and_reminded(
    tmp_path: Path, engine: Engine
) -> None:
    clock = FakeClock(beijing(2026, 12, 1, 10, 0))
    _setup(tmp_path, clock.now)
    async with running_bot(tmp_path, engine=engine, clock=clock) as bot:
        official = Chat(bot, OFFICIAL_ZZ)
        await official.say("/deadline add")
        assert "第1步" in await official.say("99"), "an unknown task: the same step again"
        await official.say("16")
        assert "已经过去" in await official.say("2026-01-31")
        await official.say("2027-01-31")
        await official.press("完成")  # no industries: the task's own (16: 铸造 among them)
        await official.press("完成")  # no regions: the official's scope, 郑州市
        await official.say("完成铸造炉窑深度治理并报送验收材料")
        done = await official.press("确认添加")
        assert "已添加截止日期" in done

        enterprise = Chat(bot, ZZ[1])
        calendar = await enterprise.say("/deadlines")
        assert "2027年1月31日" in calendar and "还有61天" in calendar
        assert "已过期" in calendar, "the plan's 2021 deadlines are shown as passed"
        assert "2027年1月31日" not in await Chat(bot, LY[0]).say("/deadlines"), "郑州市 only"

        clock.now = beijing(2027, 1, 1, 9, 5)  # 30 days before
        set_clock_mark(bot.db, clock.now)  # months pass at once: confirmed, as an admin would
        run_reminders(bot.app.bot_data, bot.app.bot_data.reminders)
        await bot.outbox_drained()
        assert got(bot, ZZ[1], "截止提醒") == 1 and got(bot, LY[0], "截止提醒") == 0
        assert "深度治理" in str(bot.api.sent(ZZ[1])[-1].params["text"])


async def test_admins_grant_revoke_invite_and_audit_and_menus_follow(
    tmp_path: Path, engine: Engine
) -> None:
    async with running_bot(tmp_path, engine=engine, flood_burst=100) as bot:
        admin = Chat(bot, ADMIN)
        assert "不认识的地市" in await admin.say("/grant 4242 staff 火星")
        assert "已将用户 4242 设为工作人员（郑州市、洛阳市）" in await admin.say(
            "/grant 4242 staff 郑州 洛阳")
        menus = [c for c in bot.api.sent(method="setMyCommands")
                 if c.params["scope"].get("chat_id") == 4242]
        assert menus and "pending" in str(menus[-1].params["commands"])
        staff_help = await Chat(bot, 4242).say("/help")
        assert "/pending" in staff_help and "/grant" not in staff_help
        assert "/notify" not in staff_help

        assert "现为普通企业用户" in await admin.say("/revoke 4242")
        assert bot.api.sent(method="deleteMyCommands"), "back to the common menu"
        assert "没有权限使用 /pending" in await Chat(bot, 4242).say("/pending")

        invite = await admin.say("/invite official 郑州")
        code = re.search(r"start=(inv_[\w-]+)", invite)[1]  # type: ignore[index]
        welcome = await Chat(bot, 4343).say(f"/start {code}")
        assert "您已成为业务处室（郑州市）" in welcome
        user = get_user(bot.db, 4343)
        assert user is not None and user.role is Role.OFFICIAL
        assert "已经被使用过" in await Chat(bot, 4444).say(f"/start {code}")
        assert code not in str(bot.rows("SELECT * FROM invites"))

        assert "不能修改自己的角色" in await admin.say(f"/grant {ADMIN} enterprise")
        # "²" is a digit to str.isdigit but no number to int: the usage, not a crash
        assert GRANT_USAGE in await admin.say("/grant ² staff")
        assert REVOKE_USAGE in await admin.say("/revoke ²")
        assert "最近" in await admin.say("/audit ²")
        log = await admin.say("/audit")
        for action in ("授予角色", "撤销角色", "生成邀请", "使用邀请"):
            assert action in log
        assert "没有权限使用 /audit" in await Chat(bot, 4343).say("/audit")
        enterprise_help = await Chat(bot, 5555).say("/help")
        for command in ("/register", "/report", "/myreports", "/cancel", "/deadlines"):
            assert command in enterprise_help
        assert "/notify" not in enterprise_help and "/pending" not in enterprise_help


async def test_an_official_sees_who_was_not_reached(tmp_path: Path, engine: Engine) -> None:
    clock = FakeClock(beijing(2026, 12, 1, 10, 0))
    _setup(tmp_path, clock.now)
    async with running_bot(tmp_path, engine=engine, clock=clock) as bot:
        await bot.wait_processed(bot.api.set_blocked(ZZ[1], True))
        official = Chat(bot, OFFICIAL_ZZ)
        await official.say("/notify")
        await official.press("全部已审核企业")
        await official.say("请核对企业信息。")
        await official.press("立即发送")
        await bot.outbox_drained()
        await official.say("/notices")
        listing = await official.press("未送达名单（1）")
        assert f"铸造厂{ZZ[1]}" in listing and "已屏蔽机器人" in listing
        assert f"铸造厂{ZZ[2]}" not in listing
