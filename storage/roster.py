"""The province's enterprise list (名录): reading an office's spreadsheet, and bringing
its checked rows into the register.

Reading (:func:`read_table`) knows files, not the plan: an .xlsx (the sheet named 企业
if there is one — the ledger's own sheet imports as it is — else the first) or a CSV
(UTF-8, with or without BOM, or GB 18030 as Chinese Excel saves it), the header being
row 1 and each row keeping the number the spreadsheet shows. What cannot be read as a
list is refused whole with :class:`BadFile` and a message saying why: not a
spreadsheet, over :data:`MAX_BYTES` or :data:`MAX_ROWS`, merged cells, an empty sheet.
A cell holding a formula (or text starting with ``=``) is kept as a :class:`Formula`
for the checker to refuse.

Writing (:func:`import_rows`) takes rows already checked (``handlers.staff.roster_check``
checks them as registration does) and applies them in one transaction:

* a new credit code becomes an approved enterprise (``origin='import'``) with an
  invitation link (``storage.enterprise_invites``);
* a code the list brought before is updated where the row changed, each change
  audited with its old and new values; an unchanged row changes nothing;
* a code registered through the bot and approved by staff keeps what staff approved
  and its accounts: the list's version is kept beside it (``enterprise_listings``)
  and the differences are returned for staff, never written over it. A code whose
  registration is still pending (or was rejected) takes the list's values — nobody
  vouched for what its applicant typed, which stays with the application — and the
  differences are returned all the same; its accounts stay as they are.

Nothing is ever deleted by an import.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlite_utils import Database

from storage import audit
from storage.clock import to_db
from storage.db import transaction
from storage.enterprise_invites import InviteKey, ensure_invites
from storage.ledger import Column, _Sheet

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000  # data rows, the header not counted
PROBLEM = "问题"


class BadFile(Exception):
    """The file cannot be read as a list; the message (Chinese) says why."""


class Formula(str):
    """A cell's formula text (``=A1&B1``), where a value belongs."""


@dataclass(frozen=True)
class Table:
    """A sheet as read: the header (row 1) and the data rows with their row numbers;
    every cell text (stripped), a :class:`Formula`, or ``""``."""

    name: str  # the sheet's name, or the CSV file's
    header: tuple[str, ...]
    rows: list[tuple[int, tuple[str, ...]]]


# --- reading -------------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a phone or a code typed as a number
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M") if value.time() != dt.time() else \
            value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def read_table(data: bytes, filename: str) -> Table:
    """The list in ``data`` (the bytes of ``filename``); BadFile if it is none."""
    if len(data) > MAX_BYTES:
        return _refuse(f"文件有 {len(data) / 1024 / 1024:.1f} MB，超过了 "
                       f"{MAX_BYTES // 1024 // 1024} MB 的上限；请按地市分成几个文件导入。")
    if not data.strip():
        return _refuse("文件是空的。")
    if data.startswith(b"PK\x03\x04"):
        return _read_xlsx(data)
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return _refuse("这是旧版 Excel（.xls）文件：请在 Excel 中“另存为” .xlsx 或 CSV 后再导入。")
    return _read_csv(data, filename)


def _refuse(message: str) -> Table:
    raise BadFile(message)


def _not_spreadsheet(filename: str) -> str:
    return (f"{Path(filename).name or '这个文件'}不是电子表格：请发送 Excel（.xlsx）"
            "或 CSV 文件，第1行为表头。")


def _read_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # a zip that is no workbook: openpyxl raises many kinds
        raise BadFile(_not_spreadsheet("这个文件")) from None
    try:
        if not workbook.worksheets:
            raise BadFile("工作簿里没有工作表。")
        names = [ws.title for ws in workbook.worksheets]
        sheet = workbook.worksheets[names.index("企业")] if "企业" in names else \
            workbook.worksheets[0]
        merged = _merged_cells(data, getattr(sheet, "_worksheet_path", ""))
        if merged:
            raise BadFile(f"工作表“{sheet.title}”有合并单元格（如 {merged}）：请取消合并，"
                          "让每家企业占一行、每个单元格只有一个值后再导入。")
        return _collect(str(sheet.title), (tuple(_xlsx_value(v) for v in values)
                                           for values in sheet.iter_rows(values_only=True)))
    finally:
        workbook.close()


def _xlsx_value(value: Any) -> str:
    """A cell as text; a formula (read-only openpyxl gives its text, ``=…``) as a
    :class:`Formula` — so is text typed to start with ``=``, which no value of a list
    does."""
    if isinstance(value, str) and value.startswith("="):
        return Formula(value)
    return _text(value)


def _collect(name: str, lines: Iterable[tuple[str, ...]]) -> Table:
    """The header (line 1) and the non-empty rows with their numbers; BadFile past
    :data:`MAX_ROWS` or for an empty sheet."""
    rows: list[tuple[int, tuple[str, ...]]] = []
    header: tuple[str, ...] | None = None
    for number, values in enumerate(lines, start=1):
        if number == 1:
            header = values
        elif any(values):
            rows.append((number, values))
            if len(rows) > MAX_ROWS:
                raise BadFile(f"表格超过 {MAX_ROWS:,} 行，超过了一次导入的上限；"
                              "请按地市分成几个文件导入。")
    if header is None or (not any(header) and not rows):
        raise BadFile(f"工作表“{name}”是空的。")
    if not rows:
        raise BadFile(f"工作表“{name}”只有表头，没有企业。")
    return Table(name, header, rows)


def _merged_cells(data: bytes, part: str) -> str | None:
    """The first merged range of the sheet (read-only openpyxl does not say)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open(part) as stream:
            tail = b""
            while chunk := stream.read(1 << 20):
                window = tail + chunk
                at = window.find(b"<mergeCell ")
                if at >= 0:
                    ref = window[at:at + 200].split(b'ref="', 1)
                    return ref[1].split(b'"', 1)[0].decode() if len(ref) > 1 else "?"
                tail = window[-16:]
    except (KeyError, zipfile.BadZipFile):
        return None
    return None


def _read_csv(data: bytes, filename: str) -> Table:
    if b"\0" in data[:65536]:
        raise BadFile(_not_spreadsheet(filename))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise BadFile(_not_spreadsheet(filename))
    sample = text[:8192]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    try:
        return _collect(Path(filename).name,
                        (tuple(_csv_value(c) for c in cells) for cells in reader))
    except csv.Error as exc:
        raise BadFile(f"{Path(filename).name} 第{reader.line_num}行不是有效的 CSV（{exc}）。") \
            from None


def _csv_value(cell: str) -> str:
    value = cell.strip()
    if value.startswith("="):
        return Formula(value)
    if value.startswith("'") and value[1:2] in ("=", "+", "-", "@"):
        return value[1:]  # the ledger's way of keeping text from being read as a formula
    return value


# --- writing -------------------------------------------------------------------------

FIELDS = {"name": "企业名称", "city": "地市", "county": "区县", "industries": "行业",
          "contact_name": "联系人", "phone": "联系电话"}


@dataclass(frozen=True)
class ListedRow:
    """A checked row of the list (industries: the knowledge base's names, sorted)."""

    row: int
    name: str
    credit_code: str
    city: str
    county: str | None
    industries: tuple[str, ...]
    contact_name: str
    phone: str
    qualifiers: Mapping[str, str] = field(default_factory=dict)  # key → yes / no / unknown

    def values(self) -> dict[str, Any]:
        return {"name": self.name, "city": self.city, "county": self.county,
                "industries": self.industries, "contact_name": self.contact_name,
                "phone": self.phone}


@dataclass(frozen=True)
class Difference:
    """A registered enterprise whose list row says otherwise (not written over)."""

    credit_code: str
    name: str
    label: str  # the field, as the list's header names it
    registered: str
    listed: str


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0  # codes registered through the bot, now also on the list
    invites: int = 0  # invitation codes issued
    qualifiers: int = 0  # enterprises whose qualifier answers the list changed
    differences: list[Difference] = field(default_factory=list)

    def describe(self) -> str:
        parts = [f"新增 {self.created:,} 家", f"更新 {self.updated:,} 家",
                 f"无变化 {self.unchanged:,} 家"]
        if self.qualifiers:
            parts.append(f"{self.qualifiers:,} 家的资格项（是/否）有变化")
        if self.merged:
            parts.append(f"其中 {self.merged:,} 家已通过机器人登记（已合并，账号保留）")
        if self.differences:
            parts.append(f"名单与登记不一致 {len(self.differences):,} 处（未覆盖，请核实）")
        return "，".join(parts)


def _shown(key: str, value: Any) -> str:
    if key == "industries":
        return "、".join(value)
    return "" if value is None else str(value)


def _current(db: Database) -> dict[str, dict[str, Any]]:
    """Every enterprise by credit code, with its industries (one pass each)."""
    industries: dict[int, list[str]] = {}
    for eid, industry in db.execute(
            "SELECT enterprise_id, industry FROM enterprise_industries ORDER BY industry"):
        industries.setdefault(eid, []).append(industry)
    out = {}
    for (eid, code, name, city, county, contact, phone, status, origin, listed) in db.execute(
            "SELECT id, credit_code, name, city, county, contact_name, phone, status, origin, "
            "listed_at FROM enterprises"):
        out[code] = {"id": eid, "name": name, "city": city, "county": county,
                     "industries": tuple(industries.get(eid, ())), "contact_name": contact,
                     "phone": phone, "status": status, "origin": origin, "listed": listed}
    return out


def _listings(db: Database) -> dict[int, dict[str, Any]]:
    return {row[0]: {"name": row[1], "city": row[2], "county": row[3],
                     "industries": tuple(i for i in row[4].split("、") if i),
                     "contact_name": row[5], "phone": row[6]}
            for row in db.execute("SELECT enterprise_id, name, city, county, industries, "
                                  "contact_name, phone FROM enterprise_listings")}


def _answers(db: Database) -> dict[int, dict[str, str]]:
    """Every enterprise's qualifier answers (to write only those a list changes)."""
    out: dict[int, dict[str, str]] = {}
    for eid, key, value in db.execute(
            "SELECT enterprise_id, qualifier, value FROM enterprise_qualifiers"):
        out.setdefault(eid, {})[key] = value
    return out


def _set_listing(db: Database, eid: int, row: ListedRow, stamp: str) -> None:
    db.conn.execute(
        """INSERT INTO enterprise_listings (enterprise_id, name, city, county, industries,
               contact_name, phone, imported_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (enterprise_id) DO UPDATE SET name = excluded.name,
               city = excluded.city, county = excluded.county,
               industries = excluded.industries, contact_name = excluded.contact_name,
               phone = excluded.phone, updated_at = excluded.updated_at""",
        (eid, row.name, row.city, row.county, "、".join(row.industries), row.contact_name,
         row.phone, stamp, stamp))


def _set_industries(db: Database, eid: int, industries: Sequence[str]) -> None:
    db.execute("DELETE FROM enterprise_industries WHERE enterprise_id = ?", (eid,))
    db.conn.executemany("INSERT INTO enterprise_industries (enterprise_id, industry) VALUES (?, ?)",
                   [(eid, industry) for industry in industries])


def _differences(row: ListedRow, registered: Mapping[str, Any]) -> list[Difference]:
    listed = row.values()
    return [Difference(row.credit_code, str(registered["name"]), label,
                       _shown(key, registered[key]), _shown(key, listed[key]))
            for key, label in FIELDS.items()
            if _shown(key, registered[key]) != _shown(key, listed[key])]


QualifierWriter = Callable[[Database, int, Mapping[str, str]], bool]  # True: changed


def import_rows(db: Database, rows: Sequence[ListedRow], *, actor_id: int, now: dt.datetime,
                key: InviteKey, valid_for: dt.timedelta, source: str,
                qualifiers: QualifierWriter | None = None) -> ImportResult:
    """Apply checked rows in one transaction (see the module docstring). ``qualifiers``
    writes a row's qualifier answers, called only for the rows whose 是/否 answers
    differ from the enterprise's (an empty cell says nothing)."""
    stamp = to_db(now)
    result = ImportResult()
    with transaction(db):
        current = _current(db)
        listings = _listings(db)
        answers = _answers(db) if qualifiers is not None else {}
        invited: list[int] = []
        for row in rows:
            found = current.get(row.credit_code)
            if found is None:
                eid = _create(db, row, actor_id, stamp)
                result.created += 1
                invited.append(eid)
            elif found["origin"] == "bot" and found["status"] == "approved":
                eid = found["id"]
                if listings.get(eid) != row.values() or found["listed"] is None:
                    _set_listing(db, eid, row, stamp)
                    if found["listed"] is None:
                        db.execute("UPDATE enterprises SET listed_at = ? WHERE id = ?",
                                   (stamp, eid))
                        result.merged += 1
                    else:
                        result.updated += 1
                    audit.record(db, actor_id=actor_id, action="import_listing",
                                 subject=f"enterprise:{eid}", now=now, source=source)
                else:
                    result.unchanged += 1
                result.differences += _differences(row, found)
                invited.append(eid)
            else:
                eid = found["id"]
                merging = found["origin"] == "bot"
                if merging:
                    result.merged += 1
                    result.differences += _differences(row, found)
                changes = {FIELDS[k]: [_shown(k, found[k]), _shown(k, v)]
                           for k, v in row.values().items() if _shown(k, found[k]) != _shown(k, v)}
                if changes or merging or found["status"] != "approved":
                    _update(db, eid, row, actor_id, stamp)
                    audit.record(db, actor_id=actor_id, action="import_update",
                                 subject=f"enterprise:{eid}", now=now, source=source,
                                 changes=changes)
                    if not merging:
                        result.updated += 1
                else:
                    result.unchanged += 1
                invited.append(eid)
            said = {k: v for k, v in row.qualifiers.items() if v != "unknown"}
            if qualifiers is not None and said and any(
                    answers.get(eid, {}).get(k) != v for k, v in said.items()):
                result.qualifiers += bool(qualifiers(db, eid, said))
        result.invites = ensure_invites(db, invited, key=key, by=actor_id, now=now,
                                        valid_for=valid_for)
        if result.created or result.updated or result.merged:
            audit.record(db, actor_id=actor_id, action="import_list", subject=f"file:{source}",
                         now=now, created=result.created, updated=result.updated,
                         merged=result.merged, unchanged=result.unchanged)
    return result


def _create(db: Database, row: ListedRow, actor_id: int, stamp: str) -> int:
    conn = db.conn  # the hot path of a first import: sqlite3 directly
    cursor = conn.execute(
        """INSERT INTO enterprises (name, city, county, contact_name, phone, credit_code,
               status, created_at, updated_at, decided_at, decided_by, origin, listed_at)
           VALUES (?, ?, ?, ?, ?, ?, 'approved', ?, ?, ?, ?, 'import', ?)""",
        (row.name, row.city, row.county, row.contact_name, row.phone, row.credit_code,
         stamp, stamp, stamp, actor_id, stamp))
    eid = cursor.lastrowid
    assert eid is not None
    conn.executemany("INSERT INTO enterprise_industries (enterprise_id, industry) VALUES (?, ?)",
                     [(eid, industry) for industry in row.industries])
    _set_listing(db, eid, row, stamp)
    return eid


def _update(db: Database, eid: int, row: ListedRow, actor_id: int, stamp: str) -> None:
    """The enterprise takes the list's values (and, if it was not, is approved)."""
    db.execute(
        """UPDATE enterprises SET name = ?, city = ?, county = ?, contact_name = ?, phone = ?,
               updated_at = ?, origin = 'import', listed_at = coalesce(listed_at, ?),
               decided_at = CASE WHEN status = 'approved' THEN decided_at ELSE ? END,
               decided_by = CASE WHEN status = 'approved' THEN decided_by ELSE ? END,
               status = 'approved'
           WHERE id = ?""",
        (row.name, row.city, row.county, row.contact_name, row.phone, stamp, stamp, stamp,
         actor_id, eid))
    _set_industries(db, eid, row.industries)
    _set_listing(db, eid, row, stamp)


def differences_of(db: Database, enterprise_id: int) -> list[Difference]:
    """How the list's row differs from the registration of an enterprise (for its card)."""
    listing = _listings_of(db, enterprise_id)
    if listing is None:
        return []
    rows = list(db.query("SELECT * FROM enterprises WHERE id = ?", (enterprise_id,)))
    if not rows:
        return []
    registered = dict(rows[0])
    registered["industries"] = tuple(r[0] for r in db.execute(
        "SELECT industry FROM enterprise_industries WHERE enterprise_id = ? ORDER BY industry",
        (enterprise_id,)))
    listed = ListedRow(0, credit_code=registered["credit_code"], qualifiers={}, **listing)
    return _differences(listed, registered)


def _listings_of(db: Database, enterprise_id: int) -> dict[str, Any] | None:
    rows = list(db.execute("SELECT name, city, county, industries, contact_name, phone "
                           "FROM enterprise_listings WHERE enterprise_id = ?", (enterprise_id,)))
    if not rows:
        return None
    name, city, county, industries, contact, phone = rows[0]
    return {"name": name, "city": city, "county": county,
            "industries": tuple(i for i in industries.split("、") if i),
            "contact_name": contact, "phone": phone}


# --- the copy with a 问题 column -----------------------------------------------------


def write_problems(table: Table, problems: Mapping[int, Sequence[str]],
                   out: str | Path | IO[bytes]) -> None:
    """A copy of ``table`` (same rows, same row numbers) with a 问题 column after the
    input's: for each bad row, the column and what is wrong. Cells are written as text
    (a formula cell as its text, never a formula)."""
    from openpyxl import Workbook

    width = max([len(table.header), *(len(values) for _, values in table.rows)])
    header = [*table.header, *[""] * (width - len(table.header))]
    columns = [Column(h or " ", max(10.0, min(30.0, 2.2 * len(h)))) for h in header]
    columns.append(Column(PROBLEM, 60))
    workbook = Workbook(write_only=True)
    sheet = _Sheet(workbook, table.name[:31] or "Sheet1", columns)
    try:
        last = 1
        for number, values in table.rows:
            for _ in range(last + 1, number):  # keep the row numbers the office sees
                sheet.append(tuple([None] * len(columns)))
            padded = [v or None for v in values] + [None] * (width - len(values))
            found = problems.get(number)
            sheet.append((*padded, "；".join(found) if found else None))
            last = number
        sheet.close()
        workbook.save(out)
    finally:
        sheet.discard()


def problem_path(source: Path) -> Path:
    """Where the copy with the 问题 column goes: beside the input, ``名单.问题.xlsx``."""
    return source.with_name(f"{source.stem}.{PROBLEM}.xlsx")


def iter_problem_lines(problems: Mapping[int, Sequence[str]]) -> Iterator[str]:
    for number in sorted(problems):
        yield f"第{number}行：" + "；".join(problems[number])
