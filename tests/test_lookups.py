"""Structured questions answered from the knowledge base's structure: a task by its
number, tasks by area, date or industry, lists of standards and equipment.

Every expectation is the plan's own text (豫工信节〔2021〕75号).
"""

from __future__ import annotations

import pytest

from knowledge.engine import Engine


@pytest.mark.parametrize(
    ("question", "office", "clause"),
    [
        ("第13项任务由谁负责？", "节能与综合利用处", "二（一）13"),
        ("任务2由哪个处负责", "产业政策处", "二（一）2"),
        ("第二十六项归哪个处管", "材料工业处、消费品工业处", "二（三）26"),
        ("第 9 项任务找哪个处", "煤炭发展指导处", "二（一）9"),
        ("22号任务的责任处室", "节能与综合利用处", "二（二）22"),
    ],
)
def test_a_task_by_number_names_its_office(
    engine: Engine, question: str, office: str, clause: str
) -> None:
    answer = engine.ask(question)
    assert answer.confident and answer.in_scope, answer.text
    assert office in answer.text.split("\n")[0]
    assert answer.sources[0].startswith(clause)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("第十三项", "强化在用车排放监管"),
        ("第十三项是什么", "强化在用车排放监管"),
        ("二（一）16讲的什么", "工业炉窑"),
        ("二(三)24是什么内容", "绿色化改造"),
        ("任务十七是关于什么的", "源头替代"),
    ],
)
def test_a_task_by_number_says_what_it_is(engine: Engine, question: str, expected: str) -> None:
    answer = engine.ask(question)
    assert answer.confident, answer.text
    assert expected in answer.text


def test_a_task_by_number_and_a_kind_of_answer(engine: Engine) -> None:
    when = engine.ask("第2项任务的时间要求")
    assert when.confident and "2021年10月底前" in when.text and "2021年年底前" in when.text
    target = engine.ask("任务12的目标是多少")
    assert target.confident and "20万台" in target.text
    industries = engine.ask("第22项任务涉及哪些行业")
    assert industries.confident
    assert all(i in industries.text for i in ("钢铁", "纺织", "造纸", "发酵"))


def test_a_sentence_inside_a_numbered_task(engine: Engine) -> None:
    answer = engine.ask("第12项任务里矿山要做什么")
    assert answer.confident and "专项整治" in answer.text and "矿山" in answer.text


def test_a_task_number_the_plan_does_not_have(engine: Engine) -> None:
    answer = engine.ask("第30项任务由谁负责")
    assert not answer.confident and answer.in_scope
    assert "26项" in answer.text


@pytest.mark.parametrize("question", ["三（二）讲的什么", "工作要求第二条是什么"])
def test_a_work_requirement_by_number(engine: Engine, question: str) -> None:
    # 三（二）加大政策支持：统筹使用好先进制造业发展专项资金和基金……
    answer = engine.ask(question)
    assert answer.confident and "加大政策支持" in answer.text, answer.text
    assert "专项资金" in answer.text


def test_an_appendix_item_by_number(engine: Engine) -> None:
    answer = engine.ask("附件重点任务分工第2项是什么")
    assert answer.confident
    assert "淘汰落后产能工作方案" in answer.text and "产业政策处" in answer.text


@pytest.mark.parametrize(
    ("question", "titles", "count"),
    [
        ("土壤污染防治有哪些任务", ("推动实施绿色化改造", "强化重点监管单位监管",
                                    "严格企业拆除活动备案管理"), "3项"),
        ("水污染防治方面一共几项任务", ("加强工业节水",), "2项"),
        ("大气污染防治部分的任务有多少项", ("推进重点污染企业退城搬迁",), "21项"),
    ],
)
def test_tasks_by_area(engine: Engine, question: str, titles: tuple[str, ...], count: str) -> None:
    answer = engine.ask(question)
    assert answer.confident, answer.text
    assert count in answer.text
    for title in titles:
        assert title in answer.text


def test_each_listed_task_carries_its_clause(engine: Engine) -> None:
    answer = engine.ask("土壤污染防治有哪些任务")
    for clause in ("二（三）24", "二（三）25", "二（三）26"):
        assert clause in answer.text


@pytest.mark.parametrize(
    ("question", "due", "not_due"),
    [
        # the plan's year-end deadlines: tasks 1, 2, 12, 14 and 25
        ("哪些任务年底前要完成", ("退城入园", "燃煤热风炉", "20万台", "D级", "自行监测率"),
         ("门禁系统",)),
        ("2021年10月底前要完成什么", ("项目验收", "门禁系统"), ("D级",)),
        ("6月底前要完成哪些任务", ("限制类产能装备升级改造",), ("门禁系统",)),
        ("2022年有哪些要求开始执行", ("现有排污单位", "2022年9月1日"), ("门禁系统",)),
    ],
)
def test_tasks_by_deadline(
    engine: Engine, question: str, due: tuple[str, ...], not_due: tuple[str, ...]
) -> None:
    answer = engine.ask(question)
    assert answer.confident, answer.text
    for item in due:
        assert item in answer.text, (item, answer.text)
    for item in not_due:
        assert item not in answer.text, (item, answer.text)


def test_tasks_concerning_an_industry(engine: Engine) -> None:
    answer = engine.ask("铸造行业涉及哪些任务")
    assert answer.confident
    for title in ("加快落后产能淘汰", "严格环境准入", "深化工业炉窑大气污染综合治理"):
        assert title in answer.text


def test_a_generic_product_lists_every_standard_for_it(engine: Engine) -> None:
    answer = engine.ask("涂料要用什么标准")
    assert answer.confident
    for number in ("GB 18581-2020", "GB 24409-2020", "GB 30981-2020", "GB/T 38597-2020"):
        assert number in answer.text
    assert "GB 33372-2020" not in answer.text  # adhesives are not coatings


def test_a_specific_product_gets_its_one_standard(engine: Engine) -> None:
    answer = engine.ask("工业防护涂料要用什么标准")
    assert answer.confident and "GB 30981-2020" in answer.text
    assert "GB 18581-2020" not in answer.text


@pytest.mark.parametrize("question", ["今年要淘汰哪些炉子？", "哪些炉子必须在年底前淘汰？"])
def test_which_furnaces_lists_the_rules_without_garbling(engine: Engine, question: str) -> None:
    answer = engine.ask(question)
    assert answer.confident
    for equipment in ("燃煤热风炉", "煤气发生炉", "热处理炉", "冲天炉"):
        assert equipment in answer.text
    assert "未列入" not in answer.text and "不在方案列出" not in answer.text


def test_an_office_question_about_a_topic_names_the_office(engine: Engine) -> None:
    answer = engine.ask("门禁系统由哪个处负责")
    assert "节能与综合利用处" in answer.text.split("\n")[0]
    assert "2021年10月31日" not in answer.text.split("\n")[0]


def test_what_an_office_is_responsible_for(engine: Engine) -> None:
    answer = engine.ask("装备工业处负责哪些任务")
    assert answer.confident
    for title in ("推广使用新能源汽车", "强化非道路移动机械管控"):
        assert title in answer.text
