"""The unified social credit code (统一社会信用代码), GB 32100-2015.

Eighteen characters: registration authority (1), institution type (2),
administrative division (3–8, digits), organisation code (9–17, itself carrying a
GB 11714 check character at 17) and a final check character (18). Each failure
gets its own Chinese message so a user can see *what* to fix rather than a bare
"invalid".
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, Z, S, V
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
LENGTH = 18
FORBIDDEN_LETTERS = "IOZSV"
# What a forbidden letter was most likely meant to be, to make the message actionable.
_LOOKALIKES = {"I": "1", "O": "0", "Z": "2", "S": "5"}
# First two digits of a division code: the provinces, plus 10 for central-level bodies.
_PROVINCE_PREFIXES = frozenset(
    {"10", "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36",
     "37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63",
     "64", "65", "71", "81", "82"}
)


@dataclass(frozen=True)
class CreditCodeResult:
    """Outcome of a check: ``code`` is the normalised text (even when invalid)."""

    code: str
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def division(self) -> str:
        """The six-digit administrative division code (positions 3–8)."""
        return self.code[2:8]


def normalize(text: str) -> str:
    """Strip spaces and dashes, turn full-width into half-width, upper-case.

    People copy codes from PDFs and type them on phone keyboards in Chinese mode;
    none of those differences change which code they mean.
    """
    half = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in half if not ch.isspace() and ch not in "-_").upper()


def check_character(first17: str) -> str:
    """The 18th character for the given first 17 (which must use :data:`ALPHABET`)."""
    total = sum(ALPHABET.index(ch) * w for ch, w in zip(first17, WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def org_check_character(body8: str) -> str:
    """The GB 11714 check character for the 8-character organisation code body."""

    def value(ch: str) -> int:
        return int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10

    remainder = 11 - sum(value(ch) * w for ch, w in zip(body8, ORG_WEIGHTS, strict=True)) % 11
    return {10: "X", 11: "0"}.get(remainder, str(remainder))


def check_credit_code(text: str) -> CreditCodeResult:
    """Validate a unified social credit code, returning the first problem found."""
    code = normalize(text)
    for problem in (_length_error, _character_error, _division_error, _org_error, _final_error):
        error = problem(code)
        if error is not None:
            return CreditCodeResult(code, error)
    return CreditCodeResult(code)


def _length_error(code: str) -> str | None:
    if len(code) == LENGTH:
        return None
    if not code:
        return "请输入18位统一社会信用代码。"
    return f"统一社会信用代码应为18位，您输入了{len(code)}位，请核对。"


def _character_error(code: str) -> str | None:
    letters = sorted({ch for ch in code if ch in FORBIDDEN_LETTERS})
    if letters:
        hints = "，".join(
            f"{ch}可能应为数字{_LOOKALIKES[ch]}" for ch in letters if ch in _LOOKALIKES
        )
        message = (
            f"统一社会信用代码不使用字母I、O、Z、S、V，您输入的代码含有字母{'、'.join(letters)}"
        )
        return message + (f"（{hints}）" if hints else "") + "，请核对。"
    others = [ch for ch in dict.fromkeys(code) if ch not in ALPHABET]
    if others:
        shown = "、".join(f"“{ch}”" for ch in others)
        return f"统一社会信用代码只含数字和大写字母，您输入的代码含有无效字符{shown}，请核对。"
    return None


def _division_error(code: str) -> str | None:
    division = code[2:8]
    if division.isdigit() and division[:2] in _PROVINCE_PREFIXES:
        return None
    return (
        f"统一社会信用代码第3至8位应为行政区划代码（如河南省郑州市为410100），"
        f"您输入的是“{division}”，请核对。"
    )


def _org_error(code: str) -> str | None:
    if org_check_character(code[8:16]) == code[16]:
        return None
    return "统一社会信用代码第9至17位（组织机构代码）未通过校验，可能有字符输错，请核对。"


def _final_error(code: str) -> str | None:
    if check_character(code[:17]) == code[17]:
        return None
    return "统一社会信用代码未通过校验（第18位校验码不符），可能有字符输错，请核对。"
