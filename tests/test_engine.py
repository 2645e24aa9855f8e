"""The answer engine: short cited answers, honest fallbacks, the JSON contract, a score floor."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from knowledge.engine import Engine
from tests.command_line import lvdong

EVAL = Path(__file__).parent / "data" / "eval"  # copies of the shared set: see SOURCE.md
DATA = Path(__file__).parent / "data"
DEV_FLOOR = 0.95
TODAY = dt.date(2026, 12, 1)  # the day the blind sets E and F take as today


def test_answer_leads_with_the_fact_and_cites_its_clause(engine: Engine) -> None:
    answer = engine.ask("木器涂料的VOCs含量执行什么标准")
    assert answer.confident
    assert "GB 18581-2020" in answer.text.split("\n")[0]
    assert "\n依据：二（一）17" in answer.text
    assert answer.sources and answer.sources[0].startswith("二（一）17")


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("胶水的挥发性有机物标准", "GB 33372-2020"),  # alias 胶水 → 胶粘剂
        ("汽车漆用哪个国标", "GB 24409-2020"),  # alias 车漆 → 车辆涂料
        ("GB 38508-2020管什么", "清洗剂"),  # reverse look-up: standard → what it covers
        ("产业政策处负责哪些工作", "落后产能"),  # reverse look-up: office → its tasks
        ("散乱污企业整治谁负责", "产业政策处"),
        ("錯峰生產涉及哪些行業", "钢铁"),  # traditional characters
    ],
)
def test_aliases_reverse_lookups_and_scripts(engine: Engine, question: str, expected: str) -> None:
    answer = engine.ask(question)
    assert answer.confident, answer.text
    assert expected in answer.text


@pytest.mark.parametrize(
    "question", ["今天天气怎么样", "帮我订一张去北京的火车票", "个人所得税怎么申报"]
)
def test_out_of_scope_is_refused_with_hints(engine: Engine, question: str) -> None:
    answer = engine.ask(question)
    assert not answer.confident and not answer.in_scope
    assert "不在" in answer.text and answer.suggestions


@pytest.mark.parametrize(
    "question",
    ["", "   ", "😀😀😀", "\x00\x01\x1b[31m", "<b>x</b> & * _", "'; DROP TABLE reports; --",
     "冲天炉" * 3400, "a" * 10_000],
)
def test_bad_input_gets_a_sensible_reply(engine: Engine, question: str) -> None:
    answer = engine.ask(question)
    assert answer.text.strip()
    assert len(answer.text) < 1000
    assert len(answer.suggestions) <= 3


def test_unsure_offers_at_most_three_suggestions(engine: Engine) -> None:
    answer = engine.ask("铸造")
    assert not answer.confident
    assert 1 <= len(answer.suggestions) <= 3
    for suggestion in answer.suggestions:
        assert engine.ask(suggestion).confident, suggestion


def test_answers_are_short(engine: Engine) -> None:
    questions = ["淘汰落后产能归哪个处管", "门禁系统什么时候建完", "新建项目绩效分级要达到什么级别",
                 "焦化企业重组整合涉及哪些企业", "土壤污染重点监管单位自行监测率要达到多少"]
    lengths = sorted(len(engine.ask(q).text) for q in questions)
    assert lengths[len(lengths) // 2] < 200


def test_json_contract_one_line_per_question_in_order() -> None:
    questions = ["燃煤热风炉什么时候必须淘汰", "今天天气怎么样", "", "胶粘剂标准"]
    proc = lvdong("ask", "--json", "-", stdin="\n".join(questions) + "\n")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == len(questions)
    replies = [json.loads(line) for line in lines]
    for reply in replies:
        assert set(reply) >= {"answer", "confident", "sources", "suggestions"}
        assert isinstance(reply["sources"], list) and isinstance(reply["suggestions"], list)
    assert replies[0]["confident"] and "燃煤热风炉" in replies[0]["answer"]
    assert not replies[1]["confident"]
    assert "GB 33372-2020" in replies[3]["answer"]


def test_ask_reads_stdin_as_one_conversation_on_a_given_day() -> None:
    questions = ["门禁系统什么时候要建完", "哪个处负责？"]
    proc = lvdong("ask", "--json", "--today", "2026-12-01", "-",
                  stdin="\n".join(questions) + "\n")
    assert proc.returncode == 0, proc.stderr
    first, second = (json.loads(line) for line in proc.stdout.splitlines())
    assert "2021年10月31日" in first["answer"] and "已过" in first["answer"]
    assert second["confident"] and "节能与综合利用处" in second["answer"]


def _scorer() -> Any:
    spec = importlib.util.spec_from_file_location("score", EVAL / "score.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _misses(engine: Engine, path: Path) -> tuple[list[str], int]:
    """Cases of a question set the engine gets wrong, judged by the official scorer.

    The set is asked as one conversation, in order, as ``lvdong ask --json -`` does: a
    follow-up case (``after: <id>``) comes right after the case it follows."""
    score = _scorer()
    cases = yaml.safe_load(path.read_text(encoding="utf-8"))
    misses = []
    previous: str | None = None
    for index, case in enumerate(cases):
        if "after" in case:
            assert index and cases[index - 1]["id"] == case["after"], case["id"]
        answer = engine.ask(case["q"], today=TODAY, previous=previous)
        previous = answer.understood
        why = score.judge(case, answer.to_json())
        if why is not None:
            misses.append(f"{case['id']} {case['q']}: {why}")
    return misses, len(cases)


def test_dev_set_accuracy_floor(engine: Engine) -> None:
    """A regression on the development set fails the build."""
    misses, total = _misses(engine, EVAL / "dev_questions.yaml")
    assert 1 - len(misses) / total >= DEV_FLOOR, "\n".join(misses)
    assert not any("should have said it does not know" in m for m in misses)


@pytest.mark.parametrize(
    ("name", "floor"),
    [
        ("paraphrase_questions.yaml", 0.96),
        ("questions_enterprise.yaml", 0.95),
        ("questions_heldout_style.yaml", 0.95),
        ("questions_adversarial.yaml", 0.85),
        ("questions_final_blind.yaml", 0.95),
        ("questions_blind_e.yaml", 0.97),  # first score 67.4%, before issue 10
        ("questions_blind_f.yaml", 0.92),  # first score 93.8%, after issue 10's work
        ("questions_blind_g.yaml", 0.92),  # first score 56.0%, before issue 19
        ("questions_blind_i.yaml", 0.78),  # first score 59.3%, before issue 19
        ("questions_blind_j.yaml", 0.92),  # first score 87.5%, before issue 18's engine work
        ("questions_blind_k.yaml", 0.86),  # first score 84.0%, after the J round, never seen
    ],
)
def test_own_question_sets_hold_their_floor(engine: Engine, name: str, floor: float) -> None:
    """lvdong's own sets, written apart from the dev set, guard against tuning to it."""
    misses, total = _misses(engine, DATA / name)
    assert 1 - len(misses) / total >= floor, "\n".join(misses)


def test_what_the_plan_leaves_open_is_explained_but_not_claimed(engine: Engine) -> None:
    answer = engine.ask("燃煤锅炉要淘汰吗")  # the plan has no boiler rule
    assert not answer.confident and answer.in_scope
    assert "未" in answer.text and answer.suggestions
    for suggestion in answer.suggestions:
        assert engine.ask(suggestion).confident, suggestion


@pytest.mark.parametrize(
    ("question", "named"),
    [
        # a trade the plan lists elsewhere (高耗水), asked about the new-capacity ban
        ("我们想新建一个食品加工厂，在禁止新建的高耗能行业名单里吗", "食品"),
        ("普通服装加工厂拆旧设备需要做土壤污染防治方案备案吗", "服装"),  # an unknown trade
    ],
)
def test_a_trade_outside_a_closed_list_is_told_so(
    engine: Engine, question: str, named: str
) -> None:
    answer = engine.ask(question)
    assert answer.confident
    assert f"{named}不在所列范围内" in answer.text, answer.text


def test_a_listed_trade_is_confirmed(engine: Engine) -> None:
    answer = engine.ask("电镀企业拆除设备需要备案吗")
    assert "电镀属于所列范围" in answer.text and "备案" in answer.text


def test_equipment_no_rule_names_is_not_under_elimination(engine: Engine) -> None:
    answer = engine.ask("铸造用中频感应电炉要淘汰吗")
    assert answer.confident
    assert "中频感应电炉不在" in answer.text and "冲天炉" in answer.text


def test_another_provinces_rules_are_out_of_scope(engine: Engine) -> None:
    answer = engine.ask("江苏省工业涂装VOCs排放标准是多少")
    assert not answer.confident and not answer.in_scope
    # the plan's own mention of Beijing (its basis) is still answered
    assert engine.ask("方案和北京冬奥会有什么关系").confident


def test_a_known_word_is_not_repaired_into_a_neighbour(engine: Engine) -> None:
    # 高耗能 is a word of the plan; it must not be "corrected" to 高耗水
    assert "高耗水" not in engine.vocabulary.expand("高耗能行业")


def test_what_the_user_rules_out_is_not_the_subject(engine: Engine) -> None:
    # "没有冲天炉": the unit asked about is the induction furnace, not a cupola
    answer = engine.ask("我们铸造厂熔炼用的是中频感应电炉，没有冲天炉，这个也要淘汰吗")
    assert answer.confident and "中频感应电炉不在" in answer.text
    # "不是间歇式固定床": only the diameter rule applies, and 3.5 m is above it
    answer = engine.ask("厂里有台煤气发生炉，连续式的，不是间歇式固定床，炉膛直径三米五，要淘汰吗")
    assert answer.text.startswith("不属于") and "3米" in answer.text


def test_a_place_outside_a_list_of_cities_is_told_so(engine: Engine) -> None:
    answer = engine.ask("周口有没有列入铸造专业产业园建设的城市？")
    assert "周口不在所列范围内" in answer.text and "新乡" in answer.text


def test_the_plans_own_sentence_finds_its_fact(engine: Engine) -> None:
    answer = engine.ask("哪个市探索建立土壤重点监管单位规范化管理机制")
    assert answer.confident and "平顶山" in answer.text


def test_a_standard_the_plan_does_not_name_is_not_invented(engine: Engine) -> None:
    answer = engine.ask("油墨VOCs含量限值的国标号是多少")
    assert not answer.confident and "没有油墨" in answer.text


def test_every_sample_question_is_answered(engine: Engine) -> None:
    """Sample questions are what suggestion buttons send: each must get a confident answer."""
    unanswered = [
        q
        for fact in engine.kb.facts
        if fact.covered
        for q in fact.questions
        if not engine.ask(q).confident
    ]
    assert not unanswered


@pytest.mark.parametrize(
    ("question", "verdict"),
    [
        ("新建陶瓷厂在禁止之列吗", "陶瓷不在所列范围内"),
        ("新建化工项目禁止吗", "化工不在所列范围内"),  # only 传统煤化工 is barred
        ("扩建水泥产能可以吗", "水泥属于所列范围"),
    ],
)
def test_new_capacity_ban_by_industry(engine: Engine, question: str, verdict: str) -> None:
    answer = engine.ask(question)
    assert answer.confident and verdict in answer.text and "禁止新建" in answer.text


def test_a_derived_office_fact_does_not_answer_a_yes_no_question(engine: Engine) -> None:
    answer = engine.ask("新建陶瓷厂在禁止之列吗")
    assert "由材料工业处、装备工业处负责。" not in answer.text.split("\n")[0]


def test_one_short_word_in_common_is_not_enough(engine: Engine) -> None:
    # 食品 is an industry the plan names, but the question is about a licence it never mentions
    assert not engine.ask("食品经营许可证在哪里办").confident


def test_another_documents_name_is_not_this_document(engine: Engine) -> None:
    answer = engine.ask("公共领域车辆电动化行动方案由谁出台")
    assert "装备工业处" in answer.text and "厅长办公会议" not in answer.text


def test_a_trade_outside_a_list_is_shown_the_list(engine: Engine) -> None:
    answer = engine.ask("我们是造纸厂，拆除旧生产线需要报备土壤污染防治工作方案吗")
    assert "造纸不在所列范围内" in answer.text and "电镀" in answer.text


def test_a_project_names_its_trade(engine: Engine) -> None:
    answer = engine.ask("新建锂电池正极材料项目在禁止新增产能的名单里吗")
    assert "不在所列范围内" in answer.text


def test_a_word_inside_another_word_is_no_topic(engine: Engine) -> None:
    # "出的" (方案是谁出的) is not in "指出的" or "列出的"
    for question in ("文件指出的重点行业有哪些", "方案列出的标准有几个"):
        assert "厅长办公会议" not in engine.ask(question).text, question
