"""Issue 17: /review with no number works through the reports waiting for review, oldest
first, within scope; every review screen names the enterprise."""

from __future__ import annotations

import re

from tests import test_staff
from tests.bot_harness import RunningBot
from tests.dialog_driver import Chat
from tests.test_staff import LY_STAFF

bot = test_staff.bot  # the fixture: test_staff's two cities


def report_number(text: str) -> int:
    return int(re.findall(r"#(\d+)", text)[0])


async def test_the_queue_opens_the_oldest_and_goes_on_after_each_verdict(
    bot: RunningBot,
) -> None:
    staff = Chat(bot, LY_STAFF)
    first = await staff.say("/review")
    assert "待审核" in first and "洛阳铸造13厂" in first and "共2份" in first
    assert "已淘汰冲天炉" in first, "the report's history"
    files = [c for c in bot.api.calls if c.params.get("chat_id") == LY_STAFF
             and c.method in ("sendPhoto", "sendDocument")]
    assert files, "its attachments"
    number = report_number(first)
    second = await staff.press(f"已核实 #{number}")
    assert f"报告 #{number}（洛阳铸造13厂）已核实" in second, "the verdict names it too"
    assert "洛阳铸造14厂" in second and "共1份" in second, "on to the next one"
    other = int(re.findall(r"#(\d+)", second)[-1])
    assert other != number
    asked = await staff.press(f"有问题 #{other}")
    assert "洛阳铸造14厂" in asked, "the comment prompt names the enterprise"
    done = await staff.say("验收照片看不清")
    assert "已通知企业" in done and "没有待审核的填报" in done
    assert "洛阳铸造13厂" in await staff.say(f"/review {number}"), "a review screen names it"
