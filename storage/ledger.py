"""The staff's Excel ledger (工作台账) of the self-reports, and its CSV.

One workbook per request, three sheets, for a :class:`~storage.progress.ReportFilter`
already limited to the asker's scope by the caller:

* 最新进展 — the latest report per enterprise and task (what ``/reports`` lists);
* 填报记录 — every report of those enterprises on those tasks, oldest first, with its
  latest review, attachment count and whether it was filed before approval;
* 企业 — the registration of the enterprises the filter selects (with no report
  filter — task, status, dates — also those that never reported), with their answers
  to the plan's qualifiers and the tasks that concern them (from the caller's
  ``describe``: the knowledge base's one answer).

Dates and times are real Excel dates (Beijing time), percentages numbers formatted as
percent, text cells always text: a name or description typed as ``=HYPERLINK(…)`` is
never a formula (nor, in the CSV, read as one). The three sheets are read in one read
transaction, so they agree with each other while reports keep arriving.

The workbook is an openpyxl write-only workbook (streamed through temporary files:
memory stays flat however many reports there are). openpyxl's own per-cell writer
costs 20–25 µs a cell here (bench/bench_staff.py), over a minute for a province-wide
ledger (about 3.4 M cells at 200,000 reports); :class:`_Sheet` therefore hands openpyxl
each row as one XML element parsed from a string (about 5 µs a cell, the full ledger in
about 21 s). openpyxl still writes the rest:
the sheet's views (frozen header), column widths, auto-filter, styles and the
package. This uses two of openpyxl's internals (the sheet writer's ``write_row`` and
the worksheet's ``_values_to_row``), hence the pin to openpyxl 3.1 in pyproject.toml;
tests/test_ledger.py compares the result with openpyxl's own writer cell by cell.

Task titles come from the caller (the knowledge base); storage never reads it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from enum import Enum, StrEnum
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from lxml import etree
from sqlite_utils import Database

from storage.clock import SHANGHAI, from_db, to_db
from storage.enterprise_invites import InviteKey, link
from storage.progress import JOINED as JOINED_SQL
from storage.progress import ReportFilter, _enterprise_where, _latest_where
from storage.qualifiers import Condition
from storage.reviews import VERDICT_WORDS, Verdict

if TYPE_CHECKING:
    from openpyxl import Workbook


class LedgerFormat(StrEnum):
    XLSX = "xlsx"
    CSV = "csv"

    @classmethod
    def of_path(cls, path: str | Path) -> LedgerFormat | None:
        """The format a file name's suffix asks for (None: neither .xlsx nor .csv)."""
        suffix = Path(path).suffix.lower().lstrip(".")
        return cls(suffix) if suffix in {f.value for f in cls} else None


class Kind(Enum):
    TEXT = "text"
    INT = "int"
    PERCENT = "percent"  # a fraction, 0.45, shown as 45%
    DATE = "date"
    DATETIME = "datetime"  # naive, Beijing time (Excel has no time zones)


@dataclass(frozen=True)
class Column:
    header: str
    width: float  # Excel's unit: about one digit; a hanzi takes two
    kind: Kind = Kind.TEXT


LATEST = "最新进展"
HISTORY = "填报记录"
ENTERPRISES = "企业"

_CITY = Column("地市", 11)
_NAME = Column("企业名称", 32)
_CODE = Column("统一社会信用代码", 21)
_TASK = Column("任务编号", 9, Kind.INT)
_TITLE = Column("任务名称", 34)
_STATUS = Column("状态", 9)
_PERCENT = Column("完成比例", 9, Kind.PERCENT)
_DATE = Column("预计/实际完成日期", 17, Kind.DATE)
_FILED = Column("填报时间", 17, Kind.DATETIME)
_VERDICT = Column("审核结论", 9)
_COMMENT = Column("审核意见", 30)

COLUMNS: dict[str, tuple[Column, ...]] = {
    LATEST: (_CITY, _NAME, _CODE, Column("企业审核状态", 12), _TASK, _TITLE, _STATUS, _PERCENT,
             _DATE, _FILED, _VERDICT, _COMMENT),
    HISTORY: (_CITY, _NAME, _CODE, _TASK, _TITLE, Column("报告编号", 9, Kind.INT), _STATUS,
              _PERCENT, _DATE, Column("情况说明", 40), Column("附件数", 7, Kind.INT),
              Column("审核通过前填报", 14), _FILED, _VERDICT, _COMMENT,
              Column("审核时间", 17, Kind.DATETIME)),
    ENTERPRISES: (_NAME, _CODE, _CITY, Column("区县", 14), Column("行业", 20),
                  Column("审核状态", 9), Column("联系人", 10), Column("联系电话", 14),
                  Column("注册时间", 17, Kind.DATETIME), Column("审核通过时间", 17, Kind.DATETIME),
                  Column("认定情况", 40), Column("涉及任务", 24),
                  Column("加入状态", 9), Column("邀请链接", 60)),
}

ENTERPRISE_STATUS = {"pending": "待审核", "approved": "已通过"}
NOT_REPORTED = "未填报"  # 最新进展's status of a concerned task without a report
JOINED, NOT_JOINED = "已加入", "未加入"  # 企业's 加入状态; a pending applicant: 待审核

Concern = Mapping[int, Condition]  # task → whom it concerns (the knowledge base's audiences)


@dataclass(frozen=True)
class Invitations:
    """What the 企业 sheet needs to show a not-joined enterprise's invitation link."""

    key: InviteKey
    username: str
    now: dt.datetime

Row = tuple[Any, ...]
# An enterprise's industries and qualifier answers → (its 认定情况, its 涉及任务), in words.
Describe = Callable[[Sequence[str], Mapping[str, str]], tuple[str, str]]


def _no_description(industries: Sequence[str], answers: Mapping[str, str]) -> tuple[str, str]:
    return "", ""


@dataclass(frozen=True)
class LedgerSummary:
    """What was written: data rows (header not counted) per sheet, in sheet order."""

    fmt: LedgerFormat
    rows: dict[str, int]

    def describe(self) -> str:
        """``最新进展 12 行，填报记录 30 行，企业 5 行``."""
        return "，".join(f"{sheet} {count:,} 行" for sheet, count in self.rows.items())


# --- reading -------------------------------------------------------------------------


def _local(stamp: str | None) -> dt.datetime | None:
    """A stored UTC timestamp as a naive Beijing time (what Excel shows)."""
    return from_db(stamp).astimezone(SHANGHAI).replace(tzinfo=None) if stamp else None


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def _fraction(percent: int | None) -> float | None:
    return percent / 100 if percent is not None else None


def _verdict(verdict: str | None) -> str | None:
    return VERDICT_WORDS[Verdict(verdict)] if verdict else None


# The latest review of a report: its row in ``reviews`` (index reviews_report).
_REVIEW_OF = "LEFT JOIN reviews v ON v.id = (SELECT max(id) FROM reviews WHERE report_id = {})"


def _latest(db: Database, flt: ReportFilter, titles: Mapping[int, str],
            concern: Concern | None = None) -> Iterator[Row]:
    """The latest report per enterprise and task; with ``concern`` (and no filter on
    reports' status or dates) also a 未填报 row for each task that concerns an
    enterprise and that it never reported on — every enterprise of the list included."""
    where, params = _latest_where(flt)
    query = f"""
        SELECT e.city, e.id, e.name, e.credit_code, e.status, l.task, l.status, r.percent,
               r.completion_date, l.created_at, v.verdict, v.comment
        FROM enterprises e
        JOIN latest_reports l ON l.enterprise_id = e.id
        JOIN reports r ON r.id = l.report_id
        {_REVIEW_OF.format("l.report_id")}
        WHERE {where} ORDER BY e.city, e.id, l.task"""
    reported = db.execute(query, params)
    if concern is None or flt.statuses or flt.since or flt.until:
        for (city, _, name, code, status, task, state, percent, date, filed, verdict,
             comment) in reported:
            yield _latest_row(city, name, code, status, task, titles, state, percent, date,
                              filed, verdict, comment)
        return
    pending = next(reported, None)
    answers: dict[int, dict[str, str]] = {}
    for eid, key, value in db.execute(
            "SELECT enterprise_id, qualifier, value FROM enterprise_qualifiers"):
        answers.setdefault(eid, {})[key] = value
    for city, eid, name, code, status, industries in _enterprise_industries(db, flt):
        have = frozenset(industries.split("\x1f")) if industries else frozenset()
        rows: dict[int, Row] = {}
        while pending is not None and (pending[0], pending[1]) == (city, eid):
            (_, _, _, _, _, task, state, percent, date, filed, verdict, comment) = pending
            rows[task] = _latest_row(city, name, code, status, task, titles, state, percent,
                                     date, filed, verdict, comment)
            pending = next(reported, None)
        for task, audience in concern.items():
            if task in rows or (flt.tasks and task not in flt.tasks):
                continue
            if audience.concerns(have, answers.get(eid)):
                rows[task] = (city, name, code, ENTERPRISE_STATUS[status], task,
                              titles.get(task, ""), NOT_REPORTED, None, None, None, None, None)
        for task in sorted(rows):
            yield rows[task]


def _latest_row(city: str, name: str, code: str, status: str, task: int,
                titles: Mapping[int, str], state: str, percent: int | None, date: str | None,
                filed: str, verdict: str | None, comment: str | None) -> Row:
    return (city, name, code, ENTERPRISE_STATUS[status], task, titles.get(task, ""), state,
            _fraction(percent), _date(date), _local(filed), _verdict(verdict), comment or None)


def _enterprise_industries(db: Database, flt: ReportFilter) -> Iterator[tuple[Any, ...]]:
    """(city, id, name, code, status, industries joined by U+001F) of the enterprises
    ``flt`` selects, in the order of the latest reports."""
    conditions, params = _enterprise_where(flt)
    yield from db.execute(
        f"""SELECT e.city, e.id, e.name, e.credit_code, e.status,
               (SELECT group_concat(industry, char(31)) FROM enterprise_industries
                WHERE enterprise_id = e.id)
            FROM enterprises e WHERE {' AND '.join(conditions)} ORDER BY e.city, e.id""",
        params)


def _history(db: Database, flt: ReportFilter, titles: Mapping[int, str]) -> Iterator[Row]:
    where, params = _latest_where(flt)
    query = f"""
        SELECT e.city, e.name, e.credit_code, r.task, r.id, r.status, r.percent,
               r.completion_date, r.description,
               (SELECT count(*) FROM attachments a WHERE a.report_id = r.id),
               r.from_pending, r.created_at, v.verdict, v.comment, v.created_at
        FROM enterprises e
        JOIN latest_reports l ON l.enterprise_id = e.id
        JOIN reports r ON r.enterprise_id = l.enterprise_id AND r.task = l.task
        {_REVIEW_OF.format("r.id")}
        WHERE {where} ORDER BY e.city, e.id, r.task, r.id"""
    for (city, name, code, task, report_id, state, percent, date, description, files,
         early, filed, verdict, comment, reviewed) in db.execute(query, params):
        yield (city, name, code, task, titles.get(task, ""), report_id, state,
               _fraction(percent), _date(date), description or None, files,
               "是" if early else "否", _local(filed), _verdict(verdict), comment or None,
               _local(reviewed))


def _limits_reports(flt: ReportFilter) -> bool:
    return bool(flt.tasks or flt.statuses or flt.since or flt.until)


def _enterprises(db: Database, flt: ReportFilter,
                 describe: Describe = _no_description,
                 invitations: Invitations | None = None) -> Iterator[Row]:
    if _limits_reports(flt):
        where, params = _latest_where(flt)
        chosen = (f"e.id IN (SELECT l.enterprise_id FROM enterprises e JOIN latest_reports l "
                  f"ON l.enterprise_id = e.id WHERE {where})")
    else:
        conditions, params = _enterprise_where(flt)
        chosen = " AND ".join(conditions)
    query = f"""
        SELECT e.name, e.credit_code, e.city, e.county,
               (SELECT group_concat(industry, '、') FROM
                   (SELECT industry FROM enterprise_industries
                    WHERE enterprise_id = e.id ORDER BY industry)),
               e.status, e.contact_name, e.phone, e.created_at, e.decided_at,
               (SELECT group_concat(qualifier || '=' || value, ';')
                FROM enterprise_qualifiers WHERE enterprise_id = e.id), e.id,
               e.listed_at IS NOT NULL, {JOINED_SQL},
               (SELECT serial FROM enterprise_invites i WHERE i.enterprise_id = e.id
                AND i.used_by IS NULL AND i.revoked_at IS NULL AND i.expires_at > ?
                AND i.key_id = ? ORDER BY serial DESC LIMIT 1)
        FROM enterprises e WHERE {chosen} ORDER BY e.city, e.id"""
    stamp = to_db(invitations.now) if invitations else ""
    key_id = invitations.key.key_id if invitations else ""
    for (name, code, city, county, industries, status, contact, phone, created,
         decided, answers, eid, listed, joined, serial) in db.execute(
            query, [stamp, key_id, *params]):
        chosen_answers = dict(pair.split("=", 1) for pair in (answers or "").split(";") if pair)
        qualified, concerning = describe(tuple((industries or "").split("、")) if industries
                                         else (), chosen_answers)
        state = JOINED if joined else NOT_JOINED if listed else ENTERPRISE_STATUS[status]
        url = (link(invitations.username, invitations.key.code(eid, serial))
               if invitations is not None and serial is not None and not joined else None)
        yield (name, code, city, county, industries, ENTERPRISE_STATUS[status], contact or None,
               phone or None, _local(created), _local(decided) if status == "approved" else None,
               qualified or None, concerning or None, state, url)


@contextmanager
def _snapshot(db: Database) -> Iterator[None]:
    """One read transaction around the sheets: they agree even while reports arrive."""
    if db.conn.in_transaction:
        yield
        return
    db.conn.execute("BEGIN")
    try:
        yield
    finally:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")  # nothing was written; releases the snapshot


# --- writing -------------------------------------------------------------------------

# Characters XML 1.0 (and so Excel) cannot hold; user text may contain them.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_EXCEL_MAX_TEXT = 32_767
_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def clean_text(value: str) -> str:
    """Text as a cell can hold it: without control characters, at most Excel's length."""
    return _ILLEGAL.sub("", value)[:_EXCEL_MAX_TEXT]


def _text_xml(value: Any) -> str:
    """``<t>`` and the escaped text of a string cell (spaces at its ends kept)."""
    text = escape(clean_text(str(value)))
    return f'<t xml:space="preserve">{text}' if text != text.strip() else f"<t>{text}"


def _style_attr(style: int) -> str:
    return f' s="{style}"' if style else ""


_FORMATS = {Kind.PERCENT: "0%", Kind.DATE: "yyyy-mm-dd", Kind.DATETIME: "yyyy-mm-dd hh:mm"}


def _cell_head(kind: Kind, style: int) -> str:
    return (' t="inlineStr"' if kind is Kind.TEXT else "") + _style_attr(style)


def new_workbook() -> Workbook:
    """A write-only workbook. openpyxl is imported here, when a file is written, not when
    the bot starts (it is 0.15 s of CPU of every start)."""
    from openpyxl import Workbook

    return Workbook(write_only=True)


class _Sheet:
    """A write-only worksheet with a frozen, bold header row, column widths and an
    auto-filter, whose rows are serialised here (see the module docstring)."""

    def __init__(self, workbook: Workbook, title: str, columns: Sequence[Column],
                 scratch: Path | None = None) -> None:
        from openpyxl.utils import get_column_letter
        from openpyxl.utils.datetime import to_excel
        from openpyxl.worksheet import _writer as openpyxl_writer

        self._to_excel = to_excel
        ws = workbook.create_sheet(title)
        self.ws, self.columns, self.rows = ws, tuple(columns), 0
        ws.freeze_panes = "A2"
        self.letters = [get_column_letter(i) for i in range(1, len(columns) + 1)]
        for letter, column in zip(self.letters, columns, strict=True):
            ws.column_dimensions[letter].width = column.width
        # Per column: is it text, and what follows ``<c r="A2"`` (type and style).
        self.cells = [(c.kind is Kind.TEXT, _cell_head(c.kind, self._style(_FORMATS.get(c.kind))))
                      for c in columns]
        self.header = _cell_head(Kind.TEXT, self._style(None, header=True))
        # From here on, each appended row goes to _write_row as it is; the sheet's
        # temporary file is in ``scratch`` (openpyxl's own would be the system's).
        if scratch is not None:
            handle, name = tempfile.mkstemp(dir=scratch, prefix="sheet-", suffix=".xml")
            os.close(handle)
            openpyxl_writer.ALL_TEMP_FILES.append(name)  # cleanup() removes it from there
            ws._writer = openpyxl_writer.WorksheetWriter(ws, out=name)
            ws._writer.write_top()
        ws._get_writer()
        ws._values_to_row = lambda values, row_idx: values
        ws._writer.write_row = self._write_row
        ws.append([c.header for c in columns])

    def _style(self, number_format: str | None, header: bool = False) -> int:
        """The workbook's style id for a cell format (registered through openpyxl)."""
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Alignment, Font, PatternFill

        cell = WriteOnlyCell(self.ws)
        if number_format:
            cell.number_format = number_format
        if header:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="DDEBF7")
            cell.alignment = Alignment(vertical="center")
        return int(cell.style_id)

    def append(self, row: Row) -> None:
        self.ws.append(row)
        self.rows += 1

    def _write_row(self, xf: Any, values: Row, row_idx: int) -> None:
        r = str(row_idx)
        parts = [f'<row xmlns="{_NS}" r="{r}">']
        cells = self.cells if row_idx > 1 else [(True, self.header)] * len(values)
        for letter, (text, head), value in zip(self.letters, cells, values, strict=True):
            if value is None:
                continue
            parts.append(f'<c r="{letter}{r}"{head}>')
            if text:
                parts.append(f"<is>{_text_xml(value)}</t></is></c>")
            else:
                number = self._to_excel(value) if isinstance(value, dt.date) else value
                parts.append(f"<v>{number!r}</v></c>")
        parts.append("</row>")
        xf.write(etree.fromstring("".join(parts)))

    def close(self) -> None:
        last = self.letters[-1]
        self.ws.auto_filter.ref = f"A1:{last}{self.rows + 1}"

    def discard(self) -> None:
        """Remove the sheet's temporary file if the workbook was not saved (openpyxl
        only removes it when saving, or when the process exits)."""
        writer = self.ws._writer
        if writer is None or not Path(writer.out).exists():
            return
        with suppress(Exception):  # the export's own error is the one to report
            if not self.ws.closed:
                self.ws.close()
        writer.cleanup()


Sink = str | Path | IO[bytes]


def scratch_dir(db_path: Path) -> Path:
    """The one directory for the temporary files of exports (beside the database); the
    bot empties it at start (:func:`empty_scratch`), so a kill leaves nothing for long."""
    return Path(db_path).parent / "lvdong-tmp"


def empty_scratch(path: Path) -> int:
    """Create ``path`` or remove everything in it; how many entries were removed."""
    path.mkdir(parents=True, exist_ok=True)
    removed = 0
    for entry in path.iterdir():
        with suppress(OSError):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            removed += 1
    return removed


def _write_xlsx(db: Database, flt: ReportFilter, out: Sink, titles: Mapping[int, str],
                describe: Describe, concern: Concern | None,
                invitations: Invitations | None, scratch: Path | None = None) -> LedgerSummary:
    workbook = new_workbook()
    sources: list[tuple[str, Callable[[], Iterator[Row]]]] = [
        (LATEST, lambda: _latest(db, flt, titles, concern)),
        (HISTORY, lambda: _history(db, flt, titles)),
        (ENTERPRISES, lambda: _enterprises(db, flt, describe, invitations)),
    ]
    sheets: list[_Sheet] = []
    try:
        with _snapshot(db):
            for title, rows in sources:
                sheet = _Sheet(workbook, title, COLUMNS[title], scratch)
                sheets.append(sheet)
                for row in rows():
                    sheet.append(row)
                sheet.close()
        workbook.save(out)
    finally:
        for sheet in sheets:
            sheet.discard()
    return LedgerSummary(LedgerFormat.XLSX, {sheet.ws.title: sheet.rows for sheet in sheets})


# Text a spreadsheet would read as a formula (OWASP "CSV injection"): quoted with '.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(kind: Kind, value: Any) -> str:
    if value is None:
        return ""
    if kind is Kind.PERCENT:
        return f"{value:.0%}"
    if kind is Kind.DATETIME:
        return str(value.strftime("%Y-%m-%d %H:%M"))
    if kind is Kind.TEXT:
        text = clean_text(str(value))
        return "'" + text if text.startswith(_FORMULA_START) else text
    return str(value.isoformat() if kind is Kind.DATE else value)


def _write_csv(db: Database, flt: ReportFilter, out: Sink, titles: Mapping[int, str],
               describe: Describe, concern: Concern | None,
               invitations: Invitations | None) -> LedgerSummary:
    """The 最新进展 sheet as CSV, UTF-8 with a BOM: Excel then opens the Chinese right."""
    columns = COLUMNS[LATEST]
    with _binary(out) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        try:
            writer = csv.writer(text)
            writer.writerow([c.header for c in columns])
            count = 0
            with _snapshot(db):
                for row in _latest(db, flt, titles, concern):
                    writer.writerow([_csv_cell(c.kind, v)
                                     for c, v in zip(columns, row, strict=True)])
                    count += 1
            text.flush()
        finally:
            text.detach()
    return LedgerSummary(LedgerFormat.CSV, {LATEST: count})


@contextmanager
def _binary(out: Sink) -> Iterator[IO[bytes]]:
    if isinstance(out, str | Path):
        with open(out, "wb") as stream:
            yield stream
    else:
        yield out


def export_ledger(
    db: Database,
    flt: ReportFilter,
    out: Sink,
    *,
    task_titles: Mapping[int, str],
    fmt: LedgerFormat = LedgerFormat.XLSX,
    describe: Describe = _no_description,
    concern: Concern | None = None,
    invitations: Invitations | None = None,
    scratch: Path | None = None,
) -> LedgerSummary:
    """Write the ledger of the reports ``flt`` selects to ``out`` (a path, or a binary
    stream left open): the three-sheet .xlsx, or the 最新进展 sheet as CSV. The .xlsx's
    temporary files go to ``scratch`` (see :func:`scratch_dir`) when given.

    ``flt`` must already be limited to the asker's scope. ``task_titles``: task number →
    title, from the knowledge base; ``describe``: an enterprise's qualifier answers and
    the tasks that concern it, in words (:data:`Describe`). ``concern`` (task → whom it
    concerns, from the knowledge base) adds the 未填报 rows to 最新进展; ``invitations``
    the links of the enterprises not joined to 企业. Blocking (seconds for a province):
    run it off the event loop, on a read connection of its own.
    """
    if fmt is LedgerFormat.XLSX:
        if scratch is not None:
            scratch.mkdir(parents=True, exist_ok=True)
        return _write_xlsx(db, flt, out, task_titles, describe, concern, invitations, scratch)
    return _write_csv(db, flt, out, task_titles, describe, concern, invitations)
