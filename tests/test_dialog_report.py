"""/report and /myreports over the HTTP stand-in: steps, validation, attachments, history."""

from __future__ import annotations

from pathlib import Path

from handlers.enterprise.attachments import MAX_ATTACHMENTS, MAX_BYTES
from knowledge.engine import Engine
from storage.enterprises import enterprise_of_user
from storage.reports import history, latest_by_task
from tests.bot_harness import running_bot
from tests.dialog_driver import Chat, register_approved, report

ALICE, BOB, ADMIN = 1001, 1002, 900


async def test_report_needs_a_bound_enterprise(tmp_path: Path, engine: Engine) -> None:
    async with running_bot(tmp_path, engine=engine, flood_burst=1000) as bot:
        bob = Chat(bot, BOB)
        assert "请先发送 /register" in await bob.say("/report")
        assert "请先发送 /register" in await bob.say("/myreports")


async def test_tasks_of_the_enterprise_industries_come_first_then_all_26(
    tmp_path: Path, engine: Engine
) -> None:
    async with running_bot(tmp_path, engine=engine, flood_burst=1000) as bot:
        alice = Chat(bot, ALICE)
        await register_approved(alice, industries=("汽车",))
        reply = await alice.say("/report")
        assert "与贵企业行业相关的任务" in reply
        relevant = [t.number for t in engine.kb.tasks_concerning(["汽车"])]
        assert 10 in relevant and 8 not in relevant and len(relevant) <= 10
        labels = alice.labels()
        assert [int(label.split(".")[0]) for label in labels[:-1]] == relevant
        assert labels[-1] == "全部任务（26项）"
        reply = await alice.press("全部任务（26项）")
        assert "第1/3页" in reply
        assert alice.labels()[0].startswith("1.") and "下一页 ›" in alice.labels()
        await alice.press("下一页 ›")
        await alice.press("下一页 ›")
        assert alice.labels()[0].startswith("21.") and "‹ 上一页" in alice.labels()
        _, data = alice.button(alice.labels()[5])
        assert data == "rp:t:26"
        assert "任务26" in await alice.press(alice.labels()[5])


async def test_the_tasks_offered_first_follow_the_qualifiers_answered_at_registration(
    tmp_path: Path, engine: Engine
) -> None:
    """A 汽车 enterprise that is a 土壤污染重点监管单位 sees the soil tasks among its own;
    one that answered 否 does not (the one answer, ``tasks_of``)."""
    async with running_bot(tmp_path, engine=engine, flood_burst=1000) as bot:
        alice, bob = Chat(bot, ALICE), Chat(bot, BOB)
        await register_approved(alice, industries=("汽车",), qualifiers={"土壤污染": "是"})
        await register_approved(bob, industries=("汽车",), name="河南另一家汽车有限公司",
                                qualifiers={"土壤污染": "否"})
        await alice.say("/report")
        await bob.say("/report")
        offered = {chat.user_id: {int(label.split(".")[0]) for label in chat.labels()[:-1]}
                   for chat in (alice, bob)}
        assert {24, 25} <= offered[ALICE]
        assert not {24, 25} & offered[BOB]
        assert offered[ALICE] - {24, 25} == offered[BOB]


async def test_an_expected_date_past_or_after_the_deadline_is_asked_once_more(
    tmp_path: Path, engine: Engine
) -> None:
    """The clock says 2021-06-01; task 2 binds a foundry by 2021年年底前 (its last date)."""
    async with running_bot(tmp_path, engine=engine, flood_burst=1000) as bot:
        alice = Chat(bot, ALICE)
        await register_approved(alice, industries=("铸造",))
        await alice.say("/report")
        await alice.say("2")
        await alice.press("进行中")
        await alice.say("50")
        await alice.say("冲天炉拆除方案已报备")
        reply = await alice.say("2022-03-31")
        assert "晚于任务2的期限（2021年年底前，2021-12-31）" in reply and "第5步" in reply
        reply = await alice.say("2021-05-20")
        assert "已经过去（今天是 2021-06-01）" in reply and "第5步" in reply
        assert "第6步" in await alice.say("2021-11-30"), "a date within the deadline goes on"
        assert "预计完成日期：2021-11-30" in await alice.press("完成")
        # the same late date typed twice is taken as meant
        assert "请选择要修改的内容" in await alice.press("修改")
        await alice.press("完成日期")
        assert "晚于任务2的期限" in await alice.say("2022-01-15")
        assert "预计完成日期：2022-01-15" in await alice.say("2022-01-15")


async def test_each_report_step_rejects_bad_input_and_keeps_the_rest(
    tmp_path: Path, engine: Engine
) -> None:
    async with running_bot(tmp_path, engine=engine, flood_burst=1000) as bot:
        alice = Chat(bot, ALICE)
        await register_approved(alice)
        await alice.say("/report")
        reply = await alice.say("第30项")
        assert "任务编号应在1到26之间" in reply and "第1步" in reply
        assert "第2步" in await alice.say("第8项")
        reply = await alice.say("差不多吧")
        assert "请选择进展状态" in reply and "第2步" in reply
        assert "第3步" in await alice.press("进行中")
        reply = await alice.say("150")
        assert "应在0到100之间，您填写的是150" in reply and "第3步" in reply
        reply = await alice.say("六成")
        assert "请填写完成比例" in reply and "第3步" in reply
        assert "第4步" in await alice.say("百分之六十")
        reply = await alice.say("很" * 501)
        assert "最多500字，您输入了501字" in reply and "第4步" in reply
        reply = await alice.say("👍👍！")
        assert "不能只有表情或符号" in reply and "第4步" in reply
        reply = await alice.say("፩")
        assert "不能只有表情或符号" in reply, "an Ethiopic digit is no decimal figure"
        assert "第5步" in await alice.say("锅炉改造施工中")
        reply = await alice.say("下下个月吧")
        assert "没有看懂这个日期" in reply and "第5步" in reply
        reply = await alice.say("2021年2月30日")
        assert "不是有效日期" in reply and "第5步" in reply
        reply = await alice.press("跳过")
        assert "不能跳过" in reply and "第5步" in reply
        assert "第6步" in await alice.say("2021年12月31日")

        reply = await alice.document(file_name="方案.docx", mime_type="application/msword")
        assert "只接受照片和PDF文件" in reply and "方案.docx" in reply and "已添加0个" in reply
        reply = await alice.document(file_size=MAX_BYTES + 1)
        assert "文件太大" in reply and "已添加0个" in reply
        reply = await alice.say("附件在路上")
        assert "只接受照片和PDF" in reply and "第6步" in reply
        assert "已添加1个" in await alice.photo()
        reply = await alice.photo(unique="same")
        assert "已添加2个" in reply
        assert "已经添加过了" in await alice.photo(unique="same")
        for _ in range(MAX_ATTACHMENTS - 2):
            await alice.document()
        reply = await alice.document()
        assert f"最多只能添加{MAX_ATTACHMENTS}个附件" in reply
        assert f"已添加{MAX_ATTACHMENTS}个" in reply

        summary = await alice.press("完成")
        for expected in ("任务：8.", "进行中（完成约60%）", "锅炉改造施工中", "2021-12-31",
                         f"附件：{MAX_ATTACHMENTS}个"):
            assert expected in summary
        reply = await alice.press("确认提交")
        assert "已收到，报告编号 #1" in reply
        membership = enterprise_of_user(bot.db, ALICE)
        assert membership is not None
        [stored] = history(bot.db, membership.enterprise.id, 8)
        assert stored.status == "进行中" and stored.percent == 60
        assert not stored.from_pending, "only approved accounts report"
        assert [a.kind for a in stored.attachments] == ["photo", "photo"] + ["document"] * 3
        photo = stored.attachments[0]
        assert photo.file_id.startswith("p") and photo.size == 50_000, "the largest size"
        assert stored.attachments[2].mime_type == "application/pdf"
        assert stored.attachments[2].file_name == "报告.pdf"


async def test_status_rules_done_and_not_applicable(tmp_path: Path, engine: Engine) -> None:
    async with running_bot(tmp_path, engine=engine, flood_burst=1000) as bot:
        alice = Chat(bot, ALICE)
        await register_approved(alice)
        await alice.say("/report")
        await alice.say("3")
        assert "第4步" in await alice.press("已完成"), "no percentage for 已完成"
        await alice.say("已经全部完成")
        reply = await alice.say("2021-12-31")  # the harness clock is 2021-06-01
        assert "不能晚于今天（2021-06-01）" in reply
        await alice.say("5月底")
        assert "实际完成日期：2021-05-31" in await alice.press("完成")
        await alice.press("确认提交")
        summary = await report(alice, task=4, status="不涉及", date=None, confirm=False)
        assert "状态：不涉及" in summary and "相关日期：—" in summary
        assert "报告编号" in await alice.press("确认提交")
        membership = enterprise_of_user(bot.db, ALICE)
        assert membership is not None
        latest = latest_by_task(bot.db, membership.enterprise.id)
        assert latest[3].percent == 100 and latest[4].completion_date is None


async def test_edit_from_the_summary_changes_one_field(tmp_path: Path, engine: Engine) -> None:
    async with running_bot(tmp_path, engine=engine, flood_burst=1000) as bot:
        alice = Chat(bot, ALICE)
        await register_approved(alice)
        await report(alice, confirm=False)
        await alice.press("修改")
        await alice.press("情况说明")
        summary = await alice.say("改为：设备已到货")
        assert "改为：设备已到货" in summary and "进行中（完成约60%）" in summary
        await alice.press("修改")
        await alice.press("状态和比例")
        await alice.press("已完成")
        assert "实际完成日期" in await alice.say("6月1日")  # the date is asked again
        assert "报告编号" in await alice.press("确认提交")


async def test_history_kept_across_reports_and_shown_by_myreports(
    tmp_path: Path, engine: Engine
) -> None:
    async with running_bot(tmp_path, engine=engine, flood_burst=1000) as bot:
        alice = Chat(bot, ALICE)
        await register_approved(alice)
        assert "还没有填报过" in await alice.say("/myreports")
        await report(alice, task=8, percent="20", description="开始改造")
        bot.clock.advance(86400 * 10)
        await report(alice, task=8, percent="70", description="主体完工")
        await report(alice, task=18, status="未开始", description="正在招标", date="明年3月")
        bot.clock.advance(86400 * 10)
        await report(alice, task=8, status="已完成", description="验收通过", date="6月15日")

        listing = await alice.say("/myreports")
        # reported on 2 of the 5 tasks that concern a 化工 enterprise (8, 18, 20, 22, 26)
        assert "各任务最新进展（2/5项）" in listing
        assert "尚未填报：任务20、任务22、任务26" in listing
        assert "8. 严控煤炭消费总量 — 已完成" in listing
        assert "18. " in listing and "未开始" in listing and "2022-03-31" in listing
        assert "进行中 70%" not in listing, "only the latest report per task"
        assert alice.labels() == ["任务8历史", "任务18历史"]

        shown = await alice.press("任务8历史")
        assert "共3次，最新在前" in shown
        assert shown.index("验收通过") < shown.index("主体完工") < shown.index("开始改造")
        assert "进行中 70%" in shown and "进行中 20%" in shown
        assert "#1 填报于 2021-06-01" in shown and "#4 填报于 2021-06-21" in shown


async def test_myreports_labels_dates_and_flags_an_expected_date_already_past(
    tmp_path: Path, engine: Engine
) -> None:
    """Issue 11, item 12: "进行中 60%，预计2021-12-31（2026-12-01）" said neither what the
    second date was nor that the first had passed."""
    async with running_bot(tmp_path, engine=engine, flood_burst=1000) as bot:
        alice = Chat(bot, ALICE)
        await register_approved(alice)
        await report(alice, task=8, percent="60", date="2021-12-31")
        await report(alice, task=3, status="已完成", description="已验收", date="5月底")
        listing = await alice.say("/myreports")
        assert "进行中 60%；预计完成 2021-12-31；填报于 2021-06-01" in listing
        assert "已完成；实际完成 2021-05-31；填报于 2021-06-01" in listing
        assert "已过预计日期" not in listing
        bot.clock.advance(86400 * 214)  # 2022-01-01
        listing = await alice.say("/myreports")
        assert "预计完成 2021-12-31（⚠️ 已过预计日期，请及时更新进展）" in listing
        assert listing.count("已过预计日期") == 1, "a done task is not flagged"
        shown = await alice.press("任务8历史")
        assert "预计完成 2021-12-31（⚠️ 已过预计日期" in shown and "#1 填报于 2021-06-01" in shown


OTHER_PLAN = """
format: 1
document: {number: 测试〔2023〕2号, title: 另一个测试方案}
sections:
  - {id: air, clause: 二（一）, title: 大气}
tasks:
  - {number: 2, section: air, title: 化工整治, offices: [测试处], industries: [化工],
     text: 化工企业整治。}
  - {number: 5, section: air, title: 全体自查, offices: [测试处], audience: all, text: 全体自查。}
  - {number: 7, section: air, title: 政府工作, offices: [测试处], text: 政府自己的工作。}
offices: {测试处: 测试}
industries: [化工, 制药]
progress:
  statuses:
    - {name: 未开始, date: optional}
    - {name: 进行中}
    - {name: 已完成, done: true, date: actual}
standards: []
aliases: {}
rules: []
facts: []
"""


async def test_the_report_dialog_takes_the_plan_from_the_knowledge_base(
    tmp_path: Path
) -> None:
    """Another plan's YAML: its task numbers, statuses and their behaviour, its first page."""
    from knowledge.engine import load_engine

    path = tmp_path / "other.yaml"
    path.write_text(OTHER_PLAN, encoding="utf-8")
    other = load_engine(path)
    async with running_bot(tmp_path, engine=other, flood_burst=1000) as bot:
        alice = Chat(bot, ALICE)
        await register_approved(alice, industries=("化工",))
        reply = await alice.say("/report")
        assert alice.labels() == ["2. 化工整治", "5. 全体自查", "全部任务（3项）"]
        reply = await alice.say("3")
        assert "没有任务3，任务编号为：2、5、7" in reply
        reply = await alice.say("5")
        assert alice.labels() == ["未开始", "进行中", "已完成"], "the KB's statuses, no 不涉及"
        assert "请选择进展状态：未开始、进行中、已完成" in await alice.say("不涉及")
        reply = await alice.press("进行中")
        assert "第4步" in reply, "this plan's 进行中 asks no percentage"
        assert "第5步：请输入预计完成日期" in await alice.say("自查中")
        assert "已取消" in await alice.say("/cancel")
        await alice.say("/report")
        await alice.say("2")
        await alice.press("未开始")
        await alice.say("尚未安排")
        assert "第6步" in await alice.press("跳过"), "this plan's 未开始 has an optional date"
        summary = await alice.press("完成")
        assert "相关日期：—" in summary and "完成约" not in summary
        assert "报告编号 #1" in await alice.press("确认提交")


async def test_a_renamed_exe_is_not_a_pdf(tmp_path: Path, engine: Engine) -> None:
    """Issue 9: the bot downloads the file (getFile) and checks its leading bytes."""
    async with running_bot(tmp_path, engine=engine, flood_burst=1000) as bot:
        alice = Chat(bot, ALICE)
        await register_approved(alice)
        await report(alice, confirm=False)
        await alice.press("修改")
        await alice.press("附件（重新添加）")
        reply = await alice.document(file_name="验收报告.pdf", content=b"MZ\x90\x00" + b"\0" * 600)
        assert "“验收报告.pdf”的内容不是PDF格式" in reply and "已添加0个" in reply
        reply = await alice.document(file_name="伪装\u202efdp.exe", mime_type="application/pdf",
                                     content=b"MZ" + b"\0" * 100)
        assert "伪装fdp.exe" in reply, "the name is shown without its bidi override"
        preamble = b"junk before the header\n%PDF-1.7\n"  # allowed within the first 1 KB
        assert "已添加1个" in await alice.document(content=preamble)
        assert "已添加2个" in await alice.document(file_name="方案.pdf")
        assert "附件：2个" in await alice.press("完成")
        downloads = [c for c in bot.api.calls if c.method == "downloadFile"]
        assert len(downloads) == 4, "every claimed PDF was fetched through getFile"
        assert "file" in bot.server.requests, "over HTTP, at /file/bot<token>/<path>"
