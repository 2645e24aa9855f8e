"""The /start buttons ask questions the shipped plan answers with confidence."""

from __future__ import annotations

import pytest

from handlers.core.menus import COMMON_QUESTIONS
from knowledge.engine import Engine


@pytest.mark.parametrize("question", COMMON_QUESTIONS)
def test_common_question_is_answered_by_the_shipped_plan(question: str, engine: Engine) -> None:
    answer = engine.ask(question)
    assert answer.in_scope and answer.confident, (question, answer.text[:80])
    assert answer.sources
