"""Typing the exact label of a button on screen does what pressing it does, at every step
of /register and /report (issue 11, item 5)."""

from __future__ import annotations

from pathlib import Path

from knowledge.engine import Engine
from storage.enterprises import enterprise_of_user
from storage.reports import latest_by_task
from tests.bot_harness import running_bot
from tests.dialog_driver import Chat, answer_qualifiers, credit_code, register_approved

ALICE = 1001


async def test_register_by_typing_every_button_label(tmp_path: Path, engine: Engine) -> None:
    async with running_bot(tmp_path, engine=engine, flood_burst=1000) as bot:
        alice = Chat(bot, ALICE)
        await alice.say("/register")
        await alice.say("河南绿源化工有限公司")
        assert "第3步" in await alice.say(credit_code(3, "410305"))  # issued in Luoyang
        assert "第4步" in await alice.say("洛阳市")  # a city button's label
        reply = await alice.say("跳过")
        assert "第5步" in reply, "跳过 typed at the county step skips it"
        assert "已选：化工" in await alice.say("化工")  # an industry button's label
        assert "已选：化工、制药" in await alice.say("制药")
        assert "已选：化工\n" in await alice.say("✅ 制药") + "\n"  # the chosen mark: a toggle
        reply = await alice.say("完成")
        assert "第5步（补充 1/" in reply, "完成 typed where the button is shown"
        reply = await answer_qualifiers(alice, reply, typed=True)  # 不清楚 typed, each time
        assert "第6步" in reply
        await alice.say("张三")
        summary = await alice.say("13812345678")
        assert "县（市、区）：—" in summary, "the county is not the word 跳过"
        assert "请选择要修改的内容" in await alice.say("修改")
        assert "第7步" in await alice.say("联系电话")
        await alice.say("13912345678")
        assert "正在等待本平台工作人员审核" in await alice.say("确认提交")
        membership = enterprise_of_user(bot.db, ALICE)
        assert membership is not None
        assert membership.enterprise.county is None
        assert membership.enterprise.phone == "13912345678"


async def test_register_typed_cancel_and_unmatched_text(tmp_path: Path, engine: Engine) -> None:
    async with running_bot(tmp_path, engine=engine, flood_burst=1000) as bot:
        alice = Chat(bot, ALICE)
        await alice.say("/register")
        await alice.say("某公司")
        await alice.say(credit_code(4))
        await alice.press("郑州市")
        await alice.press("跳过")
        await alice.press("化工")
        await answer_qualifiers(alice, await alice.say("完成"), typed=True)
        await alice.say("张三")
        await alice.say("13812345678")
        reply = await alice.say("好的")  # not a label: what to do, and the same step
        assert "输入按钮上的文字" in reply and "请核对以上信息" in reply
        assert "已取消企业登记" in await alice.say("取消")
        assert enterprise_of_user(bot.db, ALICE) is None


async def test_report_by_typing_every_button_label(tmp_path: Path, engine: Engine) -> None:
    async with running_bot(tmp_path, engine=engine, flood_burst=1000) as bot:
        alice = Chat(bot, ALICE)
        await register_approved(alice)
        await alice.say("/report")
        assert "全部26项任务" in await alice.say("全部任务（26项）")
        assert "第2/3页" in await alice.say("下一页")  # the arrow is not needed
        assert "第1/3页" in await alice.say("上一页")
        assert "与贵企业行业相关的任务" in await alice.say("只看相关任务")
        label = alice.labels()[0]  # e.g. "8. 严控煤炭消费总量"
        assert "第2步" in await alice.say(label)
        assert "第3步" in await alice.say("进行中")
        reply = await alice.say("跳过")
        assert "第4步" in reply, "跳过 typed at the percentage step skips it"
        await alice.say("施工中")
        await alice.say("12月底")
        summary = await alice.say("完成")
        assert "进行中" in summary and "完成约" not in summary
        assert "请选择要修改的内容" in await alice.say("修改")
        assert "第4步" in await alice.say("情况说明")
        await alice.say("设备已到货")
        assert "报告编号 #1" in await alice.say("确认提交")
        membership = enterprise_of_user(bot.db, ALICE)
        assert membership is not None
        [stored] = latest_by_task(bot.db, membership.enterprise.id).values()
        assert stored.percent is None and stored.description == "设备已到货"


async def test_report_typed_skip_of_an_optional_date(tmp_path: Path, engine: Engine) -> None:
    async with running_bot(tmp_path, engine=engine, flood_burst=1000) as bot:
        alice = Chat(bot, ALICE)
        await register_approved(alice)
        await alice.say("/report")
        await alice.say("4")
        await alice.say("不涉及")
        await alice.say("本企业没有这类产能")
        assert "第5步" in await alice.say("跳过")  # 不涉及 asks no percentage: no gap
        assert "相关日期：—" in await alice.say("完成")
        assert "已取消进展填报" in await alice.say("取消")
