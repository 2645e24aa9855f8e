"""Definitions of the plan's terms (with their source) and English questions, both through
the knowledge base's glossary. Expectations are the plan's own words."""

from __future__ import annotations

import re

import pytest

from knowledge.engine import Engine


@pytest.mark.parametrize(
    ("question", "meaning"),
    [
        ("VOCs是什么意思", ("挥发性有机物",)),
        ("voc指的是什么", ("挥发性有机物",)),
        ("国六是啥", ("第六阶段", "重型柴油车")),
        ("超低排放是什么意思", ("有组织废气", "无组织废气")),
        ("什么是绩效分级", ("A、B级", "C、D级")),
        ("三线一单指什么", ("生态保护红线", "环境质量底线", "资源利用上线", "生态环境准入清单")),
        ("能耗双控是什么", ("能源消耗总量和强度",)),
    ],
)
def test_a_term_is_defined_with_its_source(
    engine: Engine, question: str, meaning: tuple[str, ...]
) -> None:
    answer = engine.ask(question)
    assert answer.confident, answer.text
    for part in meaning:
        assert part in answer.text, (part, answer.text)
    assert answer.sources and "依据" in answer.text


def test_a_definition_is_not_a_whole_task(engine: Engine) -> None:
    answer = engine.ask("VOCs是什么意思")
    assert "……" not in answer.text
    assert len(answer.text) < 200


def test_a_term_the_plan_does_not_explain_is_not_invented(engine: Engine) -> None:
    assert not engine.ask("碳中和是什么意思").confident


def _chinese(text: str) -> bool:
    return bool(re.search(r"[\u4e00-\u9fff]{4}", text))


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Which office is responsible for eliminating backward production capacity?",
         ("产业政策处",)),
        ("What VOC standard applies to vehicle coatings?", ("GB 24409-2020",)),
        ("When must coal-fired drying furnaces be banned?", ("2021年年底前", "取缔")),
        ("Can we expand our electrolytic aluminium capacity?", ("电解铝", "禁止")),
        ("How many non-road mobile machines must have their information collected?",
         ("20万台",)),
        ("From what date do new dischargers apply the Yellow River Basin standard?",
         ("2021年3月1日", "DB41/2087")),
        ("What does VOCs mean?", ("挥发性有机物",)),
    ],
)
def test_english_questions_are_answered_in_chinese(
    engine: Engine, question: str, expected: tuple[str, ...]
) -> None:
    answer = engine.ask(question)
    assert answer.confident, answer.text
    assert _chinese(answer.text)
    for item in expected:
        assert item in answer.text, (item, answer.text)


@pytest.mark.parametrize(
    "question", ["What will the weather be like tomorrow?", "How do I apply for a visa?"]
)
def test_english_questions_outside_the_plan_are_refused(engine: Engine, question: str) -> None:
    answer = engine.ask(question)
    assert not answer.confident and not answer.in_scope


def test_a_cupola_in_english_goes_to_the_rule(engine: Engine) -> None:
    answer = engine.ask("Is a 15 t/h cupola furnace in a foundry covered by the phase-out?")
    assert answer.confident and answer.text.startswith("不属于"), answer.text


def test_candidates_for_an_english_question_are_ranked_on_its_translation(
    engine: Engine,
) -> None:
    question = "How many non-road mobile machines must have their information collected?"
    candidates = engine.candidates(question)
    assert candidates and "20万台" in candidates[0].answer, [c.id for c in candidates]
