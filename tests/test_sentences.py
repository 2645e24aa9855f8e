"""A question about one sentence inside a long task gets that sentence, not the task's
opening or a paragraph cut with "……". Expectations are the plan's own sentences."""

from __future__ import annotations

import pytest

from knowledge.engine import Engine


@pytest.mark.parametrize(
    ("question", "sentence_parts", "clause"),
    [
        # 二（三）24: 鼓励土壤污染重点监管单位因地制宜实施管道化、密闭化改造，重点区域防腐防渗改造…
        ("土壤污染重点监管单位要做哪些改造", ("管道化", "密闭化", "防腐防渗"), "二（三）24"),
        # 二（三）25: …全部完成1次土壤和地下水污染隐患排查，对存在问题制定整改方案并实施整改整治。
        ("重点监管单位隐患排查发现问题后怎么办", ("整改方案",), "二（三）25"),
        # 二（二）23: 指导、帮扶现有排污单位提前谋划、改造升级水污染防治设施
        ("现有排污单位要做哪些准备", ("提前谋划", "改造升级"), "二（二）23"),
        # 二（一）16: 全面提升铝工业、铸造、铁合金、石灰窑、耐火材料制品、有色金属冶炼及压延等
        # 工业窑炉的治污设施处理能力
        ("哪些行业的工业窑炉要提升治污设施处理能力", ("铁合金", "石灰窑", "治污设施处理能力"),
         "二（一）16"),
    ],
)
def test_the_sentence_that_answers_is_given(
    engine: Engine, question: str, sentence_parts: tuple[str, ...], clause: str
) -> None:
    answer = engine.ask(question)
    assert answer.confident, answer.text
    for part in sentence_parts:
        assert part in answer.text, (part, answer.text)
    assert "……" not in answer.text
    assert answer.sources[0].startswith(clause)


def test_a_work_requirement_sentence(engine: Engine) -> None:
    # 三（一）: 相关处（室）对负责的任务细化、量化，严格按照时间节点要求制定工作方案…
    answer = engine.ask("相关处室对负责的任务要怎么做")
    assert answer.confident and "细化" in answer.text and "量化" in answer.text


def test_no_answer_is_a_paragraph_cut_short(engine: Engine) -> None:
    """Whatever the question, a task's text is never shown cut off with "……"."""
    questions = [f"{task.title}有什么要求" for task in engine.kb.tasks]
    questions += [f"第{task.number}项任务讲的什么" for task in engine.kb.tasks]
    cut = [q for q in questions if "……" in engine.ask(q).text]
    assert not cut
