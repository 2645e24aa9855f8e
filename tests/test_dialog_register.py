"""/register over the HTTP stand-in: validation per step, edits, approval, rejection, claims."""

from __future__ import annotations

from pathlib import Path

from knowledge.engine import Engine
from storage.enterprises import Status, enterprise_of_user
from storage.qualifiers import qualifiers_of
from storage.users import Role, grant_role
from tests.bot_harness import FakeClock, running_bot
from tests.dialog_driver import Chat, answer_qualifiers, credit_code, register

ALICE, BOB = 1001, 1002
ZZ_STAFF, LY_STAFF, ADMIN = 20, 21, 900  # 900 is the harness's settings admin


def staff(bot: object, user_id: int, city: str | None) -> None:
    grant_role(bot.db, user_id, Role.STAFF, [city] if city else [], FakeClock().now)  # type: ignore[attr-defined]


async def test_each_step_rejects_bad_input_and_keeps_earlier_answers(
    tmp_path: Path, engine: Engine
) -> None:
    # A tight flood limit: dialog steps and their buttons must not count against it.
    async with running_bot(tmp_path, engine=engine, flood_burst=2, flood_per_minute=1) as bot:
        alice = Chat(bot, ALICE)
        assert "第1步" in await alice.say("/register")
        assert "不能为空" not in await alice.say("河南绿源化工有限公司")

        reply = await alice.say("91410100ABC")
        assert "应为18位，您输入了11位" in reply and "第2步" in reply
        good = credit_code(7)
        reply = await alice.say(good[:-1] + ("0" if good[-1] != "0" else "1"))
        assert "第18位校验码不符" in reply and "第2步" in reply
        reply = await alice.say(good[:5] + "O" + good[6:])
        assert "字母O" in reply and "第2步" in reply
        assert "第3步" in await alice.say(good.lower())

        reply = await alice.say("北京")
        assert "没有找到“北京”" in reply and "第3步" in reply
        assert "济源示范区" in alice.labels() and "巩义市" in alice.labels()
        assert "第4步" in await alice.say("郑州")  # the bare name is enough

        assert "第5步" in await alice.say("中原区")
        assert len(alice.labels()) == len(engine.kb.industry_choices) + 1
        reply = await alice.press("完成")
        assert "请至少选择一个行业" in reply and "第5步" in reply
        assert "已选：化工" in await alice.press("化工")
        assert "已选：化工、制药" in await alice.press("制药")
        assert "已选：化工" in await alice.press("制药")  # pressed again: unselected
        reply = await alice.press("完成")
        assert "第5步（补充 1/" in reply and "搬迁" in reply  # the plan's qualifiers, in order
        reply = await alice.say("不知道")
        assert "第5步（补充 2/" in reply, "a typed 不知道 answers 不清楚"
        reply = await alice.say("也许吧")
        assert "请点击“是”“否”或“不清楚”回答" in reply and "补充 2/" in reply
        assert "第6步" in await answer_qualifiers(alice, reply, {"土壤污染": "是"},
                                                 default="否")

        assert "第7步" in await alice.say("张三")
        reply = await alice.say("1381234567")
        assert "11位数字，您输入了10位" in reply and "第7步" in reply
        reply = await alice.say("电话是多少")
        assert "只能包含数字" in reply and "第7步" in reply
        summary = await alice.say("0371-6512 3456")
        for expected in ("河南绿源化工有限公司", good, "郑州市", "中原区", "化工", "张三",
                         "0371-65123456", "土壤污染重点监管单位：是"):
            assert expected in summary

        # 修改: change only the phone, everything else stays
        assert "请选择要修改的内容" in await alice.press("修改")
        assert "第7步" in await alice.press("联系电话")
        summary = await alice.say("13912345678")
        assert "13912345678" in summary and "河南绿源化工有限公司" in summary
        assert "0371-65123456" not in summary

        assert "正在等待本平台工作人员审核" in await alice.press("确认提交")
        membership = enterprise_of_user(bot.db, ALICE)
        assert membership is not None
        assert membership.enterprise.credit_code == good
        assert membership.enterprise.industries == ("化工",)
        assert membership.enterprise.status is Status.PENDING
        answers = qualifiers_of(bot.db, membership.enterprise.id)
        assert answers["soil_key_unit"] == "yes" and answers["relocation_2021"] == "unknown"
        assert answers["coal_furnace"] == "no"
        # the answers decide the tasks: soil tasks concern it, relocation does not
        numbers = {t.number for t in engine.kb.tasks_concerning(("化工",), answers)}
        assert {24, 25} <= numbers and 1 not in numbers
        assert bot.rows("SELECT * FROM questions") == [], "dialog text is not a question"


async def test_direct_county_skips_the_county_step_and_skip_button_works(
    tmp_path: Path, engine: Engine
) -> None:
    async with running_bot(tmp_path, engine=engine, flood_burst=1000) as bot:
        alice, bob = Chat(bot, ALICE), Chat(bot, BOB)
        await alice.say("/register")
        await alice.say("巩义某厂")
        await alice.say(credit_code(1, "410181"))  # issued in 巩义市
        assert "第5步" in await alice.press("巩义市")
        reply = await register(bob, city="洛阳市", county=None, code=credit_code(2, "410305"))
        assert "等待" in reply
        membership = enterprise_of_user(bot.db, BOB)
        assert membership is not None and membership.enterprise.county is None


async def test_cancel_at_any_step_and_commands_during_a_dialog(
    tmp_path: Path, engine: Engine
) -> None:
    async with running_bot(tmp_path, engine=engine, flood_burst=1000) as bot:
        alice = Chat(bot, ALICE)
        assert "当前没有进行中的操作" in await alice.say("/cancel")
        await alice.say("/register")
        await alice.say("某公司")
        reply = await alice.say("/report")
        assert "您正在进行企业登记" in reply and "第2步" in reply
        assert "已取消企业登记" in await alice.say("/cancel")
        assert enterprise_of_user(bot.db, ALICE) is None
        await alice.say("锅炉什么时候淘汰")  # after the dialog, text is a question again
        assert len(bot.rows("SELECT * FROM questions")) == 1
        # cancel from the summary's button
        await register(alice, confirm=False)
        message_id, ok = alice.button("确认提交")
        assert "已取消企业登记" in await alice.press("取消")
        assert enterprise_of_user(bot.db, ALICE) is None
        # a button of the ended dialog is answered (no spinner) and changes nothing
        calls = await bot.click(ALICE, ALICE, message_id, ok)
        assert [c.params.get("text") for c in calls if c.method == "answerCallbackQuery"] == [
            "这一步已经结束了。需要时请重新发送 /register。"]
        assert enterprise_of_user(bot.db, ALICE) is None


async def test_city_staff_approve_and_the_applicant_is_told(
    tmp_path: Path, engine: Engine
) -> None:
    async with running_bot(tmp_path, engine=engine, flood_burst=1000) as bot:
        staff(bot, ZZ_STAFF, "郑州市")
        staff(bot, LY_STAFF, "洛阳市")
        alice = Chat(bot, ALICE)
        await register(alice, city="郑州市")
        asked = {call.params["chat_id"] for call in bot.api.sent()
                 if "待审核：新企业登记" in call.params["text"]}
        assert asked == {ZZ_STAFF, ADMIN}, "the city's staff and the admins, not Luoyang's"

        zz = Chat(bot, ZZ_STAFF)
        message_id, approve = zz.button("批准")
        # Luoyang staff pressing the button (e.g. forwarded) is refused politely
        calls = await bot.click(LY_STAFF, ZZ_STAFF, message_id, approve)
        assert any("找不到这条记录" in str(c.params.get("text")) for c in calls), (
            "said like a missing id (issue 14, item 11)")
        assert enterprise_of_user(bot.db, ALICE).enterprise.status is Status.PENDING  # type: ignore[union-attr]

        shown = await zz.press("批准")
        assert "已批准" in shown
        # pressing again (a replayed click): who decided and when, and the message as it is
        before = bot.api.messages[(ZZ_STAFF, message_id)]["text"]
        calls = await bot.click(ZZ_STAFF, ZZ_STAFF, message_id, approve)
        assert any("该申请已由您于" in str(c.params.get("text")) for c in calls)
        after = bot.api.messages[(ZZ_STAFF, message_id)]["text"]
        assert after == before and after.count("已批准") == 1, "edited once, nothing appended"
        told = [t for t in (c.params["text"] for c in bot.api.sent(ALICE)) if "审核通过" in t]
        assert told, "the applicant hears the outcome"
        membership = enterprise_of_user(bot.db, ALICE)
        assert membership is not None and membership.enterprise.status is Status.APPROVED

        # the admin's copy is now stale: a click says it was already decided
        admin = Chat(bot, ADMIN)
        message_id, data = admin.button("驳回")
        calls = await bot.click(ADMIN, ADMIN, message_id, data)
        assert any("已由其他工作人员于" in str(c.params.get("text")) for c in calls)
        assert enterprise_of_user(bot.db, ALICE).enterprise.status is Status.APPROVED  # type: ignore[union-attr]


async def test_rejection_is_told_and_allows_registering_again(
    tmp_path: Path, engine: Engine
) -> None:
    async with running_bot(tmp_path, engine=engine, flood_burst=1000) as bot:
        alice = Chat(bot, ALICE)
        await register(alice)
        await Chat(bot, ADMIN).press("驳回")
        assert any("未通过本平台工作人员的审核" in c.params["text"] for c in bot.api.sent(ALICE))
        assert enterprise_of_user(bot.db, ALICE) is None
        assert "第1步" in await alice.say("/register")


async def test_second_account_claims_the_code_and_reports_after_approval(
    tmp_path: Path, engine: Engine
) -> None:
    async with running_bot(tmp_path, engine=engine, flood_burst=1000) as bot:
        staff(bot, ZZ_STAFF, "郑州市")
        alice, bob, zz = Chat(bot, ALICE), Chat(bot, BOB), Chat(bot, ZZ_STAFF)
        code = credit_code(42)
        await register(alice, code=code)
        await zz.press("批准")
        reply = await register(bob, code=code, contact="李四", phone="13900000000")
        assert "已由其他账号登记" in reply and "绑定申请已提交" in reply
        assert "已绑定企业" in await alice.say("/register"), "ALREADY_BOUND"
        assert "审核通过后才能填报" in await bob.say("/report")
        assert "已登记企业的绑定申请" in "\n".join(
            c.params["text"] for c in bot.api.sent(ZZ_STAFF))
        await zz.press("批准")
        assert any("审核通过" in c.params["text"] for c in bot.api.sent(BOB))
        assert "第1步：请选择要填报的任务" in await bob.say("/report")


async def test_pending_command_lists_applications_for_staff_only(
    tmp_path: Path, engine: Engine
) -> None:
    async with running_bot(tmp_path, engine=engine, flood_burst=1000) as bot:
        staff(bot, LY_STAFF, "洛阳市")
        await register(Chat(bot, ALICE), city="郑州市")
        assert "没有权限使用 /pending" in await Chat(bot, BOB).say("/pending")
        assert "没有待审核" in await Chat(bot, LY_STAFF).say("/pending")
        admin = Chat(bot, ADMIN)
        assert "河南绿源化工有限公司" in await admin.say("/pending")
        assert "已批准" in await admin.press("批准")


async def test_pending_leaves_out_a_staff_members_own_enterprise(
    tmp_path: Path, engine: Engine
) -> None:
    async with running_bot(tmp_path, engine=engine, flood_burst=1000) as bot:
        staff(bot, ZZ_STAFF, "郑州市")
        zz = Chat(bot, ZZ_STAFF)
        code = credit_code(11)
        await register(zz, code=code)  # a staff member registers their own enterprise
        assert "没有待审核" in await zz.say("/pending"), "their own application"
        await Chat(bot, ADMIN).press("批准")
        await register(Chat(bot, BOB), code=code, contact="李四", phone="13900000000")
        assert "没有待审核" in await zz.say("/pending"), "a claim on the enterprise they speak for"
        assert "李四" in await Chat(bot, ADMIN).say("/pending")
