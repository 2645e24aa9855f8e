"""The parsing primitives shared by the dialogs' fields and the answer engine: each rule
for reading what people type exists here once.

* Chinese numerals → numbers: :func:`chinese_integer` (``一百二十`` → 120, ``二〇二一`` →
  2021), :func:`chinese_to_number` (also ``二点五`` → 2.5) and :func:`small_chinese_number`
  (only the 0–100 forms people use for a percentage or a month: ``六十``, ``十二``, ``两``);
* percentages: :data:`PERCENT` (百分之六十 in a question) and :func:`percent_figure`
  (the figure of one typed alone: ``60%``, ``百分之六十``);
* month-ends: :func:`month_end` (``12月底`` is the month's last day) and :func:`year_end`
  (``年底`` is 31 December).

Why here: ``storage.fields`` (the dialogs' parsers) and ``knowledge`` (``normalize``,
``lookup``, ``dates``) both need these, and dependencies point inward. Storage must not
import the knowledge package (it never reads the plan), so the primitives cannot live in
``knowledge/``; this module imports nothing of the project (only the standard library),
so the engine importing it pulls in no SQLite, no plan and no telegram. The messages
users see (:class:`storage.fields.FieldError`) stay in ``storage.fields``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

# Chinese digits. 俩 (colloquial "two") is read in questions but not in a dialog field.
CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4, "五": 5,
             "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
# Every character a Chinese numeral may contain (点 is the decimal point).
CN_NUMERAL_CHARS = "零〇一二两俩三四五六七八九十百千点"

_SMALL = re.compile(
    r"百|一百|[零〇一二两三四五六七八九]|[一二三四五六七八九]?十[一二三四五六七八九]?"
)


def chinese_integer(numeral: str) -> int | None:
    """``十五`` → 15, ``一百二十`` → 120, ``二〇二一`` → 2021 (a plain run of digits reads
    digit by digit); None if ``numeral`` is empty or not a Chinese integer. 万 is no part
    of it: callers keep it as a unit (``二十万台`` reads ``20万台`` as the plan writes it)."""
    if not numeral:
        return None
    if all(ch in CN_DIGITS for ch in numeral):
        return int("".join(str(CN_DIGITS[ch]) for ch in numeral))
    total, digit = 0, None
    for ch in numeral:
        if ch in CN_DIGITS:
            digit = CN_DIGITS[ch]
        elif ch in _CN_UNITS:
            total += (1 if digit is None else digit) * _CN_UNITS[ch]
            digit = None
        else:
            return None
    return total + (digit or 0)


def chinese_to_number(numeral: str) -> float | None:
    """``十五`` → 15, ``一百二十`` → 120, ``二点五`` → 2.5; None if not a number."""
    if not numeral or any(ch not in CN_NUMERAL_CHARS for ch in numeral):
        return None
    whole, _, frac = numeral.partition("点")
    if frac and any(ch not in CN_DIGITS for ch in frac):
        return None
    value = chinese_integer(whole) if whole else 0
    if value is None:
        return None
    if frac:
        return float(f"{value}.{''.join(str(CN_DIGITS[ch]) for ch in frac)}")
    return float(value)


def small_chinese_number(text: str) -> int | None:
    """A Chinese numeral from 0 to 100 ("六十", "十五", "一百", "两"), or None.

    Only the forms people use for percentages and months: "一二", "俩" or "一百二十"
    are None here (a dialog asks again rather than guess)."""
    return chinese_integer(text) if _SMALL.fullmatch(text) else None


# How a percentage is written: 百分之六十, 百分之60, 60%, ６０％ (full-width folded first).
PERCENT_WORD = "百分之"
PERCENT_SIGNS = ("%", "％")
PERCENT = re.compile(rf"{PERCENT_WORD}([{CN_NUMERAL_CHARS}]+|[0-9.]+)")


def percent_figure(text: str) -> str:
    """The figure of a percentage as written, without 百分之 or the sign ("百分之六十" →
    "六十", "60%" → "60"); the text itself when it is written neither way."""
    text = text.removeprefix(PERCENT_WORD)
    for sign in PERCENT_SIGNS:
        text = text.removesuffix(sign)
    return text


def month_end(year: int, month: int) -> dt.date:
    """The last day of ``month``: what "12月底" / "2022年2月底" mean. ValueError for a
    month or year :class:`datetime.date` refuses."""
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def year_end(year: int) -> dt.date:
    """31 December of ``year``: what "年底" / "2021年年底" mean."""
    return dt.date(year, 12, 31)
