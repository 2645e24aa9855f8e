"""Date-aware wording: a deadline before today says it has passed; the engine is told what
day it is (``today``), so the wording is testable and the engine stays a pure function."""

from __future__ import annotations

import datetime as dt

import pytest

from knowledge.engine import Engine

AFTER = dt.date(2026, 12, 1)
BEFORE = dt.date(2021, 6, 10)
PASSED = "已过"


@pytest.mark.parametrize(
    ("question", "date"),
    [
        ("门禁系统什么时候要建完", "2021年10月31日"),  # 二（一）13
        ("燃煤热风炉什么时候必须淘汰", "2021年年底"),  # 二（一）2 (a rule's deadline)
        ("土壤污染重点监管单位自行监测率什么时候达到100%", "2021年年底"),  # 二（三）25
        ("限制类产能装备升级改造工作方案什么时候出台", "2021年6月底"),  # 二（一）4
    ],
)
def test_a_deadline_before_today_says_it_has_passed(
    engine: Engine, question: str, date: str
) -> None:
    late = engine.ask(question, today=AFTER)
    assert late.confident and date in late.text and PASSED in late.text, late.text
    early = engine.ask(question, today=BEFORE)
    assert date in early.text and PASSED not in early.text, early.text


def test_a_start_date_before_today_says_it_applies_now(engine: Engine) -> None:
    question = "黄河流域水污染物排放标准现有排污单位什么时候执行"  # 二（二）23: 自2022年9月1日起
    late = engine.ask(question, today=AFTER)
    assert "2022年9月1日" in late.text and PASSED in late.text
    assert PASSED not in engine.ask(question, today=dt.date(2022, 1, 1)).text


def test_a_deadline_of_today_has_not_passed(engine: Engine) -> None:
    answer = engine.ask("门禁系统什么时候要建完", today=dt.date(2021, 10, 31))
    assert PASSED not in answer.text


def test_without_a_day_the_answer_is_the_plans_text(engine: Engine) -> None:
    assert PASSED not in engine.ask("门禁系统什么时候要建完").text


def test_a_date_that_is_no_deadline_gets_no_note(engine: Engine) -> None:
    # 印发 on 2021-06-02 is a fact about the document, not an obligation
    answer = engine.ask("这个方案什么时候发布的", today=AFTER)
    assert "2021年6月2日" in answer.text and PASSED not in answer.text


def test_the_note_stays_short(engine: Engine) -> None:
    plain = engine.ask("哪些任务年底前要完成", today=BEFORE).text
    noted = engine.ask("哪些任务年底前要完成", today=AFTER).text
    assert len(noted) - len(plain) <= 20
