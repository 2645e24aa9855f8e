"""The shared parsing primitives (``storage.parsing``): one rule each for Chinese numerals
and month-ends, used by the dialogs' fields and by the answer engine."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest

from knowledge import dates, lookup, normalize
from storage import fields, parsing
from storage.parsing import (
    chinese_integer,
    chinese_to_number,
    month_end,
    small_chinese_number,
    year_end,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("numeral", "value"),
    [("十", 10), ("十五", 15), ("二十", 20), ("一百二十", 120), ("两千零五", 2005),
     ("俩", 2), ("〇", 0), ("二〇二一", 2021), ("百", 100)],
)
def test_chinese_integer(numeral: str, value: int) -> None:
    assert chinese_integer(numeral) == value


@pytest.mark.parametrize("text", ["", "点", "二点五", "万", "二十万", "冲天炉", "1十"])
def test_chinese_integer_refuses_what_is_no_chinese_integer(text: str) -> None:
    assert chinese_integer(text) is None


def test_chinese_to_number_reads_decimals_and_refuses_words() -> None:
    assert chinese_to_number("二点五") == 2.5
    assert chinese_to_number("一百二十") == 120.0
    assert chinese_to_number("二点十") is None
    assert chinese_to_number("冲天炉") is None


@pytest.mark.parametrize(
    ("text", "value"),
    [("零", 0), ("两", 2), ("十", 10), ("十二", 12), ("六十", 60), ("九十九", 99),
     ("百", 100), ("一百", 100)],
)
def test_small_chinese_number_reads_percent_and_month_forms(text: str, value: int) -> None:
    assert small_chinese_number(text) == value


@pytest.mark.parametrize("text", ["", "俩", "一二", "十十", "两十", "一百二十", "千", "二点五"])
def test_small_chinese_number_refuses_other_forms(text: str) -> None:
    # chinese_integer reads most of these; a dialog field asks again instead of guessing
    assert small_chinese_number(text) is None


@pytest.mark.parametrize(
    ("year", "month", "last"),
    [(2021, 12, 31), (2021, 2, 28), (2024, 2, 29), (2100, 2, 28), (2021, 4, 30)],
)
def test_month_end(year: int, month: int, last: int) -> None:
    assert month_end(year, month) == dt.date(year, month, last)


def test_month_end_refuses_a_month_that_is_none() -> None:
    with pytest.raises(ValueError):
        month_end(2021, 13)


def test_year_end() -> None:
    assert year_end(2021) == dt.date(2021, 12, 31)


def test_fields_and_engine_use_the_one_rule() -> None:
    assert fields.chinese_number is small_chinese_number
    assert normalize.chinese_to_number is chinese_to_number
    assert lookup.chinese_integer is chinese_integer
    assert dates.month_end is month_end and fields.month_end is month_end
    assert dates.year_end is year_end and fields.year_end is year_end
    assert normalize.PERCENT is parsing.PERCENT and fields.percent_figure is parsing.percent_figure


def _imported(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


def test_the_primitives_import_nothing_of_the_project() -> None:
    # so the engine importing them pulls in no SQLite, plan or telegram
    assert _imported(Path(parsing.__file__)) <= {"__future__", "calendar", "datetime", "re"}


def test_storage_imports_no_knowledge_and_neither_imports_telegram() -> None:
    for package, banned in (("storage", {"knowledge", "handlers", "bot", "telegram"}),
                            ("knowledge", {"handlers", "bot", "telegram"})):
        for path in (ROOT / package).rglob("*.py"):
            assert not _imported(path) & banned, path


def test_a_percentage_reads_the_same_in_a_dialog_field_and_in_a_question() -> None:
    from knowledge.normalize import normalize
    from storage.fields import parse_percent
    from storage.parsing import percent_figure

    written = ("百分之六十", "60%", "60％", "60")
    assert [percent_figure(t) for t in written] == ["六十", "60", "60", "60"]
    assert parse_percent("百分之六十") == parse_percent("60%") == 60
    assert "60%" in normalize("自行监测率要达到百分之六十吗")
