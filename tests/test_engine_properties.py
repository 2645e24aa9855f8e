"""Property-based tests of the answer engine: whatever is typed — any Unicode, the plan's
own words shuffled, 10,000 characters, a follow-up of anything — it answers without an
exception, with a short text and at most three suggestions (how long it takes on such
input is measured in bench/bench_worst_case.py, not asserted here)."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from knowledge.engine import Engine

WORDS = ["冲天炉", "铸造", "10吨", "淘汰", "哪个处", "负责", "什么时候", "标准", "VOCs",
         "涂料", "第13项", "任务", "那", "呢", "？", "吗", "2021年", "年底前", "石灰窑",
         "不", "没有", "Which", "office", "standard", "蒸吨", "米", "燃煤", "天然气"]
QUESTIONS = st.one_of(
    st.text(max_size=200),
    st.lists(st.sampled_from(WORDS), max_size=30).map("".join),
    st.text(min_size=1, max_size=50).map(lambda piece: (piece * 10_000)[:10_000]),
    st.text(alphabet=st.characters(categories=["Nd", "No", "Cf", "Cc", "So", "Zs"]),
            max_size=300),
)
ANSWER_LIMIT = 4000  # a Telegram message holds 4096


@example(question="0" * 10_000, previous=None, days=0)  # once a second of regex backtracking
@example(question="9" * 9_990 + "吨每小时", previous="1." * 5_000, days=0)
@settings(max_examples=400, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(question=QUESTIONS, previous=st.one_of(st.none(), QUESTIONS),
       days=st.integers(min_value=-2000, max_value=4000))
def test_any_question_gets_a_bounded_answer(
    engine: Engine, question: str, previous: str | None, days: int
) -> None:
    answer = engine.ask(question, today=dt.date(2021, 6, 1) + dt.timedelta(days=days),
                        previous=previous)
    assert answer.text.strip() and len(answer.text) <= ANSWER_LIMIT
    assert len(answer.suggestions) <= 3
    if not answer.in_scope:
        assert not answer.confident, "an out-of-scope question is never answered confidently"
