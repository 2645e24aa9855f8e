"""Normalisation: what people type on phones becomes one canonical form."""

import pytest

from knowledge.normalize import arabic_numerals, chinese_to_number, clean, fold_units, normalize
from knowledge.vocabulary import Vocabulary, sounds_alike


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("１０ｔ／ｈ", "10吨/小时"),  # full-width
        ("10T/H", "10吨/小时"),
        ("10t/h", "10吨/小时"),
        ("十吨每小时", "10吨/小时"),
        ("8吨每小时", "8吨/小时"),
        ("十二吨/时", "12吨/小时"),
        ("两米五", "2.5米"),
        ("二点五米", "2.5米"),
        ("2.5m", "2.5米"),
        ("2500mm", "2.5米"),
        ("250厘米", "2.5米"),
        ("三米以下", "3米以下"),
        ("二十万台", "20万台"),
        ("百分之二十", "20%"),
        ("七月一日", "7月1日"),
        ("錯峰生產涉及哪些行業", "错峰生产涉及哪些行业"),  # traditional
        ("GB 18581-2020", "gb18581-2020"),
    ],
)
def test_normalize_folds_forms(typed: str, expected: str) -> None:
    assert normalize(typed) == expected


@pytest.mark.parametrize("word", ["一律", "统一", "一园一策", "一水多用", "十四五"])
def test_numerals_without_a_unit_are_left_alone(word: str) -> None:
    assert arabic_numerals(word) == word


@pytest.mark.parametrize(
    ("numeral", "value"),
    [("十", 10), ("十五", 15), ("二十", 20), ("一百二十", 120), ("二点五", 2.5), ("两", 2),
     ("二〇二一", 2021)],
)
def test_chinese_to_number(numeral: str, value: float) -> None:
    assert chinese_to_number(numeral) == value


def test_chinese_to_number_rejects_words() -> None:
    assert chinese_to_number("冲天炉") is None
    assert chinese_to_number("") is None


def test_clean_drops_controls_emoji_and_spaces() -> None:
    assert clean("冲天炉\x00\x07 😀 要 淘汰吗\u200b") == "冲天炉要淘汰吗"


def test_fold_units_only_touches_quantities() -> None:
    assert fold_units("gb/t38597-2020") == "gb/t38597-2020"
    assert fold_units("3m") == "3米"


def test_sounds_alike() -> None:
    assert sounds_alike("护", "炉")  # hu / lu
    assert sounds_alike("声", "生")
    assert not sounds_alike("水", "炉")


def test_vocabulary_repairs_typos_and_maps_aliases() -> None:
    vocab = Vocabulary(["冲天炉", "煤气发生炉", "错峰生产"], {"胶水": "胶粘剂", "化铁炉": "冲天炉"})
    assert "冲天炉" in vocab.expand("冲天护要淘汰吗")
    assert "煤气发生炉" in vocab.expand("煤气发声炉")
    assert "胶粘剂" in vocab.expand("胶水用什么标准")
    assert "冲天炉" in vocab.expand("化铁护")  # typo of an alias, then the alias
    assert vocab.expand("今天天气怎么样") == "今天天气怎么样"


def test_any_kind_of_kiln_is_a_kiln() -> None:
    vocab = Vocabulary(["炉窑", "冲天炉"], {})
    assert "炉窑" in vocab.expand("隧道窑有什么要求")
    assert "炉窑" not in vocab.expand("冲天炉有什么要求")


def test_short_terms_need_a_sound_alike_substitution() -> None:
    vocab = Vocabulary(["方案是谁", "非道路移动机械"], {})
    assert "方案是谁" not in vocab.expand("行动方案由谁出台")
    assert "非道路移动机械" in vocab.expand("非道路移动机戒要装什么")


def test_everyday_words_are_not_repaired_into_kb_terms() -> None:
    vocab = Vocabulary(["工业漆", "冲天炉"], {})
    assert "工业漆" not in vocab.expand("工业企业厂界噪声标准")  # 企业 is a word, not a typo
    assert "冲天炉" in vocab.expand("冲天护")


def test_what_a_question_sets_aside_is_dropped() -> None:
    from knowledge.normalize import drop_negated

    assert (drop_negated("黄河流域涉水企业除了执行新标准,方案还要探索什么")
            == "黄河流域涉水企业方案还要探索什么")
    assert drop_negated("除了冲天炉以外还有哪些炉子要淘汰") == "还有哪些炉子要淘汰"
