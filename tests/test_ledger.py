"""The staff's Excel ledger and CSV (storage/ledger.py) and ``lvdong export``."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet import _writer as openpyxl_writer
from sqlite_utils import Database

from storage.db import open_db
from storage.ledger import (
    _FORMATS,
    COLUMNS,
    ENTERPRISES,
    HISTORY,
    LATEST,
    Column,
    LedgerFormat,
    Row,
    _latest,
    export_ledger,
    scratch_dir,
)
from storage.progress import ReportFilter
from storage.reports import Attachment, ReportDraft, add_report
from storage.reviews import Verdict, add_review
from tests.command_line import Ran
from tests.command_line import lvdong as run_lvdong
from tests.test_storage_progress import STATUSES, T0, TASKS, enterprise, report

TITLES = {3: "推动工业企业绿色发展", 4: "推动重点行业整合升级"}


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return open_db(tmp_path / "lvdong.sqlite")


@pytest.fixture
def filed(db: Database) -> dict[str, int]:
    """Two cities, one pending enterprise, a silent one; eight reports, one reviewed."""
    ids = {
        "zz": enterprise(db, 1, "郑州市", ("钢铁", "焦化")),
        "ly": enterprise(db, 2, "洛阳市", ("玻璃",)),
        "ly_pending": enterprise(db, 3, "洛阳市", ("钢铁",), approved=False),
        "ly_silent": enterprise(db, 4, "洛阳市", ("钢铁",)),
    }
    report(db, ids["zz"], 3, "未开始", 0)
    ids["zz_3_done"] = add_report(db, ReportDraft(
        enterprise_id=ids["zz"], user_id=1, task=3, status="已完成", description="=1+2",
        completion_date=dt.date(2021, 9, 30),
        attachments=(Attachment("f1", "u1", "photo"), Attachment("f2", "u2", "document"))),
        T0 + dt.timedelta(days=3, hours=9), task_numbers=TASKS, statuses=STATUSES)
    ids["zz_4"] = add_report(db, ReportDraft(
        enterprise_id=ids["zz"], user_id=1, task=4, status="进行中", percent=45,
        description="控制\x01字符", completion_date=dt.date(2021, 12, 31)),
        T0 + dt.timedelta(days=4), task_numbers=TASKS, statuses=STATUSES)
    report(db, ids["ly"], 3, "进行中", 1)
    report(db, ids["ly"], 3, "进行中", 2)
    report(db, ids["ly"], 3, "不涉及", 5)
    report(db, ids["ly"], 4, "未开始", 5)
    add_report(db, ReportDraft(enterprise_id=ids["ly_pending"], user_id=2, task=3,
                               status="未开始", from_pending=True), T0,
               task_numbers=TASKS, statuses=STATUSES)
    add_review(db, report_id=ids["zz_3_done"], reviewer_id=7, verdict=Verdict.PROBLEM,
               comment="照片不清楚", now=T0 + dt.timedelta(days=6))
    add_review(db, report_id=ids["zz_3_done"], reviewer_id=7, verdict=Verdict.VERIFIED,
               comment="已补充", now=T0 + dt.timedelta(days=7))
    return ids


def ledger(db: Database, flt: ReportFilter | None = None) -> openpyxl.Workbook:
    out = io.BytesIO()
    export_ledger(db, flt or ReportFilter(), out, task_titles=TITLES)
    return openpyxl.load_workbook(out)


def records(sheet: openpyxl.worksheet.worksheet.Worksheet) -> list[dict[str, object]]:
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_the_workbook_has_three_sheets_with_chinese_headers_and_frozen_header_rows(
    db: Database, filed: dict[str, int]
) -> None:
    book = ledger(db)
    assert book.sheetnames == ["最新进展", "填报记录", "企业"]
    first = [cell.value for cell in book["最新进展"][1]]
    assert first == ["地市", "企业名称", "统一社会信用代码", "企业审核状态", "任务编号", "任务名称",
                     "状态", "完成比例", "预计/实际完成日期", "填报时间", "审核结论", "审核意见"]
    for sheet in book:
        assert [c.value for c in sheet[1]] == [c.header for c in COLUMNS[sheet.title]]
        assert sheet.freeze_panes == "A2"
        assert sheet[1][0].font.bold
        assert sheet.column_dimensions["B"].width >= 20  # names are not squeezed
        assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, sheet.max_column).column_letter}" \
                                        f"{sheet.max_row}"


def test_row_counts_are_the_reports_filed_and_their_latest_per_task(
    db: Database, filed: dict[str, int]
) -> None:
    book = ledger(db)
    filed_reports = db.execute("SELECT count(*) FROM reports").fetchone()[0]
    assert filed_reports == 8
    assert len(records(book["填报记录"])) == filed_reports
    assert len(records(book["最新进展"])) == 5  # zz 3, 4; ly 3, 4; pending 3
    # every enterprise not rejected, the silent one included (no report filter)
    assert {r["企业名称"] for r in records(book["企业"])} == {"企业1", "企业2", "企业3", "企业4"}


def test_dates_are_excel_dates_in_beijing_time_and_percent_is_a_number(
    db: Database, filed: dict[str, int]
) -> None:
    sheet = ledger(db)["最新进展"]
    rows = {(r["企业名称"], r["任务编号"]): r for r in records(sheet)}
    zz4 = rows[("企业1", 4)]
    assert zz4["填报时间"] == dt.datetime(2021, 6, 5, 16, 0)  # 08:00 UTC is 16:00 in Beijing
    assert zz4["预计/实际完成日期"] == dt.datetime(2021, 12, 31)
    assert zz4["完成比例"] == 0.45 and zz4["状态"] == "进行中"
    done = rows[("企业1", 3)]
    assert done["填报时间"] == dt.datetime(2021, 6, 5, 1, 0)  # 17:00 UTC: the next day there
    assert (done["审核结论"], done["审核意见"]) == ("已核实", "已补充")
    assert done["任务名称"] == TITLES[3]
    assert rows[("企业3", 3)]["企业审核状态"] == "待审核"
    header = [c.value for c in sheet[1]]
    for row in sheet.iter_rows(min_row=2):
        filed_at = row[header.index("填报时间")]
        assert filed_at.is_date and filed_at.number_format == "yyyy-mm-dd hh:mm"
        date = row[header.index("预计/实际完成日期")]
        assert date.value is None or (date.is_date and date.number_format == "yyyy-mm-dd")
        percent = row[header.index("完成比例")]
        assert percent.value is None or (percent.data_type == "n"
                                         and percent.number_format == "0%")


def test_history_keeps_reviews_attachments_and_reports_filed_before_approval(
    db: Database, filed: dict[str, int]
) -> None:
    sheet = ledger(db)["填报记录"]
    rows = records(sheet)
    by_id = {r["报告编号"]: r for r in rows}
    done = by_id[filed["zz_3_done"]]
    assert (done["附件数"], done["审核结论"], done["审核意见"]) == (2, "已核实", "已补充")
    assert done["审核时间"] == dt.datetime(2021, 6, 8, 16, 0)
    assert [r["状态"] for r in rows if r["企业名称"] == "企业2" and r["任务编号"] == 3] == [
        "进行中", "进行中", "不涉及"], "oldest first"
    assert [r["审核通过前填报"] for r in rows if r["企业名称"] == "企业3"] == ["是"]
    # user text is text: never a formula, never a control character
    formula = next(c for c in sheet["J"] if c.value == "=1+2")
    assert formula.data_type == "s"
    assert by_id[filed["zz_4"]]["情况说明"] == "控制字符"


def test_the_filter_and_scope_limit_every_sheet(db: Database, filed: dict[str, int]) -> None:
    luoyang = ledger(db, ReportFilter(regions=frozenset({"洛阳市"})))
    assert {r["地市"] for r in records(luoyang["最新进展"])} == {"洛阳市"}
    assert len(records(luoyang["填报记录"])) == 5
    assert {r["企业名称"] for r in records(luoyang["企业"])} == {"企业2", "企业3", "企业4"}
    # a report filter: only enterprises with a matching latest report
    task4 = ledger(db, ReportFilter(tasks=frozenset({4})))
    assert len(records(task4["填报记录"])) == 2
    assert {r["企业名称"] for r in records(task4["企业"])} == {"企业1", "企业2"}
    # a city's staff asking for another city get nothing
    other = ReportFilter(regions=frozenset({"郑州市"})).within(frozenset({"洛阳市"}))
    nothing = ledger(db, other)
    assert [len(records(s)) for s in nothing] == [0, 0, 0]


def append_as_openpyxl_would(sheet: Any, columns: Sequence[Column], rows: Iterable[Row]) -> None:
    """The reference: rows through openpyxl's own write-only cells (also bench_staff.py's)."""
    for row in rows:
        cells = []
        for column, value in zip(columns, row, strict=True):
            cell = WriteOnlyCell(sheet, value)
            if column.kind in _FORMATS:
                cell.number_format = _FORMATS[column.kind]
            cells.append(cell)
        sheet.append(cells)


def test_rows_are_what_openpyxls_own_writer_would_write(
    db: Database, filed: dict[str, int], tmp_path: Path
) -> None:
    """The ledger serialises rows itself (speed); the cells must equal openpyxl's."""
    ours = ledger(db)["最新进展"]
    reference = openpyxl.Workbook(write_only=True)
    sheet = reference.create_sheet(LATEST)
    sheet.append([c.header for c in COLUMNS[LATEST]])
    append_as_openpyxl_would(sheet, COLUMNS[LATEST], _latest(db, ReportFilter(), TITLES))
    reference.save(tmp_path / "reference.xlsx")
    theirs = openpyxl.load_workbook(tmp_path / "reference.xlsx")[LATEST]
    assert ours.max_row == theirs.max_row == 6
    for mine, expected in zip(ours.iter_rows(), theirs.iter_rows(), strict=True):
        assert [(c.value, c.data_type) for c in mine] == [
            (c.value, c.data_type) for c in expected]
        assert [c.number_format for c in mine if c.value is not None] == [
            c.number_format for c in expected if c.value is not None]


def test_a_failed_export_leaves_no_temporary_files(db: Database, filed: dict[str, int]) -> None:
    class Failing(dict[int, str]):
        """Fails while the second sheet is being written."""

        calls = 0

        def get(self, key: int, default: object = None) -> str:  # type: ignore[override]
            self.calls += 1
            if self.calls > 7:
                raise OSError(28, "No space left on device")
            return "任务"

    before = set(openpyxl_writer.ALL_TEMP_FILES)
    with pytest.raises(OSError):
        export_ledger(db, ReportFilter(), io.BytesIO(), task_titles=Failing())
    left = set(openpyxl_writer.ALL_TEMP_FILES) - before
    assert not [path for path in left if os.path.exists(path)]
    assert not db.conn.in_transaction, "the read snapshot is released"


def test_csv_is_the_latest_sheet_in_utf8_with_bom(db: Database, filed: dict[str, int]) -> None:
    out = io.BytesIO()
    summary = export_ledger(db, ReportFilter(), out, task_titles=TITLES, fmt=LedgerFormat.CSV)
    data = out.getvalue()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == [c.header for c in COLUMNS[LATEST]]
    assert len(rows) - 1 == summary.rows[LATEST] == 5
    by_key = {(r[1], r[4]): dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert by_key[("企业1", "4")]["完成比例"] == "45%"
    assert by_key[("企业1", "4")]["填报时间"] == "2021-06-05 16:00"
    assert by_key[("企业1", "4")]["预计/实际完成日期"] == "2021-12-31"


def test_csv_quotes_text_a_spreadsheet_would_run_as_a_formula(db: Database) -> None:
    eid = enterprise(db, 9, "郑州市", ("钢铁",))
    rid = report(db, eid, 3, "进行中")
    add_review(db, report_id=rid, reviewer_id=7, verdict=Verdict.PROBLEM,
               comment='=HYPERLINK("http://x","点我")', now=T0)
    out = io.BytesIO()
    export_ledger(db, ReportFilter(), out, task_titles=TITLES, fmt=LedgerFormat.CSV)
    rows = list(csv.reader(io.StringIO(out.getvalue().decode("utf-8-sig"))))
    assert rows[1][-1] == "'=HYPERLINK(\"http://x\",\"点我\")"


def test_format_follows_the_file_suffix() -> None:
    assert LedgerFormat.of_path("台账.XLSX") is LedgerFormat.XLSX
    assert LedgerFormat.of_path(Path("/tmp/a.csv")) is LedgerFormat.CSV
    assert LedgerFormat.of_path("a.xls") is None


# --- lvdong export ---------------------------------------------------------------------


def lvdong(db_path: Path, *args: str) -> Ran:
    return run_lvdong("export", *args, env={"LVDONG_DB": str(db_path)})


def test_lvdong_export_writes_the_ledger_narrowed_by_city_and_task(
    db: Database, filed: dict[str, int], tmp_path: Path
) -> None:
    path = tmp_path / "lvdong.sqlite"
    whole = lvdong(path, "--out", str(tmp_path / "全省.xlsx"))
    assert whole.returncode == 0, whole.stderr
    # 5 latest reports, and a 未填报 row for each other task that concerns one of the 4
    assert "填报记录 8 行，企业 4 行" in whole.stdout
    book = openpyxl.load_workbook(tmp_path / "全省.xlsx")
    latest_rows = records(book[LATEST])
    assert f"最新进展 {len(latest_rows)} 行" in whole.stdout
    assert len([r for r in latest_rows if r["状态"] != "未填报"]) == 5 < len(latest_rows)
    assert len(records(book[HISTORY])) == 8 and len(records(book[ENTERPRISES])) == 4

    narrow = lvdong(path, "--out", str(tmp_path / "ly.xlsx"), "--city", "洛阳", "--task", "3")
    assert narrow.returncode == 0, narrow.stderr
    every = records(openpyxl.load_workbook(tmp_path / "ly.xlsx")[LATEST])
    rows = [r for r in every if r["状态"] != "未填报"]
    assert {(r["地市"], r["任务编号"]) for r in every} == {("洛阳市", 3)} and len(rows) == 2
    assert rows[0]["任务名称"] == "推动工业企业绿色发展"  # the shipped plan's title

    as_csv = lvdong(path, "--out", str(tmp_path / "ledger.txt"), "--format", "csv")
    assert as_csv.returncode == 0, as_csv.stderr
    assert (tmp_path / "ledger.txt").read_bytes().startswith(b"\xef\xbb\xbf")


@pytest.mark.parametrize(("args", "says"), [
    (["--city", "火星"], "火星"),
    (["--task", "99"], "99"),
    (["--task", "十三"], "十三"),
    (["--task", "²"], "²"),  # a digit to str.isdigit, no number to int
])
def test_lvdong_export_refuses_bad_input_with_exit_2(
    db: Database, filed: dict[str, int], tmp_path: Path, args: list[str], says: str
) -> None:
    out = tmp_path / "x.xlsx"
    result = lvdong(tmp_path / "lvdong.sqlite", "--out", str(out), *args)
    assert result.returncode == 2 and says in result.stderr
    assert "Traceback" not in result.stderr and not out.exists()


def test_lvdong_export_says_when_it_cannot_write(
    db: Database, filed: dict[str, int], tmp_path: Path
) -> None:
    db_path = tmp_path / "lvdong.sqlite"
    for out, says in ((tmp_path / "no-such-dir" / "x.xlsx", "不存在"),
                      (tmp_path, "目录"),
                      (Path("/proc/lvdong-ledger.xlsx"), "/proc"),
                      (tmp_path / "ledger.pdf", "格式")):
        result = lvdong(db_path, "--out", str(out))
        assert result.returncode == 2, (out, result.stderr)
        assert says in result.stderr and "Traceback" not in result.stderr
    assert not list(tmp_path.glob("*.part")), "no half-written file left behind"


def test_lvdong_export_never_overwrites_and_never_writes_the_database(
    db: Database, filed: dict[str, int], tmp_path: Path
) -> None:
    """Issue 14, item 8: ``--out $LVDONG_DB`` replaced the live database with a CSV."""
    db_path = tmp_path / "lvdong.sqlite"
    db.execute("SELECT 1")  # the fixture's connection is open: -wal and -shm exist
    before = db_path.read_bytes()
    for out in (db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-shm"),
                Path(f"{db_path}-journal"), tmp_path / "." / "lvdong.sqlite"):
        result = lvdong(db_path, "--out", str(out), "--format", "csv")
        assert result.returncode == 2, (out, result.stdout)
        assert "数据库" in result.stderr and "Traceback" not in result.stderr
    assert db_path.read_bytes() == before
    notes = tmp_path / "notes.txt"
    notes.write_text("别人的笔记", encoding="utf-8")
    result = lvdong(db_path, "--out", str(notes), "--format", "xlsx")
    assert result.returncode == 2 and "已存在" in result.stderr
    assert notes.read_text(encoding="utf-8") == "别人的笔记"
    first = lvdong(db_path, "--out", str(tmp_path / "a.xlsx"))
    assert first.returncode == 0, first.stderr
    again = lvdong(db_path, "--out", str(tmp_path / "a.xlsx"))
    assert again.returncode == 2 and "已存在" in again.stderr
    assert not list(tmp_path.glob("*.part")) and not list(tmp_path.glob(".*.part"))


def test_the_xlsx_temporaries_live_in_the_scratch_directory(
    db: Database, filed: dict[str, int], tmp_path: Path
) -> None:
    """Issue 14, item 10: openpyxl's per-sheet temporary files go to one directory (the
    bot empties it at start), not the system's temporary directory."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    seen: list[list[str]] = []

    class Sink(io.BytesIO):
        def write(self, data: Any) -> int:  # type: ignore[override]
            if not seen:
                seen.append(sorted(p.name for p in scratch.iterdir()))
            return super().write(data)

    export_ledger(db, ReportFilter(), Sink(), task_titles={}, scratch=scratch)
    assert len(seen[0]) == 3, "one temporary file per sheet, in the scratch directory"
    assert not list(scratch.iterdir()), "removed once the workbook is written"


async def test_the_bot_empties_the_scratch_directory_at_start(tmp_path: Path) -> None:
    """What a SIGKILL during an export left (196 MB after three in the probe) goes at the
    next start."""
    from tests.bot_harness import running_bot

    scratch = scratch_dir(tmp_path / "lvdong.sqlite")
    scratch.mkdir()
    (scratch / "sheet-left-by-a-kill.xml").write_bytes(b"x" * 1000)
    (scratch / "nested").mkdir()
    async with running_bot(tmp_path):
        assert scratch.is_dir() and not list(scratch.iterdir())
