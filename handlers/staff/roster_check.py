"""Checking an enterprise list row by row, as registration checks what a user types.

The same functions and messages as ``/register``: the credit code by GB 32100-2015
(``check_credit_code``), the region (``normalize_region``) against the code's division
digits, the county from the region's list (``match_county``, former names too), the
industries read against the knowledge base with the same fuzzy reading
(``read_industries``), names and contacts by ``parse_line``, the phone by
``parse_phone``. A list adds two checks of its own: a credit code that appears twice
in the file, and a formula where a value belongs. A row outside the importer's scope
is refused too.

Each problem names the column as the file's header spells it. Pure: no telegram,
no database (what is already registered is passed in).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from handlers.core.industries import read_industries, reading_problems
from handlers.enterprise.register import CONTACT_LIMIT, NAME_LIMIT
from knowledge.model import KnowledgeBase
from storage.credit_code import check_credit_code
from storage.fields import FieldError, parse_line, parse_phone
from storage.regions import (
    county_problem,
    division_problem,
    has_counties,
    match_county,
    normalize_region,
)
from storage.roster import BadFile, Formula, ListedRow, Table
from storage.users import Scope


@dataclass(frozen=True)
class Spec:
    key: str
    label: str  # the header the ledger writes
    synonyms: tuple[str, ...]
    required: bool = False


COLUMNS: tuple[Spec, ...] = (
    Spec("name", "企业名称", ("企业名称", "单位名称", "企业全称", "单位全称", "企业(单位)名称",
                          "名称"), True),
    Spec("code", "统一社会信用代码", ("统一社会信用代码", "信用代码", "社会信用代码",
                              "统一信用代码", "统一代码"), True),
    Spec("city", "地市", ("地市", "所在市", "所在地市", "省辖市", "市", "城市", "所属地市"), True),
    Spec("county", "区县", ("区县", "县(市、区)", "县(市,区)", "县市区", "县区", "所在区县",
                          "所属区县")),
    Spec("industries", "行业", ("行业", "所属行业", "行业类别", "行业名称")),
    Spec("contact", "联系人", ("联系人", "联系人姓名", "企业联系人")),
    Spec("phone", "联系电话", ("联系电话", "手机", "电话", "手机号", "手机号码", "联系方式",
                           "联系人电话")),
)

QUALIFIER_VALUES = {"是": "yes", "否": "no", "": "unknown", "不清楚": "unknown"}


def _header_key(text: str) -> str:
    folded = "".join(unicodedata.normalize("NFKC", text).split())
    return folded.strip("*").replace("（", "(").replace("）", ")")


@dataclass(frozen=True)
class Layout:
    """Which column of the file holds what: spec key → (index, the file's header)."""

    columns: dict[str, tuple[int, str]]
    qualifiers: dict[str, tuple[int, str]] = field(default_factory=dict)  # qualifier key → ...


def layout(table: Table, qualifiers: Sequence[tuple[str, str]] = ()) -> Layout:
    """Find the columns by header (``qualifiers``: (key, name) of the knowledge base's
    qualifiers, each a column headed by its name). BadFile naming the columns looked
    for when row 1 has no header or lacks a required column."""
    found: dict[str, tuple[int, str]] = {}
    by_header = {}
    for index, text in enumerate(table.header):
        key = _header_key(text)
        if key and key not in by_header:
            by_header[key] = (index, text)
    for spec in COLUMNS:
        for synonym in spec.synonyms:
            if _header_key(synonym) in by_header:
                found[spec.key] = by_header[_header_key(synonym)]
                break
    missing = [spec for spec in COLUMNS if spec.required and spec.key not in found]
    if missing:
        looked = "；".join(f"{s.label}（也认：{'、'.join(s.synonyms[1:4])}）" for s in missing)
        if not found:
            raise BadFile("第1行应为表头，但没有找到需要的列。需要的列：" + looked
                          + "。其余列可选：区县、行业、联系人、联系电话。")
        raise BadFile("表头（第1行）缺少必需的列：" + looked + "。")
    extra = {key: by_header[_header_key(name)] for key, name in qualifiers
             if _header_key(name) in by_header}
    return Layout(found, extra)


@dataclass
class Checked:
    rows: list[ListedRow] = field(default_factory=list)
    problems: dict[int, list[str]] = field(default_factory=dict)  # row number → messages

    @property
    def bad(self) -> int:
        return len(self.problems)


class RowChecker:
    """Checks the rows of one file (remembers codes seen, caches industry readings)."""

    def __init__(self, kb: KnowledgeBase, scope: Scope, registered: Mapping[str, str]) -> None:
        self.kb, self.scope, self.registered = kb, scope, registered  # code → its region
        self.seen: dict[str, int] = {}
        self._industries: dict[str, tuple[tuple[str, ...], list[str]]] = {}

    def industries(self, text: str) -> tuple[tuple[str, ...], list[str]]:
        cached = self._industries.get(text)
        if cached is None:
            reading = read_industries(text, self.kb.industry_choices, self.kb.aliases)
            members = sorted({m for choice in reading.found for m in choice.members})
            cached = (tuple(members), reading_problems(reading))
            self._industries[text] = cached
        return cached

    def check(self, number: int, values: Sequence[str], where: Layout) -> ListedRow | list[str]:
        problems: list[str] = []
        formulas: set[str] = set()

        def cell(key: str) -> tuple[str, str]:
            index, header = where.columns.get(key, (-1, ""))
            value = values[index] if 0 <= index < len(values) else ""
            if isinstance(value, Formula):
                problems.append(f"{header}：是公式（{value[:30]}），请填写数值本身")
                formulas.add(key)
            return value, header

        def take(header: str, result: str | FieldError) -> str:
            if isinstance(result, FieldError):
                problems.append(f"{header}：{result.message}")
                return ""
            return result

        name_text, name_header = cell("name")
        name = "" if "name" in formulas else take(
            name_header, parse_line(name_text, label="企业名称", limit=NAME_LIMIT))
        code_text, code_header = cell("code")
        result = check_credit_code(code_text)
        code = result.code
        if "code" in formulas:
            pass
        elif not result.ok:
            problems.append(f"{code_header}：{result.error}")
        elif code in self.seen:
            problems.append(f"{code_header}：与第{self.seen[code]}行重复")
        else:
            self.seen[code] = number
        city_text, city_header = cell("city")
        city = normalize_region(city_text) if city_text and "city" not in formulas else None
        if "city" in formulas:
            pass
        elif city is None:
            problems.append(f"{city_header}：" + (
                f"没有找到“{city_text[:20]}”，应为河南的地市、济源示范区或省直管县（市）"
                if city_text else "不能为空"))
        elif not self.scope.covers(city):
            problems.append(f"{city_header}：{city}不在您负责的范围（{self.scope.describe()}）内")
        elif result.ok:
            registered = self.registered.get(code)
            if registered is not None and not self.scope.covers(registered):
                problems.append(f"{code_header}：该企业已在{registered}登记，不在您负责的范围"
                                f"（{self.scope.describe()}）内")
            mismatch = division_problem(code, city)
            if mismatch and registered != city:
                problems.append(f"{city_header}：{mismatch}；请核对信用代码或地市"
                                "（已在本平台登记于该地市的企业不受此限）")
        county_cell = cell("county")
        county = None if "county" in formulas else self._county(county_cell, city, problems)
        industries_text, industries_header = cell("industries")
        industries: tuple[str, ...] = ()
        if industries_text and "industries" not in formulas:
            industries, wrong = self.industries(industries_text)
            problems += [f"{industries_header}：{p}" for p in wrong]
        contact_text, contact_header = cell("contact")
        contact = "" if "contact" in formulas else take(contact_header, parse_line(
            contact_text, label="联系人姓名", limit=CONTACT_LIMIT, required=False))
        phone_text, phone_header = cell("phone")
        phone = take(phone_header, parse_phone(phone_text)) \
            if phone_text and "phone" not in formulas else ""
        answers: dict[str, str] = {}
        for key, (index, header) in where.qualifiers.items():
            value = values[index] if index < len(values) else ""
            if isinstance(value, Formula):
                problems.append(f"{header}：是公式（{value[:30]}），请填写数值本身")
            elif value.strip() in QUALIFIER_VALUES:
                answers[key] = QUALIFIER_VALUES[value.strip()]
            else:
                problems.append(f"{header}：应填“是”“否”或留空，您填写的是“{value[:20]}”")
        if problems:
            return [problem.rstrip("。") for problem in problems]
        assert city is not None
        return ListedRow(number, name, code, city, county, industries, contact, phone, answers)

    def _county(self, cell: tuple[str, str], city: str | None, problems: list[str]) -> str | None:
        text, header = cell
        if not text or city is None:
            return None
        typed = parse_line(text, label="县（市、区）名称", limit=30)
        if isinstance(typed, FieldError):
            problems.append(f"{header}：{typed.message}")
            return None
        if not has_counties(city):
            if normalize_region(typed) == city:
                return None
            problems.append(f"{header}：{city}不分县（市、区），请留空")
            return None
        county = match_county(city, typed)
        if county is None:
            problems.append(f"{header}：{county_problem(city, typed)}")
        return county


def check_table(table: Table, kb: KnowledgeBase, scope: Scope, registered: Mapping[str, str],
                qualifiers: Sequence[tuple[str, str]] = ()) -> Checked:
    """Every row of ``table`` checked (BadFile for a header without the columns)."""
    where = layout(table, qualifiers)
    checker = RowChecker(kb, scope, registered)
    checked = Checked()
    for number, values in table.rows:
        outcome = checker.check(number, values, where)
        if isinstance(outcome, list):
            checked.problems[number] = outcome
        else:
            checked.rows.append(outcome)
    return checked
