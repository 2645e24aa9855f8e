"""Unified social credit code checks (GB 32100-2015)."""

from __future__ import annotations

import pytest

from storage.credit_code import (
    ALPHABET,
    check_character,
    check_credit_code,
    org_check_character,
)

REAL_VALID = "91350100M000100Y43"


def make_code(prefix: str, division: str, org_body: str) -> str:
    """A valid code from its parts, computing both check characters."""
    first16 = prefix + division + org_body
    first17 = first16 + org_check_character(org_body)
    return first17 + check_character(first17)


def test_real_public_code_is_valid() -> None:
    assert check_credit_code(REAL_VALID).ok


@pytest.mark.parametrize(
    "code",
    [
        make_code("91", "410100", "MA44XKXK"),
        make_code("92", "410702", "12345678"),
        make_code("93", "411381", "L0000001"),
        make_code("11", "100000", "00000131"),
        make_code("Y1", "419001", "A1B2C3D4"),
    ],
)
def test_generated_codes_are_valid(code: str) -> None:
    result = check_credit_code(code)
    assert result.ok, result.error
    assert result.code == code


def test_normalises_spaces_fullwidth_and_case() -> None:
    messy = " ９１３５ ０１００m000 100y43 "
    result = check_credit_code(messy)
    assert result.ok
    assert result.code == REAL_VALID


def test_published_code_that_does_not_check_out_is_rejected() -> None:
    assert not check_credit_code("911100001000021099").ok


@pytest.mark.parametrize(("text", "count"), [("9135010", 7), (REAL_VALID + "1", 19)])
def test_wrong_length_says_how_many(text: str, count: int) -> None:
    error = check_credit_code(text).error
    assert error is not None and "18位" in error and f"{count}位" in error


def test_empty_input() -> None:
    assert check_credit_code("   ").error == "请输入18位统一社会信用代码。"


@pytest.mark.parametrize("letter", list("IOZSV"))
def test_forbidden_letters_are_named(letter: str) -> None:
    code = REAL_VALID[:10] + letter + REAL_VALID[11:]
    error = check_credit_code(code).error
    assert error is not None and f"含有字母{letter}" in error


def test_forbidden_letter_suggests_lookalike_digit() -> None:
    error = check_credit_code("91350100M0001OOY43").error
    assert error is not None and "O可能应为数字0" in error


def test_other_invalid_characters_are_named() -> None:
    error = check_credit_code("91350100M000#00Y43").error
    assert error is not None and "“#”" in error


def test_bad_division_code() -> None:
    bad = "91" + "AB0100" + REAL_VALID[8:]
    error = check_credit_code(bad).error
    assert error is not None and "行政区划" in error and "AB0100" in error


def test_unknown_province_prefix_is_a_bad_division() -> None:
    body = "MA44XKXK"
    code = make_code("91", "990100", body)
    error = check_credit_code(code).error
    assert error is not None and "行政区划" in error


def test_bad_organisation_code_check_character() -> None:
    body = "MA44XKXK"
    good = make_code("91", "410100", body)
    wrong17 = next(ch for ch in ALPHABET if ch != good[16])
    first17 = good[:16] + wrong17
    bad = first17 + check_character(first17)  # final check fine, org check wrong
    error = check_credit_code(bad).error
    assert error is not None and "组织机构代码" in error


def test_bad_final_check_character_does_not_reveal_it() -> None:
    right = REAL_VALID[17]
    wrong = next(ch for ch in ALPHABET if ch != right)
    error = check_credit_code(REAL_VALID[:17] + wrong).error
    assert error is not None and "未通过校验" in error and "输错" in error
    assert "应为" not in error


def test_org_check_character_rules_10_and_11() -> None:
    # 11 - (sum mod 11) of 10 is written X, of 11 is written 0.
    assert org_check_character("D2143569") == "X"
    assert org_check_character("00000000") == "0"
