"""Enterprises of the imported list in chat, over the Bot API stand-in: the invitation
link (/start payload) binds an account, a replayed, forged or reissued code is refused,
staff reissue from the card; /import limited to the staff member's scope; /silent
showing 未加入 apart; /notify's preview counting who cannot be reached."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from pathlib import Path

import openpyxl
import pytest

from bot.local_api import BOT_USERNAME
from handlers.staff.importing import run_import
from knowledge.engine import Engine
from storage.db import open_db
from storage.enterprise_invites import live_code, load_key
from storage.enterprises import enterprise_of_user, find_by_code
from storage.users import PROVINCE, Role, grant_role
from tests.bot_harness import FakeClock, RunningBot, running_bot
from tests.dialog_driver import Chat, credit_code

NOW = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
LY_STAFF, ZZ_STAFF = 20, 21
HEADER = ("企业名称", "统一社会信用代码", "地市", "区县", "行业", "联系人", "联系电话")
CHEM = ("绿源化工有限公司", credit_code(1), "郑州市", "中牟县", "化工", "张三", "13812345678")
CAST = ("郑州铸造厂", credit_code(2), "郑州市", "", "铸造", "李四", "13812345679")
LY_CAST = ("洛阳铸造厂", credit_code(3, "410300"), "洛阳市", "", "铸造", "王五", "13812345670")


def as_csv(*rows: tuple[str, ...]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([HEADER, *rows])
    return out.getvalue().encode("utf-8-sig")


@pytest.fixture
async def bot(tmp_path: Path, engine: Engine) -> object:
    path = tmp_path / "lvdong.sqlite"
    db = open_db(path)
    run_import(db, as_csv(CHEM, CAST), "名单.csv", kb=engine.kb, scope=PROVINCE, actor_id=0,
               now=NOW, key=load_key(path), valid_for=dt.timedelta(days=90))
    grant_role(db, LY_STAFF, Role.STAFF, ["洛阳市"], NOW)
    grant_role(db, ZZ_STAFF, Role.STAFF, ["郑州市"], NOW)
    db.conn.close()
    async with running_bot(tmp_path, engine=engine, clock=FakeClock(NOW + dt.timedelta(hours=1)),
                           flood_burst=10_000) as running:
        yield running


def code_of(bot: RunningBot, row: tuple[str, ...]) -> str:
    enterprise = find_by_code(bot.db, row[1])
    assert enterprise is not None
    code = live_code(bot.db, enterprise.id, load_key(bot.app.bot_data.db_path), bot.clock())
    assert code is not None
    return code


async def test_the_link_binds_the_account_approved_and_greets_it_with_its_tasks(
        bot: RunningBot) -> None:
    code = code_of(bot, CHEM)
    welcome = await Chat(bot, 6001).say(f"/start {code}")
    assert "欢迎，绿源化工有限公司" in welcome and "与贵企业相关的任务" in welcome
    concerned = bot.app.bot_data.kb.tasks_concerning(["化工"])
    assert f"任务{concerned[0].number} {concerned[0].title}" in welcome
    membership = enterprise_of_user(bot.db, 6001)
    assert membership is not None and membership.can_report
    assert membership.enterprise.name == CHEM[0]
    assert code not in str(bot.rows("SELECT * FROM enterprise_invites")), "hashes only"

    assert "已绑定“绿源化工有限公司”" in await Chat(bot, 6001).say(f"/start {code}")
    replayed = await Chat(bot, 6002).say(f"/start {code}")
    assert "已经被使用过" in replayed and "/register" in replayed
    assert enterprise_of_user(bot.db, 6002) is None
    forged = await Chat(bot, 6003).say(f"/start ent_{'A' * 27}")
    assert "无效" in forged and enterprise_of_user(bot.db, 6003) is None

    card = await Chat(bot, ZZ_STAFF).say(f"/enterprise {CHEM[1]}")
    assert "已由用户 6001" in card, "staff see who used it"


async def test_staff_reissue_a_link_from_the_card_and_the_old_one_stops(
        bot: RunningBot) -> None:
    old = code_of(bot, CAST)
    staff = Chat(bot, ZZ_STAFF)
    card = await staff.say(f"/enterprise {CAST[1]}")
    assert f"https://t.me/{BOT_USERNAME}?start={old}" in card
    reissued = await staff.press("🔁 重新发放邀请链接")
    new = re.search(r"start=(ent_[\w-]+)", reissued)[1]  # type: ignore[index]
    assert new != old and "原链接已作废" in reissued
    assert "已作废" in await Chat(bot, 6010).say(f"/start {old}")
    assert enterprise_of_user(bot.db, 6010) is None
    assert "欢迎，郑州铸造厂" in await Chat(bot, 6011).say(f"/start {new}")
    outside = await Chat(bot, LY_STAFF).say(f"/enterprise {CAST[1]}")
    assert "重新发放" not in outside and new not in outside  # another city's staff


async def test_import_in_chat_refuses_rows_outside_the_staff_members_scope(
        bot: RunningBot) -> None:
    ly = Chat(bot, LY_STAFF)
    assert "请把名单作为文件发送" in await ly.say("/import")
    reply = await ly.document(file_name="名单.csv", mime_type="text/csv",
                              content=as_csv(LY_CAST, ("郑州新厂", credit_code(4), "郑州市", "",
                                                       "铸造", "", "")))
    assert "合格 1 行，有问题 1 行" in reply and "新增 1 家" in reply
    assert "第3行" in reply and "不在您负责的范围（洛阳市）内" in reply
    assert find_by_code(bot.db, LY_CAST[1]) is not None
    assert find_by_code(bot.db, credit_code(4)) is None
    copies = [m for (cid, _), m in bot.api.messages.items()
              if cid == LY_STAFF and "document" in m and m["from"]["id"] == bot.api.bot_id]
    sheet = openpyxl.load_workbook(
        io.BytesIO(bot.api.files[copies[-1]["document"]["file_id"]]), read_only=True)
    rows = list(sheet.worksheets[0].iter_rows(values_only=True))
    assert rows[0][-1] == "问题" and "不在您负责的范围" in str(rows[2][-1])
    refused = await Chat(bot, 7777).say("/import")
    assert "没有权限" in refused


async def test_import_in_chat_refuses_a_bad_file_and_writes_nothing(bot: RunningBot) -> None:
    ly = Chat(bot, LY_STAFF)
    await ly.say("/import")
    reply = await ly.document(file_name="照片.png", mime_type="image/png",
                              content=b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    assert "没有导入" in reply and "不是电子表格" in reply
    assert bot.rows("SELECT count(*) AS n FROM enterprises")[0]["n"] == 2


async def test_silent_shows_not_joined_apart_with_counts_by_city(bot: RunningBot) -> None:
    await Chat(bot, 6001).say(f"/start {code_of(bot, CHEM)}")
    silent = await Chat(bot, ZZ_STAFF).say("/silent")
    assert "未加入" in silent and "已加入未填报" in silent
    absent, joined = silent.split("已加入未填报", 1)
    assert "郑州铸造厂" in absent and "绿源化工有限公司" not in absent
    assert "绿源化工有限公司" in joined and "郑州市1" in absent and "郑州市1" in joined


async def test_overdue_and_the_notice_preview_count_those_not_joined(bot: RunningBot) -> None:
    from handlers.officials.notices import preview
    from storage.audiences import Audience, AudienceKind

    await Chat(bot, 6001).say(f"/start {code_of(bot, CHEM)}")
    overdue = await Chat(bot, ZZ_STAFF).say("/overdue")
    assert "其中未加入1家" in overdue and "郑州铸造厂" in overdue and "— 未加入" in overdue
    shown = preview(bot.db, bot.app.bot_data.kb, Audience(AudienceKind.ALL), PROVINCE)
    assert (shown.enterprises, len(shown.recipients), shown.unreachable) == (2, 1, 1)


async def test_the_card_lists_how_the_list_differs_from_a_registration(
        bot: RunningBot) -> None:
    from storage.enterprises import approve, register

    reg = register(bot.db, user_id=6100, name="洛阳铸造（自报）", credit_code=LY_CAST[1],
                   city="洛阳市", county=None, industries=["铸造"], contact_name="王五",
                   phone="13812345670", now=NOW)
    approve(bot.db, account_id=reg.account.id, approver_id=900, admins=frozenset({900}),
            now=NOW)
    ly = Chat(bot, LY_STAFF)
    await ly.say("/import")
    reply = await ly.document(file_name="名单.csv", mime_type="text/csv", content=as_csv(LY_CAST))
    assert "已通过机器人登记" in reply
    assert "企业名称 登记为“洛阳铸造（自报）”，名单为“洛阳铸造厂”" in reply
    card = await ly.say(f"/enterprise {LY_CAST[1]}")
    assert "名单与登记不一致" in card and "名单为“洛阳铸造厂”" in card


async def test_the_notice_preview_offers_its_audience_as_a_sheet_for_phoning(
        bot: RunningBot) -> None:
    """Issues 16 and 17: who gets the notice in chat, and whom to phone (未加入)."""
    await Chat(bot, 6001).say(f"/start {code_of(bot, CHEM)}")
    grant_role(bot.db, 30, Role.OFFICIAL, ["郑州市"], NOW)
    official = Chat(bot, 30)
    await official.say("/notify")
    await official.press("全部已审核企业")
    preview = await official.say("请于本月底前报送整改进展。")
    assert "1家未加入，无法送达" in preview
    again = await official.press("名单（Excel）")
    assert "预览" in again and "立即发送" in official.labels(), "back at the preview"
    [document] = [c for c in bot.api.calls if c.method == "sendDocument"]
    assert "可送达1家，未加入1家" in str(document.params.get("caption", ""))
    message = max((m for (cid, _), m in bot.api.messages.items() if cid == 30 and "document" in m),
                  key=lambda m: m["message_id"])
    book = openpyxl.load_workbook(io.BytesIO(bot.api.files[message["document"]["file_id"]]),
                                  read_only=True)
    rows = {name: list(book[name].iter_rows(values_only=True))[1:] for name in book.sheetnames}
    assert rows["可送达"] == [("郑州市", "绿源化工有限公司", "张三", "13812345678")]
    assert rows["未加入（需电话联系）"] == [("郑州市", "郑州铸造厂", "李四", "13812345679")]
    assert bot.rows("SELECT count(*) AS n FROM notices") == [{"n": 0}], "nothing sent"
