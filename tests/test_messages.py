"""Issue 17: staff and officials write to one enterprise (/msg, or the card's button);
its reply comes back to the sender, not to the question engine."""

from __future__ import annotations

from handlers.core.access import GONE
from tests import test_daily_work
from tests.bot_harness import RunningBot
from tests.dialog_driver import Chat, credit_code
from tests.test_daily_work import ZZ_OFFICIAL
from tests.test_staff import LY_STAFF, ZZ_STAFF

bot = test_daily_work.bot  # the fixture: test_staff's cities and an official of 郑州市

OWNER = 7000  # speaks for 郑州铸造00厂 (credit_code(0))


async def test_msg_reaches_the_bound_accounts_and_the_reply_comes_back(bot: RunningBot) -> None:
    official = Chat(bot, ZZ_OFFICIAL)
    sent = await official.say(f"/msg {credit_code(0)} 请本周内补充验收材料")
    assert "郑州铸造00厂" in sent and "1个绑定账号" in sent
    owner = Chat(bot, OWNER)
    received = [t for t in (c.params["text"] for c in bot.api.sent(OWNER))
                if "请本周内补充验收材料" in t]
    assert received and "业务处室" in received[0]
    delivered = await official.press("刷新送达情况")
    assert "已送达 1" in delivered

    asked = await owner.press("回复")
    assert "请输入" in asked
    answered = await owner.say("材料明天补齐")
    assert "已转告" in answered and "抱歉" not in answered, "not taken as a question"
    back = [c.params["text"] for c in bot.api.sent(ZZ_OFFICIAL) if "材料明天补齐" in
            str(c.params["text"])]
    assert back and "郑州铸造00厂" in back[0]
    assert bot.rows("SELECT action FROM audit_log WHERE action IN ('message', 'message_reply') "
                    "ORDER BY id") == [{"action": "message"}, {"action": "message_reply"}]


async def test_msg_stays_within_scope_and_names_what_is_wrong(bot: RunningBot) -> None:
    staff = Chat(bot, LY_STAFF)
    out_of_scope = await staff.say(f"/msg {credit_code(0)} 你好")
    assert out_of_scope == GONE  # said like a code nobody has: no probing other cities
    assert await staff.say(f"/msg {credit_code(999)} 你好") == GONE
    assert "请核对" in await staff.say("/msg 91410000000000000X 你好")  # malformed: named
    assert "用法" in await staff.say("/msg")
    assert "没有权限" in await Chat(bot, OWNER).say(f"/msg {credit_code(1)} 你好")


async def test_the_card_has_a_button_to_write_to_the_enterprise(bot: RunningBot) -> None:
    staff = Chat(bot, ZZ_STAFF)
    await staff.say("/enterprise 郑州铸造01厂")
    asked = await staff.press("✉️ 给该企业发消息")
    assert "郑州铸造01厂" in asked and "请输入" in asked
    sent = await staff.say("请核对任务13的完成日期")
    assert "1个绑定账号" in sent
    assert [c for c in bot.api.sent(7001) if "请核对任务13的完成日期" in str(c.params["text"])]
