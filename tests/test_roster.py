"""The enterprise list import (issue 16): every row checked as /register checks it, bad
files refused whole, good rows in one transaction, re-import idempotent, merging with
codes registered through the bot, the round trip of the ledger's 企业 sheet, and
``lvdong import`` on the server."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlite_utils import Database

from handlers.core.industries import read_industries, reading_problems
from handlers.staff.importing import run_import
from handlers.staff.roster_check import check_table
from knowledge.model import KnowledgeBase
from storage.audit import latest
from storage.credit_code import check_credit_code
from storage.db import open_db
from storage.enterprise_invites import InviteKey
from storage.enterprises import accounts_of, approve, find_by_code, register
from storage.fields import parse_phone
from storage.ledger import ENTERPRISES, LATEST, Invitations, export_ledger
from storage.progress import ReportFilter
from storage.regions import county_problem
from storage.roster import MAX_BYTES, MAX_ROWS, BadFile, differences_of, read_table
from storage.users import PROVINCE, Scope
from tests.command_line import Ran
from tests.command_line import lvdong as run_lvdong
from tests.dialog_driver import credit_code

NOW = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
KEY = InviteKey(b"k" * 32)
DAYS = dt.timedelta(days=90)
HEADER = ("企业名称", "统一社会信用代码", "地市", "区县", "行业", "联系人", "联系电话")
GOOD = ("绿源化工有限公司", credit_code(1), "郑州市", "中牟县", "化工", "张三", "13812345678")


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return open_db(tmp_path / "lvdong.sqlite")


def as_csv(*rows: tuple[str, ...], header: tuple[str, ...] = HEADER) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    return out.getvalue().encode("utf-8-sig")


def as_xlsx(*rows: tuple[object, ...], header: tuple[str, ...] = HEADER,
            merge: str | None = None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    if merge:
        sheet.merge_cells(merge)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def problems_of(data: bytes, kb: KnowledgeBase, scope: Scope = PROVINCE,
                registered: dict[str, str] | None = None) -> dict[int, list[str]]:
    return check_table(read_table(data, "名单.csv"), kb, scope, registered or {}).problems


def importing(db: Database, data: bytes, kb: KnowledgeBase, *, scope: Scope = PROVINCE,
              now: dt.datetime = NOW) -> Any:
    return run_import(db, data, "名单.xlsx", kb=kb, scope=scope, actor_id=0, now=now, key=KEY,
                      valid_for=DAYS)


# --- each check ------------------------------------------------------------------------


def test_a_good_row_passes_with_its_values_read_as_registration_reads_them(
        kb: KnowledgeBase) -> None:
    row = ("绿源化工", credit_code(2).lower(), "郑州", "中牟", "铸早、玻璃", "李四",
           "+86 138 1234 5678")
    checked = check_table(read_table(as_csv(row), "x.csv"), kb, PROVINCE, {})
    assert checked.problems == {}
    (listed,) = checked.rows
    assert (listed.row, listed.credit_code, listed.city, listed.county, listed.phone) == (
        2, credit_code(2), "郑州市", "中牟县", "13812345678")
    assert "铸造" in listed.industries and "平板玻璃" in listed.industries  # groups, as /register


@pytest.mark.parametrize("code", ["91410100MA1234567", "91410100MA1234567S", "914101000000000019"])
def test_a_bad_credit_code_gets_the_registration_message(kb: KnowledgeBase, code: str) -> None:
    found = problems_of(as_csv((GOOD[0], code, *GOOD[2:])), kb)
    error = check_credit_code(code).error
    assert error is not None
    assert found == {2: [f"统一社会信用代码：{error.rstrip('。')}"]}


def test_city_unknown_empty_or_against_the_codes_division(kb: KnowledgeBase) -> None:
    found = problems_of(as_csv(
        (GOOD[0], credit_code(3), "火星", "", "", "", ""),
        (GOOD[0], credit_code(4), "", "", "", "", ""),
        (GOOD[0], credit_code(5, "410300"), "郑州市", "", "", "", ""),
        (GOOD[0], credit_code(6, "110100"), "郑州市", "", "", "", "")), kb)
    assert "火星" in found[2][0] and found[2][0].startswith("地市：")
    assert found[3] == ["地市：不能为空"]
    assert "410300" in found[4][0] and "洛阳市" in found[4][0] and "郑州市" in found[4][0]
    assert "不是在河南省登记的" in found[5][0]


def test_a_city_that_differs_from_the_division_is_accepted_where_it_is_registered(
        kb: KnowledgeBase) -> None:
    moved = credit_code(5, "410300")  # a Luoyang code of a company registered in Zhengzhou
    assert problems_of(as_csv((GOOD[0], moved, "郑州市", "", "", "", "")), kb,
                       registered={moved: "郑州市"}) == {}


def test_county_from_the_citys_list_with_the_registration_message(kb: KnowledgeBase) -> None:
    found = problems_of(as_csv(
        (GOOD[0], credit_code(7), "郑州市", "涧西区", "", "", ""),
        (GOOD[0], credit_code(8), "郑州市", "月球区", "", "", ""),
        (GOOD[0], credit_code(9, "410300"), "洛阳市", "偃师市", "", "", ""),  # former name
        (GOOD[0], credit_code(10, "410181"), "巩义市", "中原区", "", "", "")), kb)
    assert found[2] == [f"区县：{county_problem('郑州市', '涧西区').rstrip('。')}"]
    assert found[3] == [f"区县：{county_problem('郑州市', '月球区').rstrip('。')}"]
    assert 4 not in found
    assert found[5] == ["区县：巩义市不分县（市、区），请留空"]


def test_industries_with_the_registration_reading_and_message(kb: KnowledgeBase) -> None:
    found = problems_of(as_csv((GOOD[0], credit_code(11), "郑州市", "", "火星产业", "", ""),
                               (GOOD[0], credit_code(12), "郑州市", "", "铸造厂", "", "")), kb)
    expected = reading_problems(read_industries("火星产业", kb.industry_choices, kb.aliases))
    assert found == {2: [f"行业：{p}" for p in expected]}


def test_a_bad_phone_gets_the_registration_message(kb: KnowledgeBase) -> None:
    found = problems_of(as_csv((*GOOD[:6], "12345")), kb)
    error = parse_phone("12345")
    assert not isinstance(error, str)
    assert found == {2: [f"联系电话：{error.message.rstrip('。')}"]}


def test_a_code_twice_in_the_file_names_the_first_row(kb: KnowledgeBase) -> None:
    found = problems_of(as_csv(GOOD, GOOD, ("另一家", credit_code(1).lower(), "郑州", "", "",
                                            "", "")), kb)
    assert found == {3: ["统一社会信用代码：与第2行重复"], 4: ["统一社会信用代码：与第2行重复"]}


def test_a_formula_where_a_value_belongs(kb: KnowledgeBase) -> None:
    table = read_table(as_xlsx((GOOD[0], GOOD[1], "=\"郑州\"&\"市\"", "", "", "", "")), "x.xlsx")
    found = check_table(table, kb, PROVINCE, {}).problems
    assert found == {2: ['地市：是公式（="郑州"&"市"），请填写数值本身']}
    in_csv = problems_of(as_csv(("=HYPERLINK(\"x\")", *GOOD[1:])), kb)
    assert in_csv == {2: ['企业名称：是公式（=HYPERLINK("x")），请填写数值本身']}


def test_rows_outside_the_importers_scope_are_refused_by_row(kb: KnowledgeBase) -> None:
    luoyang = Scope(frozenset({"洛阳市"}))
    ly_row = ("洛阳铸造", credit_code(13, "410300"), "洛阳市", "", "铸造", "", "")
    found = problems_of(as_csv(GOOD, ly_row), kb, scope=luoyang)
    assert found == {2: ["地市：郑州市不在您负责的范围（洛阳市）内"]}
    registered_elsewhere = problems_of(as_csv(ly_row), kb, scope=luoyang,
                                       registered={credit_code(13, "410300"): "郑州市"})
    assert "已在郑州市登记" in registered_elsewhere[2][0]


def test_row_numbers_are_the_spreadsheets_with_empty_rows_kept(kb: KnowledgeBase) -> None:
    data = as_xlsx(GOOD, (), (), ("", "bad", "郑州市", "", "", "", ""))
    found = check_table(read_table(data, "x.xlsx"), kb, PROVINCE, {}).problems
    assert list(found) == [5]


# --- bad files ------------------------------------------------------------------------


@pytest.mark.parametrize(("data", "says"), [
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 10, "不是电子表格"),
    (b"\xd0\xcf\x11\xe0" + b"\0" * 600, ".xls"),
    (b"PK\x03\x04" + b"\0" * 100, "不是电子表格"),
    (b"", "空"),
    (as_csv(header=("企业名称", "统一社会信用代码", "地市")), "只有表头"),
    (as_csv(GOOD, header=("名字", "代码", "城")), "统一社会信用代码"),
    (as_csv(GOOD, header=("企业名称", "地址", "地市")), "统一社会信用代码"),
    (as_xlsx(GOOD, GOOD, merge="C2:C3"), "合并单元格"),
    (b"x" * (MAX_BYTES + 1), "20 MB"),
], ids=["png", "xls", "broken-zip", "empty", "header-only", "no-code-column", "no-code-column-2",
        "merged-cells", "over-20-mb"])  # not the bytes: an xlsx's change with the clock, so
# each pytest-xdist worker would collect other test ids (and the ids were 20 MB long)
def test_a_bad_file_is_refused_whole_with_a_clear_message(
        kb: KnowledgeBase, db: Database, data: bytes, says: str) -> None:
    with pytest.raises(BadFile) as refused:
        importing(db, data, kb)
    assert says in str(refused.value)
    assert db.execute("SELECT count(*) FROM enterprises").fetchone()[0] == 0


def test_a_missing_column_names_the_columns_looked_for(kb: KnowledgeBase, db: Database) -> None:
    with pytest.raises(BadFile) as refused:
        importing(db, as_csv(GOOD, header=("单位名称", "信用代码", "所在县")), kb)
    assert "地市" in str(refused.value) and "所在市" in str(refused.value)
    with pytest.raises(BadFile) as blank:
        importing(db, as_csv(GOOD, header=("a", "b", "c")), kb)
    assert "第1行" in str(blank.value) and "企业名称" in str(blank.value)


def test_over_the_row_limit_is_refused(kb: KnowledgeBase, db: Database) -> None:
    rows = "\n".join(f"企业{n},{credit_code(n)},郑州市" for n in range(MAX_ROWS + 1))
    with pytest.raises(BadFile) as refused:
        importing(db, ("企业名称,统一社会信用代码,地市\n" + rows).encode(), kb)
    assert "50,000" in str(refused.value)


# --- importing ------------------------------------------------------------------------


def enterprise_rows(db: Database) -> list[dict[str, object]]:
    return [dict(r) for r in db.query("SELECT * FROM enterprises ORDER BY id")]


def test_good_rows_go_in_and_re_importing_changes_nothing(kb: KnowledgeBase,
                                                          db: Database) -> None:
    rows = [(f"企业{n}", credit_code(n), "郑州市", "", "铸造", "", "") for n in range(20)]
    first = importing(db, as_csv(*rows, ("坏", "x", "郑州市", "", "", "", "")), kb)
    assert first.result.created == 20 and first.checked.bad == 1
    assert first.problems_xlsx is not None
    before = enterprise_rows(db), len(latest(db, 1000)), db.execute(
        "SELECT count(*) FROM enterprise_invites").fetchone()[0]
    again = importing(db, as_csv(*rows), kb, now=NOW + dt.timedelta(days=1))
    assert again.result.describe().startswith("新增 0 家，更新 0 家，无变化 20 家")
    after = enterprise_rows(db), len(latest(db, 1000)), db.execute(
        "SELECT count(*) FROM enterprise_invites").fetchone()[0]
    assert after == before


def test_a_changed_row_updates_with_an_audit_of_old_and_new_and_nothing_is_deleted(
        kb: KnowledgeBase, db: Database) -> None:
    importing(db, as_csv(GOOD, ("另一家", credit_code(2), "郑州市", "", "", "", "")), kb)
    changed = (GOOD[0], GOOD[1], GOOD[2], GOOD[3], GOOD[4], "王五", "0371-12345678")
    result = importing(db, as_csv(changed), kb).result
    assert (result.updated, result.created) == (1, 0)
    ent = find_by_code(db, GOOD[1])
    assert ent is not None and (ent.contact_name, ent.phone) == ("王五", "0371-12345678")
    entry = next(e for e in latest(db, 10) if e.action == "import_update")
    assert entry.detail["changes"] == {"联系人": ["张三", "王五"],
                                       "联系电话": ["13812345678", "0371-12345678"]}
    assert find_by_code(db, credit_code(2)) is not None  # not in the second file: kept


def test_a_code_registered_through_the_bot_is_merged_not_overwritten(
        kb: KnowledgeBase, db: Database) -> None:
    reg = register(db, user_id=501, name="绿源化工（自报）", credit_code=GOOD[1], city="郑州市",
                   county=None, industries=["化工"], contact_name="赵六", phone="13900000000",
                   now=NOW)
    approve(db, account_id=reg.account.id, approver_id=900, admins=frozenset({900}), now=NOW)
    outcome = importing(db, as_csv(GOOD), kb)
    result = outcome.result
    assert (result.created, result.merged) == (0, 1)
    labels = {d.label: (d.registered, d.listed) for d in result.differences}
    assert labels["企业名称"] == ("绿源化工（自报）", "绿源化工有限公司")
    assert labels["联系人"] == ("赵六", "张三") and "区县" in labels
    ent = find_by_code(db, GOOD[1])
    assert ent is not None and ent.name == "绿源化工（自报）"  # what staff approved stays
    assert [a.user_id for a in accounts_of(db, ent.id)] == [501]  # the account stays
    assert {d.label for d in differences_of(db, ent.id)} == set(labels)  # for the card
    assert importing(db, as_csv(GOOD), kb).result.merged == 0


def test_a_pending_self_registration_takes_the_list_and_keeps_its_application(
        kb: KnowledgeBase, db: Database) -> None:
    reg = register(db, user_id=502, name="冒名公司", credit_code=GOOD[1], city="郑州市",
                   county=None, industries=["化工"], contact_name="某人", phone="13900000000",
                   now=NOW)
    result = importing(db, as_csv(GOOD), kb).result
    assert result.merged == 1 and result.differences
    ent = find_by_code(db, GOOD[1])
    assert ent is not None and ent.name == GOOD[0] and ent.status.value == "approved"
    (account,) = accounts_of(db, ent.id)
    assert account.id == reg.account.id and account.status.value == "pending"  # staff decide


def test_the_ledgers_enterprise_sheet_imports_as_it_is(kb: KnowledgeBase, db: Database,
                                                       tmp_path: Path) -> None:
    rows = [(f"企业{n}", credit_code(n), "洛阳市" if n % 2 else "郑州市", "", "铸造、平板玻璃",
             "联系人", "13800000000") for n in range(1, 9)]
    rows = [(r[0], credit_code(i + 1, "410300" if r[2] == "洛阳市" else "410100"), *r[2:])
            for i, r in enumerate(rows)]
    assert importing(db, as_csv(*rows), kb).result.created == 8
    out = tmp_path / "台账.xlsx"
    export_ledger(db, ReportFilter(), out, task_titles=kb.task_titles, concern=kb.concern(),
                  invitations=Invitations(KEY, "lvdong_bot", NOW))
    again = importing(db, out.read_bytes(), kb)
    assert again.checked.problems == {}
    assert again.result.describe().startswith("新增 0 家，更新 0 家，无变化 8 家")


def test_the_ledger_counts_the_enterprises_not_joined(kb: KnowledgeBase, db: Database,
                                                      tmp_path: Path) -> None:
    importing(db, as_csv(GOOD), kb)
    out = tmp_path / "台账.xlsx"
    export_ledger(db, ReportFilter(), out, task_titles=kb.task_titles, concern=kb.concern(),
                  invitations=Invitations(KEY, "lvdong_bot", NOW))
    book = openpyxl.load_workbook(out, read_only=True)
    header, *rows = book[ENTERPRISES].iter_rows(values_only=True)
    (row,) = [dict(zip(header, r, strict=True)) for r in rows]
    assert row["加入状态"] == "未加入"
    assert str(row["邀请链接"]).startswith("https://t.me/lvdong_bot?start=ent_")
    header, *latest_rows = book[LATEST].iter_rows(values_only=True)
    concerned = kb.tasks_concerning(["化工"])
    assert len(latest_rows) == len(concerned) > 0
    assert {dict(zip(header, r, strict=False))["状态"] for r in latest_rows} == {"未填报"}


# --- the copy with a 问题 column, and the command line ------------------------------


def lvdong(db_path: Path, *args: str) -> Ran:
    return run_lvdong(*args, env={"LVDONG_DB": str(db_path)})


def test_lvdong_import_lists_every_bad_row_and_writes_the_copy_beside_the_input(
        tmp_path: Path) -> None:
    source = tmp_path / "名单.xlsx"
    source.write_bytes(as_xlsx(GOOD, ("坏公司", "123", "郑州市", "", "", "", ""), (),
                               (GOOD[0], GOOD[1], "郑州市", "", "", "", "1")))
    db_path = tmp_path / "lvdong.sqlite"
    dry = lvdong(db_path, "import", str(source), "--dry-run")
    assert dry.returncode == 1, dry.stderr
    assert "有问题 2 行" in dry.stdout and "第3行" in dry.stderr and "第5行" in dry.stderr
    assert not db_path.exists(), "a dry run writes nothing but the copy"
    copy = openpyxl.load_workbook(tmp_path / "名单.问题.xlsx", read_only=True).worksheets[0]
    values = [(*row, *[None] * (8 - len(row))) for row in copy.iter_rows(values_only=True)]
    assert values[0][-1] == "问题" and values[0][:7] == HEADER
    assert values[1][-1] is None and "18位" in str(values[2][-1])
    assert values[2][0] == "坏公司" and "重复" in str(values[4][-1])  # row 5 stays row 5

    real = lvdong(db_path, "import", str(source))
    assert real.returncode == 1 and "新增 1 家" in real.stdout
    again = lvdong(db_path, "import", str(source))
    assert "无变化 1 家" in again.stdout


def test_lvdong_import_refuses_a_bad_file_and_writes_nothing(tmp_path: Path) -> None:
    source = tmp_path / "名单.csv"
    source.write_bytes(as_csv(GOOD, header=("名字", "代码")))
    result = lvdong(tmp_path / "lvdong.sqlite", "import", str(source))
    assert result.returncode == 2 and "没有导入任何内容" in result.stderr
    assert "统一社会信用代码" in result.stderr
    db = open_db(tmp_path / "lvdong.sqlite")
    assert db.execute("SELECT count(*) FROM enterprises").fetchone()[0] == 0


def test_lvdong_invites_writes_links_and_a_zip_of_qr_codes(tmp_path: Path) -> None:
    source = tmp_path / "名单.csv"
    ly = ("洛阳铸造", credit_code(2, "410300"), "洛阳市", "", "铸造", "", "")
    source.write_bytes(as_csv(GOOD, ly))
    db_path = tmp_path / "lvdong.sqlite"
    assert lvdong(db_path, "import", str(source)).returncode == 0
    out = tmp_path / "邀请.xlsx"
    made = lvdong(db_path, "invites", "--out", str(out), "--bot-username", "lvdong_bot",
                  "--city", "洛阳", "--not-joined")
    assert made.returncode == 0, made.stderr
    rows = list(openpyxl.load_workbook(out, read_only=True).worksheets[0].iter_rows(
        values_only=True))
    assert len(rows) == 2 and rows[1][3] == credit_code(2, "410300")
    assert str(rows[1][7]).startswith("https://t.me/lvdong_bot?start=ent_")
    with zipfile.ZipFile(tmp_path / "邀请.二维码.zip") as archive:
        assert archive.namelist() == [f"{credit_code(2, '410300')}.png"]
        assert archive.read(archive.namelist()[0]).startswith(b"\x89PNG")
    twice = lvdong(db_path, "invites", "--out", str(out), "--bot-username", "lvdong_bot")
    rows_again = list(openpyxl.load_workbook(out, read_only=True).worksheets[0].iter_rows(
        values_only=True))
    assert twice.returncode == 0 and rows[1][7] in [r[7] for r in rows_again]  # same link
    new = lvdong(db_path, "invites", "--reissue", credit_code(2, "410300"),
                 "--bot-username", "lvdong_bot")
    assert new.returncode == 0 and "原链接已作废" in new.stdout
    assert str(rows[1][7]) not in new.stdout
    by_code = lvdong(db_path, "invites", "--reissue", str(rows[1][7]).split("start=")[1],
                     "--bot-username", "lvdong_bot")
    assert by_code.returncode == 0 and "洛阳铸造" in by_code.stdout  # an old code names it too
    no_name = lvdong(db_path, "invites", "--out", str(out))
    assert no_name.returncode == 2 and "--bot-username" in no_name.stderr


def test_one_column_per_qualifier_with_yes_no_or_empty(kb: KnowledgeBase, db: Database) -> None:
    from storage.qualifiers import qualifiers_of

    soil = next(q for q in kb.qualifiers if q.key == "soil_key_unit")
    coal = next(q for q in kb.qualifiers if q.key == "coal_furnace")
    header = (*HEADER, soil.name, coal.name)
    other = ("另一家", credit_code(2), "郑州市", "", "", "", "", "否", "也许")
    outcome = importing(db, as_csv((*GOOD, "是", ""), other, header=header), kb)
    assert outcome.checked.problems == {3: [f"{coal.name}：应填“是”“否”或留空，您填写的是“也许”"]}
    ent = find_by_code(db, GOOD[1])
    assert ent is not None and qualifiers_of(db, ent.id) == {"soil_key_unit": "yes"}
    assert outcome.result.qualifiers == 1
    again = importing(db, as_csv((*GOOD, "是", ""), header=header), kb)
    assert again.result.qualifiers == 0 and again.result.unchanged == 1
    changed = importing(db, as_csv((*GOOD, "否", "是"), header=header), kb)
    assert qualifiers_of(db, ent.id) == {"soil_key_unit": "no", "coal_furnace": "yes"}
    assert changed.result.qualifiers == 1
    assert any(e.action == "set_qualifiers" for e in latest(db, 5))


@pytest.mark.parametrize("name", ["sample-enterprises.xlsx", "sample-enterprises.csv"])
def test_the_sample_lists_in_the_repository_import_cleanly(kb: KnowledgeBase, db: Database,
                                                           name: str) -> None:
    data = (Path(__file__).resolve().parent.parent / "docs" / name).read_bytes()
    outcome = importing(db, data, kb)
    assert outcome.checked.problems == {} and outcome.result.created == 8
