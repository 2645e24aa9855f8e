"""Staff in chat: /reports with filters, scope and pages; an enterprise's history with its
attachments; reviews reaching the enterprise; /enterprise; /overdue and /silent;
/unanswered teaching the bot."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from knowledge.engine import Engine
from storage.clock import SHANGHAI
from storage.db import open_db
from storage.enterprises import approve, register
from storage.learned import learn
from storage.reports import Attachment, ReportDraft, add_report
from storage.users import Role, grant_role
from tests.bot_harness import FakeClock, RunningBot, plan_shape, running_bot
from tests.dialog_driver import Chat, credit_code, register_approved, report

ADMIN = 900
LY_STAFF, ZZ_STAFF, PROVINCE_STAFF = 20, 21, 22
ZZ_COUNT, LY_COUNT = 13, 3


def beijing(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SHANGHAI).astimezone(dt.UTC)


def _setup(path: Path, now: dt.datetime) -> dict[str, list[int]]:
    """13 casting enterprises in 郑州市 (reports on tasks 2 and 13) and 3 in 洛阳市
    (one report each; one never reported); staff of both cities and the province."""
    db = open_db(path / "lvdong.sqlite")
    ids: dict[str, list[int]] = {"郑州市": [], "洛阳市": []}
    for n in range(ZZ_COUNT + LY_COUNT):
        city = "郑州市" if n < ZZ_COUNT else "洛阳市"
        user = 7000 + n
        reg = register(db, user_id=user, name=f"{city[:2]}铸造{n:02d}厂",
                       credit_code=credit_code(n), city=city, county=None, industries=["铸造"],
                       contact_name="联系人", phone="13800000000", now=now)
        approve(db, account_id=reg.account.id, approver_id=ADMIN, admins=frozenset({ADMIN}),
                now=now)
        ids[city].append(reg.enterprise.id)
        if city == "郑州市":
            for task in (2, 13):
                add_report(db, ReportDraft(enterprise_id=reg.enterprise.id, user_id=user,
                                           task=task, status="进行中", percent=50,
                                           description="施工中"), now, **plan_shape())
        elif n < ZZ_COUNT + LY_COUNT - 1:
            add_report(db, ReportDraft(
                enterprise_id=reg.enterprise.id, user_id=user, task=2, status="已完成",
                description="已淘汰冲天炉", completion_date=dt.date(2021, 5, 1),
                attachments=(Attachment("photo-1", "u-photo-1", "photo", "image/jpeg", 1000),
                             Attachment("doc-1", "u-doc-1", "document", "application/pdf",
                                        2000, "验收.pdf"))), now, **plan_shape())
    grant_role(db, LY_STAFF, Role.STAFF, ["洛阳市"], now)
    grant_role(db, ZZ_STAFF, Role.STAFF, ["郑州市"], now)
    grant_role(db, PROVINCE_STAFF, Role.STAFF, (), now)
    db.conn.close()
    return ids


NOW = beijing(2026, 12, 1, 10, 0)


@pytest.fixture
async def bot(tmp_path: Path, engine: Engine) -> object:
    _setup(tmp_path, NOW - dt.timedelta(days=3))
    async with running_bot(tmp_path, engine=engine, clock=FakeClock(NOW),
                           flood_burst=10_000) as running:
        yield running


def shown_rows(text: str) -> list[str]:
    return re.findall(r"^\d+\. .*$", text, flags=re.M)


async def test_reports_by_typed_filter_within_scope_and_pages(bot: RunningBot) -> None:
    ly = Chat(bot, LY_STAFF)
    text = await ly.say("/reports")
    assert "查看填报" in text and "当前条件：不限" in text
    mine = await ly.say("/reports 任务2")
    assert "共2条" in mine and "郑州" not in mine, "only Luoyang's reports"
    refused = await ly.say("/reports 郑州")
    assert "不在您负责的范围（洛阳市）" in refused
    assert "看不懂“火星”" in await ly.say("/reports 火星")

    province = Chat(bot, PROVINCE_STAFF)
    first = await province.say("/reports 郑州 任务2 任务13 进行中")
    assert "共26条（第1–10条）" in first and len(shown_rows(first)) == 10
    assert "上一页" not in str(province.labels())
    second = await province.press("下一页 ›")
    assert "第11–20条" in second
    third = await province.press("下一页 ›")
    assert "第21–26条" in third and len(shown_rows(third)) == 6
    assert "下一页 ›" not in province.labels()
    assert "第11–20条" in await province.press("‹ 上一页")
    done = await province.say("/reports 已完成")
    assert "共2条" in done and "洛阳" in done


async def test_the_filter_panel_sets_conditions_with_buttons(bot: RunningBot) -> None:
    staff = Chat(bot, PROVINCE_STAFF)
    await staff.say("/reports")
    regions = await staff.press("地市")
    assert "可多选" in regions
    await staff.press("洛阳市")
    assert "✅ 洛阳市" in staff.labels()
    await staff.press("‹ 返回")
    results = await staff.press("🔍 查看结果")
    assert "洛阳市" in results and "共2条" in results
    await staff.press("筛选条件")
    cleared = await staff.press("清除条件")
    assert "当前条件：不限" in cleared


async def test_an_enterprise_opens_to_its_history_with_attachments_and_reviews(
    bot: RunningBot,
) -> None:
    staff = Chat(bot, LY_STAFF)
    await staff.say("/reports 已完成")
    opened = await staff.press(staff.labels()[0])
    assert "各项任务进展" in opened and "全部填报记录" in opened and "已淘汰冲天炉" in opened
    files = [c for c in bot.api.calls if c.params.get("chat_id") == LY_STAFF
             and c.method in ("sendPhoto", "sendDocument")]
    assert {c.params.get("photo") or c.params.get("document") for c in files} == {
        "photo-1", "doc-1"}, "the stored files are sent again by file_id"
    report_id = int(re.search(r"#(\d+)", opened)[1])  # type: ignore[index]
    asked = await staff.press(f"有问题 #{report_id}")
    assert "请输入问题" in asked
    assert "请输入问题" in await staff.say("😀"), "a comment needs some text: asked again"
    done = await staff.say("验收照片看不清，请补拍")
    assert "已通知企业" in done
    owner = bot.rows("SELECT user_id FROM reports WHERE id = ?", (report_id,))[0]["user_id"]
    note = [c.params["text"] for c in bot.api.sent(owner) if "报告审核" in str(c.params["text"])]
    assert note and "有问题" in note[0] and "验收照片看不清" in note[0] and "/report" in note[0]
    history = await Chat(bot, owner).say("/myreports")
    assert "审核：有问题（验收照片看不清，请补拍）" in history
    verified = await staff.press(f"已核实 #{report_id}")
    assert "已核实" in verified
    assert bot.rows("SELECT verdict FROM reviews ORDER BY id") == [
        {"verdict": "problem"}, {"verdict": "verified"}]
    assert bot.rows("SELECT count(*) AS n FROM audit_log WHERE action = 'review'") == [{"n": 2}]


async def test_nobody_reviews_their_own_enterprise(bot: RunningBot) -> None:
    owner = Chat(bot, 8888)
    await register_approved(owner, city="洛阳市", county=None, code=credit_code(99, "410300"))
    await report(owner, task=2)
    grant_role(bot.db, 8888, Role.STAFF, ["洛阳市"], bot.clock())
    report_id = bot.rows("SELECT max(id) AS id FROM reports")[0]["id"]
    refused = await owner.say(f"/review {report_id}")
    assert "不能处理与您本人或本企业有关" in refused
    assert "已核实" in await Chat(bot, LY_STAFF).say(f"/review {report_id} 已核实")


async def test_enterprise_search_by_name_and_code_within_scope(bot: RunningBot) -> None:
    staff = Chat(bot, PROVINCE_STAFF)
    found = await staff.say("/enterprise 洛阳铸造13")
    assert "洛阳铸造13厂" in found and "各项任务进展" in found
    assert "未填报" in found, "tasks that concern it and have no report yet are listed"
    by_code = await staff.say(f"/enterprise {credit_code(14)}")
    assert "洛阳铸造14厂" in by_code
    assert "没有找到" in await Chat(bot, LY_STAFF).say("/enterprise 郑州铸造01厂")
    assert "没有找到" in await Chat(bot, ZZ_STAFF).say(f"/enterprise {credit_code(14)}"), (
        "a code outside the scope")


async def test_overdue_and_silent_count_first_within_scope(bot: RunningBot) -> None:
    province = Chat(bot, PROVINCE_STAFF)
    overdue = await province.say("/overdue 任务2")
    # task 2 (铸造) passed in 2021: 13 in 郑州市 are 进行中, 1 in 洛阳市 never reported
    assert "共<b>14</b>项" not in overdue and "共14项" in overdue
    assert "郑州市13、洛阳市1" in overdue
    assert "从未填报" in overdue
    ly = await Chat(bot, LY_STAFF).say("/overdue 任务2")
    assert "共1项" in ly and "郑州" not in ly
    silent = await province.say("/silent")
    assert "共1家" in silent and "洛阳铸造15厂" in silent


async def test_unanswered_questions_are_taught_and_then_answered(bot: RunningBot) -> None:
    asker = Chat(bot, 9999)
    first = await asker.say("化铁的那个炉子咋整")
    staff = Chat(bot, PROVINCE_STAFF)
    listing = await staff.say("/unanswered")
    assert "化铁的那个炉子咋整" in listing and "提问1次" in listing
    choice = next(label for label in staff.labels() if label.startswith("关联到"))
    taught = await staff.press(choice)
    assert "已把“化铁的那个炉子咋整”关联到" in taught
    again = await asker.say("化铁的那个炉子咋整？")
    assert again != first and "依据" in again
    assert bot.rows("SELECT confident FROM questions ORDER BY id DESC LIMIT 1") == [
        {"confident": 1}]
    learned = await staff.say("/learned")
    assert "化铁的那个炉子咋整" in learned
    await staff.press(next(label for label in staff.labels() if label.startswith("删除")))
    assert "还没有关联过问题" in await staff.say("/learned")


def test_taught_questions_export_as_yaml(tmp_path: Path) -> None:
    db = open_db(tmp_path / "lvdong.sqlite")
    learn(db, question="化铁炉咋整", normalized="化铁炉咋整", fact_id="ban-cupola", by=1,
          now=NOW)
    learn(db, question="冲天炉\"要\"拆吗", normalized="冲天炉要拆吗", fact_id="ban-cupola", by=1,
          now=NOW)
    db.conn.close()
    out = tmp_path / "learned.yaml"
    subprocess.run([sys.executable, "-m", "bot.cli", "kb", "learned", "--out", str(out)],
                   env={**os.environ, "LVDONG_DB": str(tmp_path / "lvdong.sqlite")},
                   check=True, timeout=60, cwd=Path(__file__).resolve().parent.parent)
    assert yaml.safe_load(out.read_text(encoding="utf-8")) == [
        {"fact": "ban-cupola", "questions": ["化铁炉咋整", "冲天炉\"要\"拆吗"]}]


def _sent_file(bot: RunningBot, chat: int, kind: str) -> tuple[bytes, str]:
    """The bytes and caption of the newest photo or document the bot sent to ``chat``."""
    message = max((m for (cid, _), m in bot.api.messages.items()
                   if cid == chat and kind in m and m.get("from", {}).get("id") == bot.api.bot_id),
                  key=lambda m: m["message_id"])
    found = message[kind][-1] if kind == "photo" else message[kind]
    return bot.api.files[found["file_id"]], str(message.get("caption", ""))


async def test_stats_sends_a_chart_within_scope(bot: RunningBot) -> None:
    ly = Chat(bot, LY_STAFF)
    await ly.say("/stats 任务2")
    picture, caption = _sent_file(bot, LY_STAFF, "photo")
    assert picture.startswith(b"\x89PNG") and len(picture) > 5_000
    assert "任务2" in caption and "洛阳市" in caption and "郑州" not in caption
    await Chat(bot, PROVINCE_STAFF).say("/stats")
    _, caption = _sent_file(bot, PROVINCE_STAFF, "photo")
    assert "各任务完成情况" in caption


async def test_export_sends_the_ledger_of_the_filter_within_scope(bot: RunningBot) -> None:
    import io

    import openpyxl

    ly = Chat(bot, LY_STAFF)
    await ly.say("/reports 任务2")
    await ly.press("📥 导出Excel")
    data, caption = _sent_file(bot, LY_STAFF, "document")
    book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
    latest = list(book[book.sheetnames[0]].iter_rows(values_only=True))
    reported = [row for row in latest[1:] if row[6] != "未填报"]
    assert len(reported) == 2, "Luoyang's two reports on task 2 (and 未填报 rows for the rest)"
    assert all("洛阳" in str(row) for row in latest[1:])
    assert "最新进展" in caption
    await ly.say("/export csv")
    data, _ = _sent_file(bot, LY_STAFF, "document")
    assert data.startswith("\ufeff".encode()) and "洛阳" in data.decode("utf-8-sig")
