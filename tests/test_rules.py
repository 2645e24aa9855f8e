"""The plan's equipment rules at, below and above each threshold, and by fuel and industry."""

from pathlib import Path

import pytest

from knowledge.engine import Engine, load_engine

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


# -- another plan: gas-fired rules and sizes in 蒸吨/小时, all read from its YAML --------

BOILER_KB = Path(__file__).parent / "data" / "boiler-kb.yaml"


@pytest.fixture(scope="module")
def boilers() -> Engine:
    return load_engine(BOILER_KB)


@pytest.mark.parametrize(
    ("question", "lead", "wording"),
    [
        ("20蒸吨的燃煤锅炉要淘汰吗", "需要淘汰", "35蒸吨/小时以下"),
        ("二十蒸吨每小时的燃煤锅炉还能用吗", "需要淘汰", "35蒸吨/小时以下"),
        ("40蒸吨/小时的燃煤锅炉要淘汰吗", "不属于", "35蒸吨/小时以下"),
        ("35蒸吨燃煤锅炉要淘汰吗", "不属于", "35蒸吨/小时以下"),  # "以下" read strictly
        ("15蒸吨燃气锅炉要低氮改造吗", "需要低氮改造", "10蒸吨/小时及以上"),
        ("10吨的燃气锅炉要不要改造", "需要低氮改造", "10蒸吨/小时及以上"),  # 吨: a spelling
        ("6蒸吨的燃气锅炉要低氮改造吗", "不属于", "10蒸吨/小时及以上"),  # below "及以上"
    ],
)
def test_sizes_in_the_plans_own_unit(
    boilers: Engine, question: str, lead: str, wording: str
) -> None:
    answer = boilers.ask(question)
    assert answer.confident, answer.text
    assert answer.text.startswith(lead), answer.text
    assert wording in answer.text


def test_a_gas_fired_rule_reads_its_own_fuel(boilers: Engine) -> None:
    coal = boilers.ask("燃煤锅炉要低氮改造吗")
    assert "不以天然气为燃料的" in coal.text, coal.text
    assert "不以煤" not in coal.text
    gas = boilers.ask("燃气锅炉要淘汰吗")
    assert gas.text.startswith("不属于淘汰"), gas.text
    assert "不以煤炭为燃料的" in gas.text


def test_a_fuel_no_rule_names_is_outside_every_rule(boilers: Engine) -> None:
    answer = boilers.ask("生物质锅炉要淘汰吗")
    assert answer.confident and answer.text.startswith("不属于"), answer.text


def test_equipment_heads_come_from_the_yaml(boilers: Engine) -> None:
    answer = boilers.ask("茶浴炉要淘汰吗")
    assert answer.confident and "茶浴炉" in answer.text and "未列入" in answer.text
