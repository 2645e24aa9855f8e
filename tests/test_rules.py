"""The plan's equipment rules at, below and above each threshold, and by fuel and industry."""

import pytest

from knowledge.engine import Engine

NEG = ("不属于", "不在")


def _says(answer_text: str, *parts: str) -> bool:
    return all(p in answer_text for p in parts)


@pytest.mark.parametrize(
    ("question", "under"),
    [
        ("铸造企业8吨每小时的冲天炉要淘汰吗", True),  # below
        ("铸造厂十吨每小时的冲天炉", True),  # at: "10吨/小时及以下" includes 10
        ("铸造用的10t/h冲天炉", True),
        ("铸造企业12吨/小时的冲天炉要淘汰吗", False),  # above
        ("铸造用的15吨/小时冲天炉在淘汰范围内吗", False),
    ],
)
def test_casting_cupola_threshold(engine: Engine, question: str, under: bool) -> None:
    answer = engine.ask(question)
    assert answer.confident
    assert "10吨/小时" in answer.text and "冲天炉" in answer.text
    if under:
        assert "需要淘汰" in answer.text and not answer.text.startswith(NEG)
    else:
        assert answer.text.startswith("不属于"), answer.text
    assert "二（一）2" in answer.sources[0]


def test_rock_wool_cupola_has_no_size_limit(engine: Engine) -> None:
    answer = engine.ask("岩棉行业20吨每小时的冲天炉要淘汰吗")
    assert answer.confident and "需要淘汰" in answer.text and "岩棉" in answer.text


@pytest.mark.parametrize(
    ("question", "under"),
    [
        ("炉膛直径2.5米的煤气发生炉还能继续用吗", True),  # below
        ("炉膛直径两米五的煤气发生炉", True),  # spoken form
        ("炉膛直径2500mm的煤气发生炉", True),
        ("炉膛直径3.5米的煤气发生炉要淘汰吗", False),  # above
    ],
)
def test_gas_producer_diameter_threshold(engine: Engine, question: str, under: bool) -> None:
    answer = engine.ask(question)
    assert answer.confident and "3米" in answer.text
    assert ("需要淘汰" in answer.text) is under
    assert answer.text.startswith("不属于") is (not under)


def test_gas_producer_at_threshold_is_not_claimed_and_says_why(engine: Engine) -> None:
    answer = engine.ask("炉膛直径3米的煤气发生炉要淘汰吗")
    assert answer.text.startswith("不属于") and "未作说明" in answer.text


def test_intermittent_fixed_bed_producer_is_eliminated_at_any_size(engine: Engine) -> None:
    answer = engine.ask("炉膛直径3.6米的间歇式固定床煤气发生炉")
    assert "需要淘汰" in answer.text and "间歇式固定床" in answer.text


@pytest.mark.parametrize("furnace", ["加热炉", "热处理炉", "干燥炉"])
def test_coal_fired_furnaces_are_banned_but_gas_fired_are_not(engine: Engine, furnace: str) -> None:
    coal = engine.ask(f"用煤做燃料的{furnace}可以保留吗")
    assert coal.confident and "取缔" in coal.text and coal.text.startswith("需要")
    gas = engine.ask(f"天然气{furnace}要取缔吗")
    assert gas.confident and gas.text.startswith("不属于"), gas.text


def test_coal_hot_air_furnace(engine: Engine) -> None:
    answer = engine.ask("燃煤热风炉什么时候必须淘汰？")
    assert _says(answer.text, "燃煤热风炉", "2021年年底") and answer.confident
    assert engine.ask("燃气热风炉要淘汰吗").text.startswith("不属于")


def test_typo_reaches_the_rule(engine: Engine) -> None:
    answer = engine.ask("冲天护要淘汰吗")
    assert answer.confident and _says(answer.text, "冲天炉", "淘汰")


def test_a_size_above_the_threshold_in_words(engine: Engine) -> None:
    answer = engine.ask("铸造厂10吨以上的冲天炉还能用吗")
    assert answer.text.startswith("不属于") and "超过10吨/小时" in answer.text
