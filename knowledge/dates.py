"""Dates in answers and in questions.

* ``passed_note``: an answer that gives a deadline ("2021年10月31日前", "2021年年底前")
  or a start date ("自2022年9月1日起") already behind ``today`` says so, briefly, so an
  enterprise reading a 2021 plan in a later year is not told of dates as if ahead.
  Dates that are no obligation (印发于2021年6月2日) carry no 前/起 and get no note.
* ``period_of``: the span of days a question names ("10月底前", "2022年", "下半年"),
  for the question which tasks fall due then.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from storage.parsing import month_end, year_end

_IN_ANSWER = re.compile(
    r"(\d{4})年(?:(\d{1,2})月(?:(\d{1,2})日|底|末)?|年?底|年?末)(之前|以前|前|起)"
)


@dataclass(frozen=True)
class Period:
    first: dt.date
    last: dt.date
    span: tuple[int, int]  # where the question names it


def _date(year: str, month: str | None, day: str | None) -> dt.date | None:
    """Y年M月D日, Y年M月底 (the last day), Y年年底 (31 December)."""
    try:
        if not month:
            return year_end(int(year))
        if not day:
            return month_end(int(year), int(month))
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        return None


def passed_note(text: str, today: dt.date) -> str:
    """A short note on the deadlines and start dates of ``text`` that are before ``today``;
    empty when none is."""
    dates = []
    for m in _IN_ANSWER.finditer(text):
        date = _date(m.group(1), m.group(2), m.group(3))
        if date is not None:
            dates.append((date, m.group(4) == "起", m.group(0)[: -len(m.group(4))]))
    distinct = {d for d, _, _ in dates}
    passed = [(d, start, said) for d, start, said in dates if d < today]
    if not passed:
        return ""
    if len(distinct) > 1:
        if len({d for d, _, _ in passed}) == len(distinct):
            return "（以上期限均已过）"
        shown = "、".join(dict.fromkeys(said for _, _, said in passed))
        return f"（其中{shown}的期限已过）"
    date, start, said = passed[0]
    return f"（{said}已过，现已执行）" if start else f"（{said}的期限已过）"


_YEAR_HALF = re.compile(r"(?:(\d{4})年)?(上|下)半年")
_IN_QUESTION = re.compile(
    r"(?:(\d{4})年)?(?:(\d{1,2})月(?:(\d{1,2})[日号]|底|末)?|年底|年末|(?<=\d{4}年)底)"
)
_YEAR = re.compile(r"(\d{4})年(?!\d|底|末|度)")


def period_of(text: str, plan_year: int) -> Period | None:
    """The days a question names: a day, a month's end, a month, a half or a whole year.
    A month or year-end without a year is the plan's year."""
    half = _YEAR_HALF.search(text)
    if half:
        year = int(half.group(1) or plan_year)
        first, last = (dt.date(year, 1, 1), dt.date(year, 6, 30)) if half.group(2) == "上" else (
            dt.date(year, 7, 1), dt.date(year, 12, 31))
        return Period(first, last, half.span())
    m = _IN_QUESTION.search(text)
    if m and m.group(0):
        year = int(m.group(1) or plan_year)
        month, day = m.group(2), m.group(3)
        whole_month = bool(month) and not day and not m.group(0).endswith(("底", "末"))
        if whole_month:
            try:
                return Period(dt.date(year, int(month), 1), month_end(year, int(month)),
                              m.span())
            except ValueError:
                return None
        date = _date(str(year), month, day)
        return Period(date, date, m.span()) if date else None
    y = _YEAR.search(text)
    if y:
        year = int(y.group(1))
        return Period(dt.date(year, 1, 1), dt.date(year, 12, 31), y.span())
    return None
