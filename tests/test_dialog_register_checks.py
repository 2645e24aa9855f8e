"""/register's checks (issue 11 items 2, 4, 7, 8, 13; issue 9's squatting): who is named,
what a name must contain, counties, a registered code, typed industries, a code
issued in another city."""

from __future__ import annotations

from pathlib import Path

from knowledge.engine import Engine
from storage.enterprises import Status, accounts_of, enterprise_of_user, find_by_code
from storage.users import Role, grant_role
from tests.bot_harness import FakeClock, running_bot
from tests.dialog_driver import Chat, answer_qualifiers, credit_code, register

ALICE, BOB = 1001, 1002
ZZ_STAFF, LY_STAFF, ADMIN = 20, 21, 900


def staff(bot: object, user_id: int, city: str) -> None:
    grant_role(bot.db, user_id, Role.STAFF, [city] if city else [], FakeClock().now)  # type: ignore[attr-defined]


async def until_city(chat: Chat, code: str, name: str = "河南绿源化工有限公司") -> None:
    await chat.say("/register")
    await chat.say(name)
    await chat.say(code)


async def test_no_message_names_a_department_that_does_not_decide(
    tmp_path: Path, engine: Engine
) -> None:
    """Approvals are by this bot's staff; nothing says 生态环境部门 (issue 11, item 2)."""
    async with running_bot(tmp_path, engine=engine, flood_burst=1000) as bot:
        code = credit_code(1)
        founder = await register(Chat(bot, ALICE), code=code)
        claim = await register(Chat(bot, BOB), code=code)
        assert "本平台工作人员" in founder and "本平台工作人员" in claim
        admin = Chat(bot, ADMIN)
        await admin.press("驳回")  # the newest application: Bob's claim
        await admin.press("非本企业人员")  # the reason (issue 17)
        await admin.press("确认驳回")
        told = [c.params["text"] for c in bot.api.sent() if c.params["chat_id"] in (ALICE, BOB)]
        assert any("未通过本平台工作人员的审核" in text for text in told)
        assert not [text for text in told if "生态环境" in text]


async def test_emoji_and_symbols_are_not_a_name_county_or_contact(
    tmp_path: Path, engine: Engine
) -> None:
    async with running_bot(tmp_path, engine=engine, flood_burst=1000) as bot:
        alice = Chat(bot, ALICE)
        await alice.say("/register")
        reply = await alice.say("😀😀😀")
        assert "企业名称需要包含汉字或字母" in reply and "第1步" in reply
        await alice.say("绿源\u202e化工\x00有限公司")
        await alice.say(credit_code(2))
        await alice.press("郑州市")
        reply = await alice.say("★★")
        assert "需要包含汉字或字母" in reply and "第4步" in reply
        await alice.say("中原区")
        await alice.press("化工")
        await answer_qualifiers(alice, await alice.press("完成"))
        reply = await alice.say("👍")
        assert "联系人姓名需要包含汉字或字母" in reply and "第6步" in reply
        await alice.say("张三")
        summary = await alice.say("13812345678")
        assert "企业名称：绿源化工有限公司" in summary, "bidi override and NUL dropped"
        await alice.press("确认提交")
        membership = enterprise_of_user(bot.db, ALICE)
        assert membership is not None and membership.enterprise.name == "绿源化工有限公司"


async def test_counties_come_from_the_chosen_city(tmp_path: Path, engine: Engine) -> None:
    async with running_bot(tmp_path, engine=engine, flood_burst=1000) as bot:
        alice = Chat(bot, ALICE)
        await until_city(alice, credit_code(3, "410305"))
        await alice.press("洛阳市")
        reply = await alice.say("火星区")
        assert "“火星区”不是洛阳市的县（市、区）" in reply and "涧西区" in reply
        assert "第4步" in reply
        reply = await alice.say("中原区")
        assert "中原区属于郑州市，不是洛阳市的县（市、区）" in reply
        assert "第5步" in await alice.say("偃师市"), "a former name of 偃师区"
        await alice.press("化工")
        await answer_qualifiers(alice, await alice.press("完成"))
        await alice.say("张三")
        assert "县（市、区）：偃师区" in await alice.say("13812345678")


async def test_a_direct_county_typed_as_county_goes_back_to_the_city(
    tmp_path: Path, engine: Engine
) -> None:
    async with running_bot(tmp_path, engine=engine, flood_burst=1000) as bot:
        alice = Chat(bot, ALICE)
        await until_city(alice, credit_code(4, "410181"))  # issued in 巩义市
        assert "与所选的“郑州市”不一致" in await alice.press("郑州市")
        assert "第4步" in await alice.press("郑州市")
        reply = await alice.say("巩义")
        assert "巩义市是省直管县（市）" in reply and "第3步" in reply
        assert "第5步" in await alice.press("巩义市"), "no county step for a direct county"


async def test_a_registered_code_is_said_when_typed(tmp_path: Path, engine: Engine) -> None:
    """Issue 11, item 8: not after seven steps; and what the claimant entered is kept."""
    async with running_bot(tmp_path, engine=engine, flood_burst=1000) as bot:
        code = credit_code(5)
        await register(Chat(bot, ALICE), code=code)
        bob = Chat(bot, BOB)
        await bob.say("/register")
        await bob.say("郑州某化工有限公司")
        reply = await bob.say(code)
        assert "已由其他账号登记" in reply and "第3步" in reply
        await bob.press("郑州市")
        await bob.say("金水区")
        await bob.press("化工")
        await answer_qualifiers(bob, await bob.press("完成"))
        await bob.say("李四")
        summary = await bob.say("13900000000")
        assert "提交后为绑定申请" in summary
        await bob.press("确认提交")
        [_, claim] = accounts_of(bot.db, find_by_code(bot.db, code).id)  # type: ignore[union-attr]
        assert claim.details is not None
        assert (claim.details.name, claim.details.county) == ("郑州某化工有限公司", "金水区")


async def test_typed_industry_names_are_understood(tmp_path: Path, engine: Engine) -> None:
    """Issue 11, item 13: 铸造 typed works; near-duplicates are one choice."""
    async with running_bot(tmp_path, engine=engine, flood_burst=1000) as bot:
        alice = Chat(bot, ALICE)
        await until_city(alice, credit_code(6))
        await alice.press("郑州市")
        await alice.press("跳过")
        labels = alice.labels()
        assert "玻璃" in labels and "平板玻璃" not in labels and "铝用炭素" not in labels
        assert "已选：铸造" in await alice.say("铸造")
        assert "已选：玻璃、铸造" in await alice.say("平板玻璃厂")
        reply = await alice.say("铸早、做家具的")  # a pinyin slip, and everyday words
        assert "已选：玻璃、铸造、家具制造" in reply
        reply = await alice.say("火锅")
        assert "没有找到“火锅”这个行业" in reply and "第5步" in reply
        assert "已选：玻璃、铸造、家具制造" in reply, "what was chosen is kept"
        reply = await alice.say("制造")
        assert "家具制造、钢结构制造、卷材制造" in reply
        await answer_qualifiers(alice, await alice.press("完成"))
        await alice.say("张三")
        summary = await alice.say("13812345678")
        assert "所属行业：玻璃、铸造、家具制造" in summary, "choices, not their members"
        await alice.press("确认提交")
        membership = enterprise_of_user(bot.db, ALICE)
        assert membership is not None
        assert set(membership.enterprise.industries) == {"玻璃", "平板玻璃", "铸造", "家具制造"}


async def test_a_code_of_another_city_is_confirmed_then_sent_to_both_cities(
    tmp_path: Path, engine: Engine
) -> None:
    """Issue 9: a Zhengzhou code registered as 洛阳市 reaches Zhengzhou's staff too, the
    squatter cannot report before approval, and rejecting the squatter keeps the real
    company's claim."""
    async with running_bot(tmp_path, engine=engine, flood_burst=1000) as bot:
        staff(bot, ZZ_STAFF, "郑州市")
        staff(bot, LY_STAFF, "洛阳市")
        code = credit_code(7, "410105")  # issued in 郑州市金水区
        squatter = Chat(bot, ALICE)
        await until_city(squatter, code, name="冒名公司")
        reply = await squatter.press("洛阳市")
        assert "表示企业在郑州市登记，与所选的“洛阳市”不一致" in reply and "第3步" in reply
        assert "第4步" in await squatter.press("洛阳市"), "chosen again: confirmed"
        await squatter.say("涧西区")
        await squatter.press("化工")
        await answer_qualifiers(squatter, await squatter.press("完成"))
        await squatter.say("王五")
        summary = await squatter.say("13812345678")
        assert "与所在地市不一致" in summary
        await squatter.press("确认提交")
        asked = {c.params["chat_id"] for c in bot.api.sent() if "待审核" in c.params["text"]}
        assert asked == {ZZ_STAFF, LY_STAFF, ADMIN}
        assert "与所选地市不一致" in bot.api.sent(ZZ_STAFF)[-1].params["text"]
        assert "审核通过后才能填报" in await squatter.say("/report")
        assert "审核通过后才能查看" in await squatter.say("/myreports")

        real = Chat(bot, BOB)
        await register(real, code=code, name="郑州某化工有限公司", county="金水区")
        squatted = find_by_code(bot.db, code)
        assert squatted is not None
        founder_id = accounts_of(bot.db, squatted.id)[0].id
        [(message_id, data)] = [
            (mid, data) for mid, data in _buttons(bot, ZZ_STAFF) if data == f"apn:{founder_id}"]
        await bot.click(ZZ_STAFF, ZZ_STAFF, message_id, data)  # Zhengzhou rejects the squatter
        await Chat(bot, ZZ_STAFF).press("信用代码与企业不符")  # the reason (issue 17)
        await Chat(bot, ZZ_STAFF).press("确认驳回")
        enterprise = find_by_code(bot.db, code)
        assert enterprise is not None and enterprise.status is Status.PENDING
        assert (enterprise.name, enterprise.city) == ("郑州某化工有限公司", "郑州市")
        membership = enterprise_of_user(bot.db, BOB)
        assert membership is not None and membership.account.status is Status.PENDING
        assert membership.account.kind == "founder"
        assert enterprise_of_user(bot.db, ALICE) is None


def _buttons(bot: object, chat_id: int) -> list[tuple[int, str]]:
    api = bot.api  # type: ignore[attr-defined]
    return [
        (mid, str(button["callback_data"]))
        for (cid, mid), message in api.messages.items() if cid == chat_id
        for button in api.buttons(cid, mid) if "callback_data" in button
    ]


async def test_a_code_from_outside_henan_is_confirmed_and_flagged(
    tmp_path: Path, engine: Engine
) -> None:
    async with running_bot(tmp_path, engine=engine, flood_burst=1000) as bot:
        alice = Chat(bot, ALICE)
        await until_city(alice, credit_code(8, "110105"))  # issued in Beijing
        reply = await alice.press("郑州市")
        assert "不是在河南省登记的" in reply and "第3步" in reply
        assert "第4步" in await alice.press("郑州市")
        await alice.say("中原区")
        await alice.press("化工")
        await answer_qualifiers(alice, await alice.press("完成"))
        await alice.say("张三")
        assert "信用代码不是在河南省登记的" in await alice.say("13812345678")
        await alice.press("确认提交")
        assert "信用代码不是在河南省登记的" in bot.api.sent(ADMIN)[-1].params["text"]
