"""Parsing of dialog inputs, and the region list."""

from __future__ import annotations

import datetime as dt

import pytest

from knowledge.model import KnowledgeBase
from storage.fields import (
    FieldError,
    chinese_number,
    parse_date,
    parse_description,
    parse_percent,
    parse_phone,
    parse_status,
    parse_task_number,
)
from storage.regions import CITIES, DIRECT_COUNTIES, REGIONS, is_region, normalize_region

TODAY = dt.date(2021, 6, 15)


def error_of(result: object) -> str:
    assert isinstance(result, FieldError), result
    return result.message


# --- phone ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("13812345678", "13812345678"),
        ("138 1234 5678", "13812345678"),
        ("138-1234-5678", "13812345678"),
        ("+86 138 1234 5678", "13812345678"),
        ("008613812345678", "13812345678"),
        ("8613812345678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),
        ("0371-12345678", "0371-12345678"),
        ("0371 6123456", "0371-6123456"),
        ("037112345678", "0371-12345678"),
        ("(0371)12345678", "0371-12345678"),
        ("０３７１－１２３４５６７８", "0371-12345678"),
        ("010-12345678", "010-12345678"),
        ("+86 371 12345678", "0371-12345678"),
    ],
)
def test_valid_phones(text: str, expected: str) -> None:
    assert parse_phone(text) == expected


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("1381234567", "10位"),
        ("12812345678", "手机号"),  # no mobile prefix 12
        ("5551234", "区号"),
        ("0371-123", "区号"),
        ("电话", "只能包含数字"),
    ],
)
def test_invalid_phones(text: str, needle: str) -> None:
    assert needle in error_of(parse_phone(text))


# --- percent -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("60", 60),
        ("60%", 60),
        ("６０％", 60),
        (" 0 ", 0),
        ("100", 100),
        ("六十", 60),
        ("百分之六十五", 65),
        ("十", 10),
        ("一百", 100),
    ],
)
def test_valid_percent(text: str, expected: int) -> None:
    assert parse_percent(text) == expected


@pytest.mark.parametrize(
    ("text", "needle"), [("101", "0到100"), ("60.5", "整数"), ("很多", "比例"), ("፩", "比例")]
)
def test_invalid_percent(text: str, needle: str) -> None:
    assert needle in error_of(parse_percent(text))


def test_chinese_number() -> None:
    assert [chinese_number(t) for t in ("三", "十二", "二十", "九十九", "两", "千")] == [
        3,
        12,
        20,
        99,
        2,
        None,
    ]


# --- dates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2021-12-31", dt.date(2021, 12, 31)),
        ("2021/12/31", dt.date(2021, 12, 31)),
        ("2021.12.31", dt.date(2021, 12, 31)),
        ("2021年12月31日", dt.date(2021, 12, 31)),
        ("2021年9月1号", dt.date(2021, 9, 1)),
        ("２０２１－１２－３１", dt.date(2021, 12, 31)),
        ("2022年2月", dt.date(2022, 2, 28)),
        ("2021年底", dt.date(2021, 12, 31)),
        ("12月31日", dt.date(2021, 12, 31)),
        ("12月底", dt.date(2021, 12, 31)),
        ("9月", dt.date(2021, 9, 30)),
        ("十二月底", dt.date(2021, 12, 31)),
        ("年底", dt.date(2021, 12, 31)),
        ("今年底", dt.date(2021, 12, 31)),
        ("明年3月", dt.date(2022, 3, 31)),
        ("明年3月15日", dt.date(2022, 3, 15)),
        ("明年底", dt.date(2022, 12, 31)),
        ("月底", dt.date(2021, 6, 30)),
        ("下个月底", dt.date(2021, 7, 31)),
    ],
)
def test_date_forms(text: str, expected: dt.date) -> None:
    assert parse_date(text, today=TODAY) == expected


def test_month_already_past_means_next_year() -> None:
    assert parse_date("3月底", today=TODAY) == dt.date(2022, 3, 31)
    assert parse_date("6月15日", today=TODAY) == dt.date(2021, 6, 15)  # today is not past
    assert parse_date("6月14日", today=TODAY) == dt.date(2022, 6, 14)


def test_month_end_this_month_is_this_year() -> None:
    assert parse_date("6月底", today=TODAY) == dt.date(2021, 6, 30)


def test_prefer_past_for_dates_already_done() -> None:
    assert parse_date("3月5日", today=TODAY, prefer="past") == dt.date(2021, 3, 5)
    assert parse_date("12月底", today=TODAY, prefer="past") == dt.date(2020, 12, 31)


def test_next_month_in_december_rolls_year() -> None:
    assert parse_date("下个月底", today=dt.date(2021, 12, 5)) == dt.date(2022, 1, 31)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("2021-02-30", "不是有效日期"),
        ("13月底", "1到12"),
        ("1899-01-01", "年份"),
        ("下周", "没有看懂"),
        ("", "请填写日期"),
    ],
)
def test_invalid_dates(text: str, needle: str) -> None:
    assert needle in error_of(parse_date(text, today=TODAY))


# --- description, task, status -------------------------------------------------------


def test_description_is_trimmed_and_limited() -> None:
    assert parse_description("  已完成改造  ") == "已完成改造"
    assert parse_description("") == ""
    assert "500字" in error_of(parse_description("字" * 501))
    assert "501字" in error_of(parse_description("字" * 501))
    assert "请填写" in error_of(parse_description(" ", required=True))
    assert parse_description("字" * 10, limit=10) == "字" * 10


TASKS = tuple(range(1, 27))
STATUSES = ("未开始", "进行中", "已完成", "不涉及")


@pytest.mark.parametrize(("text", "expected"), [("3", 3), ("第3项", 3), ("任务二十六", 26)])
def test_task_numbers(text: str, expected: int) -> None:
    assert parse_task_number(text, TASKS) == expected


def test_task_number_out_of_range() -> None:
    assert "1到26" in error_of(parse_task_number("27", TASKS))
    # another plan's numbers: the range and the message follow them
    assert parse_task_number("27", (27, 28)) == 27
    assert "27到28" in error_of(parse_task_number("3", (27, 28)))
    assert "没有任务3，任务编号为：2、5" in error_of(parse_task_number("3", (2, 5)))


@pytest.mark.parametrize(
    ("text", "task"),
    [("፩", None), ("1" * 5000, None), ("9" * 10, None), ("١" * 4400, None),
     ("٣", 3), ("²", 2)],  # Arabic-Indic 3 is a decimal digit; NFKC reads ² as 2
)
def test_unusual_digits_get_a_message_never_an_exception(text: str, task: int | None) -> None:
    """Digits str.isdigit accepts but int cannot read, numbers longer than int reads."""
    for result in (parse_percent(text), parse_date(text + "月", today=TODAY),
                   parse_date(text, today=TODAY), parse_phone(text)):
        assert isinstance(result, (FieldError, int, dt.date, str)), result
    parsed = parse_task_number(text, TASKS)
    assert parsed == task if task is not None else isinstance(parsed, FieldError)
    assert "过大" in error_of(parse_percent("1" * 5000))
    assert "过大" in error_of(parse_task_number("1" * 5000, TASKS))


WORDS = {"完成": "已完成", "完成了": "已完成"}  # as KnowledgeBase.status_words gives them


def test_status_synonyms() -> None:
    assert parse_status("完成", STATUSES, WORDS) == "已完成"
    assert parse_status("进行中", STATUSES, WORDS) == "进行中"
    assert "未开始" in error_of(parse_status("差不多", STATUSES, WORDS))
    assert "未开始" in error_of(parse_status("完成", STATUSES)), "no words given, none known"


def test_statuses_come_from_the_caller() -> None:
    """A synonym counts only if its status is offered; another plan's names work."""
    assert parse_status("已验收", ("整改中", "已验收")) == "已验收"
    assert "整改中、已验收" in error_of(parse_status("完成", ("整改中", "已验收"), WORDS))


def test_the_shipped_plan_gives_the_everyday_status_words(kb: KnowledgeBase) -> None:
    names = [s.name for s in kb.statuses]
    for word, status in (("没开始", "未开始"), ("在做", "进行中"), ("做完了", "已完成"),
                         ("不适用", "不涉及")):
        assert parse_status(word, names, kb.status_words) == status


# --- regions -------------------------------------------------------------------------


def test_region_lists() -> None:
    assert len(CITIES) == 17 and len(DIRECT_COUNTIES) == 10
    assert len(REGIONS) == len(set(REGIONS)) == 28
    assert is_region("济源示范区") and is_region("滑县") and is_region("郑州市")
    assert not is_region("郑州") and not is_region("北京市")


def test_normalize_region() -> None:
    assert normalize_region(" 郑州 ") == "郑州市"
    assert normalize_region("济源") == "济源示范区"
    assert normalize_region("济源市") == "济源示范区"
    assert normalize_region("固始") == "固始县"
    assert normalize_region("北京") is None


def test_parse_line_folds_spaces_and_names_the_field() -> None:
    from storage.fields import FieldError, parse_line

    assert parse_line("  河南  绿源 ", label="企业名称", limit=10) == "河南 绿源"
    empty = parse_line("   ", label="企业名称", limit=10)
    assert isinstance(empty, FieldError) and empty.message == "企业名称不能为空。"
    assert parse_line("", label="县", limit=10, required=False) == ""
    long = parse_line("一" * 11, label="联系人姓名", limit=10)
    assert isinstance(long, FieldError) and "最多10字，您输入了11字" in long.message


@pytest.mark.parametrize("text", ["😀😀😀", "！！！", "123", "☆ ★ ☆", "\u202e\u200b"])
def test_names_need_a_letter_or_cjk_character(text: str) -> None:
    from storage.fields import parse_line

    message = error_of(parse_line(text, label="企业名称", limit=100))
    assert "企业名称" in message
    assert parse_line("3M中国", label="企业名称", limit=100) == "3M中国"
    assert parse_line("ABC", label="企业名称", limit=100) == "ABC"


def test_description_needs_some_text() -> None:
    assert "不能只有表情或符号" in error_of(parse_description("👍👍", required=True))
    assert "不能只有表情或符号" in error_of(parse_description("。。。"))
    assert parse_description("60%") == "60%"


def test_bidi_and_control_characters_are_dropped_from_stored_text() -> None:
    from storage.fields import parse_line, visible

    assert parse_line("绿源\u202egpj.exe", label="企业名称", limit=100) == "绿源gpj.exe"
    assert parse_line("绿\x00源\u2066化工\u2069\ufeff", label="企业名称", limit=100) == "绿源化工"
    assert parse_description("第一行\n第二行\u200f\x07") == "第一行\n第二行"
    assert visible("a\ud800b\ue000c") == "abc"  # a lone surrogate cannot be stored as UTF-8
