"""Parsing of what users type in the dialogs.

Each parser is a pure function returning either the parsed value or a
:class:`FieldError` whose message (Simplified Chinese) can be sent back as is.
Returning the error rather than raising keeps the dialog code a simple
``if isinstance(result, FieldError)``, and mypy checks both branches.

No parser knows the plan's shape: task numbers and statuses come from the
knowledge base and are passed in. Text that is stored and shown to staff (names,
descriptions) loses invisible characters first (:func:`visible`): bidi overrides
would let "abc\u202efdp.exe" read as "abcexe.pdf", and NUL or other controls have no
business in a company name.

How a Chinese numeral reads and when a month or year ends are :mod:`storage.parsing`'s
rules, shared with the answer engine; this module adds the ranges and the messages.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from storage.clock import SHANGHAI
from storage.parsing import month_end, percent_figure, small_chinese_number, year_end

DESCRIPTION_LIMIT = 500
MIN_YEAR, MAX_YEAR = 2000, 2100

NUMBER_DIGITS = 9  # longer digit strings are no task, percentage or month anyone means
_TOO_BIG = 10**NUMBER_DIGITS  # what :func:`_number` returns for them (out of every range)


@dataclass(frozen=True)
class FieldError:
    """A message for the user explaining why the input was not accepted."""

    message: str


def visible(text: str, *, keep_newlines: bool = False) -> str:
    """``text`` without control, format (bidi overrides, zero-width), surrogate and
    private-use characters; tabs and (with ``keep_newlines``) newlines stay."""
    kept = "\t\n" if keep_newlines else "\t"
    return "".join(
        ch for ch in text
        if ch in kept or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co")
    )


def has_letters(text: str) -> bool:
    """Whether ``text`` has a letter of any script (a CJK character is one)."""
    return any(unicodedata.category(ch).startswith("L") for ch in text)


def _clean(text: str) -> str:
    """Full-width → half-width (NFKC) and drop all whitespace: phone keyboards in
    Chinese mode produce full-width digits and stray spaces."""
    return "".join(unicodedata.normalize("NFKC", text).split())


# --- phone numbers -------------------------------------------------------------------

_MOBILE = re.compile(r"1[3-9]\d{9}")
_LANDLINE = re.compile(r"(0(?:10|2\d|[3-9]\d{2}))([1-9]\d{6,7})")


def parse_phone(text: str) -> str | FieldError:
    """A mainland mobile (``13812345678``) or landline with area code (``0371-12345678``).

    Separators, ``+86``/``0086`` and full-width digits are tolerated. Landlines are
    returned as ``area-number`` so staff can read them; mobiles as 11 bare digits.
    """
    digits = re.sub(r"[-()（）.]", "", _clean(text))
    digits = re.sub(r"^(?:\+86|0086)", "", digits)
    if not (digits.isascii() and digits.isdigit()):
        return FieldError("电话号码只能包含数字，例如 13812345678 或 0371-12345678。")
    if len(digits) == 13 and digits.startswith("86") and _MOBILE.fullmatch(digits[2:]):
        digits = digits[2:]
    if _MOBILE.fullmatch(digits):
        return digits
    if not digits.startswith(("0", "1")) and 9 <= len(digits) <= 11:
        digits = "0" + digits  # "+86 371 12345678": the trunk 0 is dropped after +86
    match = _LANDLINE.fullmatch(digits)
    if match:
        return f"{match.group(1)}-{match.group(2)}"
    if digits.startswith("1"):
        return FieldError(f"手机号应为以1开头的11位数字，您输入了{len(digits)}位，请核对。")
    return FieldError("请填写手机号，或带区号的固定电话（如 0371-12345678）。")


# --- numbers -----------------------------------------------------------------------

# The 0–100 Chinese numerals a percentage or month is typed in (storage.parsing owns the rule).
chinese_number = small_chinese_number


def _number(text: str) -> int | None:
    """An Arabic or Chinese integer. Digits must be decimal digits (``"፩"`` or ``"²"``
    are digits to ``str.isdigit`` but no number ``int`` reads); a string of more than
    :data:`NUMBER_DIGITS` digits gives :data:`_TOO_BIG`, which every range refuses
    (``int`` refuses to read more than 4300 digits at all)."""
    if text.isdecimal():
        digits = text.lstrip("0") or "0"
        return int(digits) if len(digits) <= NUMBER_DIGITS else _TOO_BIG
    return small_chinese_number(text)


def _shown(number: int) -> str:
    """A number as an error message repeats it."""
    return "一个过大的数" if number >= _TOO_BIG else str(number)


# --- percentage ----------------------------------------------------------------------


def parse_percent(text: str) -> int | FieldError:
    """A completion percentage 0–100: "60", "60%", "６０％", "百分之六十", "六十"."""
    value = percent_figure(_clean(text))
    number = _number(value)
    if number is None:
        if re.fullmatch(r"\d+\.\d+", value):
            return FieldError("完成比例请填写0到100之间的整数，例如 60。")
        return FieldError("请填写完成比例，例如 60 或 60%。")
    if not 0 <= number <= 100:
        return FieldError(f"完成比例应在0到100之间，您填写的是{_shown(number)}。")
    return number


# --- dates ---------------------------------------------------------------------------

Prefer = Literal["future", "past"]

# re.ASCII: \d is 0-9 only (NFKC has already folded full-width digits).
_FULL_DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})[日号]?", re.ASCII)
_YEAR_MONTH = re.compile(r"(\d{4})[-/.年](\d{1,2})月?(?:底|末)?", re.ASCII)
_YEAR_END = re.compile(r"(\d{4})年?(?:底|末|年底|年末)", re.ASCII)
_MONTH_DAY = re.compile(r"(\d{1,2}|[一二三四五六七八九十]{1,3})月(\d{1,2})[日号]", re.ASCII)
_THIS_OR_NEXT_YEAR = re.compile(
    r"(今年|明年)(\d{1,2}|[一二三四五六七八九十]{1,3})月(?:(\d{1,2})[日号]|底|末)?", re.ASCII
)
_MONTH = re.compile(r"(\d{1,2}|[一二三四五六七八九十]{1,3})月(?:底|末)?", re.ASCII)


def _make_date(year: int, month: int, day: int) -> dt.date | FieldError:
    if not MIN_YEAR <= year <= MAX_YEAR:
        return FieldError(f"年份{year}不在合理范围内，请核对。")
    try:
        return dt.date(year, month, day)
    except ValueError:
        return FieldError(f"{year}年{month}月{day}日不是有效日期，请核对。")


def _resolve_month_day(
    month: int, day: int | None, today: dt.date, prefer: Prefer
) -> dt.date | FieldError:
    """A month (and maybe day) without a year: this year's, else the adjacent year.

    ``prefer="future"`` (planned completion): if this year's date is already past,
    next year's is meant — in December "3月底" means next March. ``prefer="past"``
    (a date something was done): if this year's date is still ahead, last year's.
    """
    if not 1 <= month <= 12:
        return FieldError(f"月份应为1到12，您填写的是{_shown(month)}。")

    def on(year: int) -> dt.date | FieldError:
        return month_end(year, month) if day is None else _make_date(year, month, day)

    candidate = on(today.year)
    if isinstance(candidate, FieldError):
        return candidate
    if prefer == "future" and candidate < today:
        return on(today.year + 1)
    if prefer == "past" and candidate > today:
        return on(today.year - 1)
    return candidate


def parse_date(text: str, *, today: dt.date, prefer: Prefer = "future") -> dt.date | FieldError:
    """A (completion) date in the forms people type.

    Accepted: ``2021-12-31``, ``2021/12/31``, ``2021.12.31``, ``2021年12月31日``;
    ``2021年12月`` / ``2021-12`` (last day of that month); ``2021年底``; ``12月31日``;
    ``12月`` / ``12月底`` / ``十二月底`` (last day of that month); ``年底`` / ``今年底``
    (31 December this year); ``明年3月`` / ``明年底``; ``月底`` / ``下个月底``.
    Month-only forms mean the *last* day, since they are read as "by then". Without a
    year, see :func:`_resolve_month_day` for which year is meant.
    """
    value = _clean(text)
    if not value:
        return FieldError("请填写日期，例如 2021-12-31 或 12月底。")
    match = _FULL_DATE.fullmatch(value)
    if match:
        return _make_date(*(int(g) for g in match.groups()))
    match = _YEAR_END.fullmatch(value)
    if match:
        return _make_date(int(match.group(1)), 12, 31)
    match = _YEAR_MONTH.fullmatch(value)
    if match:
        year, month = int(match.group(1)), int(match.group(2))
        if not 1 <= month <= 12:
            return FieldError(f"月份应为1到12，您填写的是{month}。")
        checked = _make_date(year, month, 1)
        return checked if isinstance(checked, FieldError) else month_end(year, month)
    relative = _relative_date(value, today)
    if relative is not None:
        return relative
    match = _MONTH_DAY.fullmatch(value)
    if match:
        named = _number(match.group(1))
        if named is None:
            return _date_hint()
        return _resolve_month_day(named, int(match.group(2)), today, prefer)
    match = _MONTH.fullmatch(value)
    if match:
        named = _number(match.group(1))
        if named is None:
            return _date_hint()
        return _resolve_month_day(named, None, today, prefer)
    return _date_hint()


def _relative_date(value: str, today: dt.date) -> dt.date | FieldError | None:
    """Forms anchored on today: 年底, 今年/明年(底|N月), 月底, 下个月(底)."""
    if value in ("年底", "年末", "今年底", "今年年底", "今年末"):
        return year_end(today.year)
    if value in ("明年底", "明年年底", "明年末"):
        return year_end(today.year + 1)
    if value in ("月底", "月末", "本月底", "这个月底", "本月"):
        return month_end(today.year, today.month)
    if value in ("下月底", "下个月底", "下月", "下个月", "下月末", "下个月末"):
        year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
        return month_end(year, month)
    match = _THIS_OR_NEXT_YEAR.fullmatch(value)
    if match is None:
        return None
    year = today.year + (1 if match.group(1) == "明年" else 0)
    number = _number(match.group(2))
    if number is None or not 1 <= number <= 12:
        return FieldError(f"月份应为1到12，您填写的是“{match.group(2)}”。")
    if match.group(3):
        return _make_date(year, number, int(match.group(3)))
    return month_end(year, number)


def _date_hint() -> FieldError:
    return FieldError("没有看懂这个日期，请按 2021-12-31、2021年12月31日 或 12月底 的格式填写。")


# --- free text, task numbers, statuses ----------------------------------------------


def parse_description(
    text: str, *, limit: int = DESCRIPTION_LIMIT, required: bool = False
) -> str | FieldError:
    """Trimmed description text, at most ``limit`` characters (a Telegram message can
    hold 4096, but staff read hundreds of these; a limit keeps them to the point).
    Invisible characters are dropped; what is left must say something in words or
    figures, not only emoji or punctuation."""
    value = visible(text, keep_newlines=True).strip()
    if required and not value:
        return FieldError("请填写情况说明。")
    if value and not any(has_letters(ch) or ch.isdecimal() for ch in value):
        return FieldError("情况说明需要用文字说明，不能只有表情或符号。")
    if len(value) > limit:
        return FieldError(f"情况说明最多{limit}字，您输入了{len(value)}字，请精简后重新发送。")
    return value


def parse_line(text: str, *, label: str, limit: int, required: bool = True) -> str | FieldError:
    """One line of text (a name, a county, a contact person): invisible characters
    dropped, inner whitespace folded, at least one letter or CJK character, at most
    ``limit`` characters; the error names the field."""
    value = " ".join(visible(text).split())
    if required and not value:
        return FieldError(f"{label}不能为空。")
    if value and not has_letters(value):
        return FieldError(f"{label}需要包含汉字或字母，不能只有表情、数字或符号。")
    if len(value) > limit:
        return FieldError(f"{label}最多{limit}字，您输入了{len(value)}字。")
    return value


def parse_task_number(text: str, numbers: Sequence[int]) -> int | FieldError:
    """One of the plan's task ``numbers``, typed as "3", "第3项", "任务三" and the like."""
    value = _clean(text)
    value = re.sub(r"^(?:任务|第)", "", value)
    value = re.sub(r"(?:项|条|号)?(?:任务)?$", "", value)
    number = _number(value)
    ordered = sorted(numbers)
    contiguous = bool(ordered) and ordered == list(range(ordered[0], ordered[-1] + 1))
    span = f"{ordered[0]}到{ordered[-1]}" if contiguous else "、".join(map(str, ordered))
    if number is None:
        return FieldError(f"请填写任务编号（{span}）。")
    if number not in numbers:
        if contiguous:
            return FieldError(f"任务编号应在{span}之间，您填写的是{_shown(number)}。")
        return FieldError(f"没有任务{_shown(number)}，任务编号为：{span}。")
    return number


def parse_status(
    text: str, statuses: Sequence[str], words: Mapping[str, str] | None = None
) -> str | FieldError:
    """One of the offered ``statuses`` (the knowledge base's), or one of ``words``
    (everyday word → status, also the knowledge base's) whose status is offered."""
    value = _clean(text)
    status = value if value in statuses else (words or {}).get(value)
    if status is None or status not in statuses:
        return FieldError("请选择进展状态：" + "、".join(statuses) + "。")
    return status


# --- a time to send something (Beijing time) ------------------------------------------

_CLOCK = r"(\d{1,2})(?::|：|点|時|时)(\d{1,2})?分?"
_SEND_FULL = re.compile(rf"(\d{{4}})[-/.年](\d{{1,2}})[-/.月](\d{{1,2}})[日号]?{_CLOCK}")
_SEND_MONTH_DAY = re.compile(rf"(\d{{1,2}})[-/.月](\d{{1,2}})[日号]?{_CLOCK}")
_SEND_RELATIVE = re.compile(rf"(今天|明天|后天)?(上午|早上|下午|晚上)?{_CLOCK}")
_DAY_OFFSETS = {None: 0, "今天": 0, "明天": 1, "后天": 2}


def parse_send_time(
    text: str, *, now: dt.datetime, max_ahead: dt.timedelta = dt.timedelta(days=180)
) -> dt.datetime | FieldError:
    """When to send, typed in Beijing time: ``2026-12-05 09:00``, ``12月5日 9:00``,
    ``明天 9:00``, ``下午3点``, ``9:30`` (today, or tomorrow once that time has passed).
    ``now`` is aware; the result is aware (Asia/Shanghai), in the future, and at most
    ``max_ahead`` away."""
    local_now = now.astimezone(SHANGHAI)
    value = _clean(text)
    day: dt.date | None = None
    clock: tuple[str, str | None]
    if match := _SEND_FULL.fullmatch(value):
        year, month, mday = (int(g) for g in match.groups()[:3])
        checked = _make_date(year, month, mday)
        if isinstance(checked, FieldError):
            return checked
        day, clock = checked, (match[4], match[5])
    elif match := _SEND_MONTH_DAY.fullmatch(value):
        checked = _resolve_month_day(int(match[1]), int(match[2]), local_now.date(), "future")
        if isinstance(checked, FieldError):
            return checked
        day, clock = checked, (match[3], match[4])
    elif match := _SEND_RELATIVE.fullmatch(value):
        hour_text, minute_text = match[3], match[4]
        hour = int(hour_text)
        if match[2] in ("下午", "晚上") and hour < 12:
            hour_text = str(hour + 12)
        day = local_now.date() + dt.timedelta(days=_DAY_OFFSETS[match[1]])
        clock = (hour_text, minute_text)
        if match[1] is None:
            candidate = _at(day, clock)
            if isinstance(candidate, dt.datetime) and candidate <= local_now:
                day += dt.timedelta(days=1)
    else:
        return FieldError(
            "没有看懂这个时间，请按 2026-12-05 09:00、明天 9:00 或 下午3点 的格式填写。")
    when = _at(day, clock)
    if isinstance(when, FieldError):
        return when
    if when <= local_now:
        return FieldError(f"{when:%Y-%m-%d %H:%M} 已经过去了，请填写将来的时间。")
    if when - local_now > max_ahead:
        return FieldError(f"最多只能提前{max_ahead.days}天安排发送。")
    return when


def _at(day: dt.date, clock: tuple[str, str | None]) -> dt.datetime | FieldError:
    hour, minute = int(clock[0]), int(clock[1] or 0)
    if hour > 23 or minute > 59:
        return FieldError(f"{clock[0]}:{clock[1] or '00'} 不是有效的时刻。")
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI)
