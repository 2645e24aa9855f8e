"""Follow-ups: a short question that names only a new subject (那…呢, 还有…吗) or only a
new kind of answer (哪个处负责？) builds on the previous question of the same chat, for
a bounded time, and the answer says what it understood. Expectations from the plan's text."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from handlers.core.answer_cache import FOLLOW_UP_SECONDS, AnswerCache
from handlers.public.answering import render_text
from knowledge.engine import Engine
from knowledge.model import Answer
from tests.bot_harness import running_bot


def converse(engine: Engine, *questions: str) -> list[Answer]:
    """Ask ``questions`` one after another, as one chat would."""
    answers: list[Answer] = []
    for question in questions:
        previous = answers[-1].understood if answers else None
        answers.append(engine.ask(question, previous=previous))
    return answers


@pytest.mark.parametrize(
    ("first", "then", "expected", "subject"),
    [
        # 二（一）16: 玻璃、陶瓷…力争50%以上；铝工业、铁合金、铸造、石灰行业力争30%以上
        ("陶瓷企业的工业炉窑要多少比例达到B级", "那铁合金呢", ("30%", "B级"), "铁合金"),
        # 二（一）17: 胶粘剂 GB 33372-2020, 清洗剂 GB 38508-2020
        ("胶粘剂执行什么VOCs标准", "那清洗剂呢？", ("GB 38508-2020",), "清洗剂"),
        # 二（一）20: 钢铁、焦化、水泥、耐材、陶瓷等生产工序不可中断的行业
        ("化工企业错峰生产怎么搞", "还有水泥行业呢", ("不可中断",), "水泥行业"),
        # 二（二）23: 新建排污单位自2021年3月1日起执行，现有排污单位自2022年9月1日起执行
        ("新建排污单位什么时候执行黄河流域标准", "那现有的呢", ("2022年9月1日",), "现有"),
        # 二（一）18: 家具制造…以小企业为主的集群重点推动源头替代；汽修、人造板等…优化整合
        ("制鞋企业集群重点推动什么", "那人造板集群呢", ("优化整合",), "人造板集群"),
    ],
)
def test_a_new_subject_inherits_the_question(
    engine: Engine, first: str, then: str, expected: tuple[str, ...], subject: str
) -> None:
    _, answer = converse(engine, first, then)
    assert answer.confident, answer.text
    assert answer.follow_up
    for item in expected:
        assert item in answer.text, (item, answer.text)
    assert answer.text.startswith(f"{subject}："), answer.text


@pytest.mark.parametrize(
    ("first", "then", "verdict"),
    [
        # 二（一）7: 原则上禁止新建、扩建单纯新增产能的钢铁、电解铝、水泥…（陶瓷不在其列）
        ("还能新建水泥项目吗", "那陶瓷呢", "陶瓷不在所列范围内"),
        # 二（一）2: 炉膛直径3米以下的燃料类煤气发生炉
        ("炉膛直径2米的煤气发生炉要淘汰吗", "那3.5米的呢", "不属于"),
        # 二（一）2: 取缔以煤炭为燃料的干燥炉
        ("用煤做燃料的干燥炉要取缔吗", "那烧天然气的呢", "不属于"),
        # 二（一）2: 淘汰铸造（10吨/小时及以下）、岩棉等行业冲天炉
        ("铸造厂8吨的冲天炉要淘汰吗", "那15吨的呢", "不属于"),
    ],
)
def test_a_follow_up_can_fall_outside_the_rule(
    engine: Engine, first: str, then: str, verdict: str
) -> None:
    _, answer = converse(engine, first, then)
    assert answer.confident and verdict in answer.text, answer.text


def test_equipment_no_rule_names_after_a_rule_question(engine: Engine) -> None:
    _, answer = converse(engine, "铸造行业冲天炉要淘汰吗", "那石灰窑呢？")
    assert answer.text.startswith("石灰窑："), answer.text
    assert "未列入" in answer.text or "不在" in answer.text


@pytest.mark.parametrize(
    ("first", "then", "office"),
    [
        ("门禁系统什么时候要建完", "哪个处负责？", "节能与综合利用处"),
        ("禁煤区内的洁净型煤企业怎么办", "这个归哪个处管", "煤炭发展指导处"),
        ("铸造专业产业园建在哪些城市", "由谁负责", "装备工业处"),
    ],
)
def test_a_new_kind_of_answer_inherits_the_subject(
    engine: Engine, first: str, then: str, office: str
) -> None:
    _, answer = converse(engine, first, then)
    assert answer.confident and office in answer.text, answer.text


def test_follow_ups_chain(engine: Engine) -> None:
    *_, last = converse(engine, "陶瓷企业工业炉窑要多少比例达到B级", "那石灰呢", "那玻璃呢")
    assert "50%" in last.text, last.text


def test_tasks_by_area_follow_up(engine: Engine) -> None:
    _, answer = converse(engine, "土壤污染防治有哪些任务", "那水污染呢")
    assert answer.confident and "加强工业节水" in answer.text


def test_a_complete_question_is_not_bent_by_the_previous_one(engine: Engine) -> None:
    _, answer = converse(engine, "冲天炉要淘汰吗", "木器涂料执行什么标准")
    assert not answer.follow_up
    assert "GB 18581-2020" in answer.text and "冲天炉" not in answer.text


def test_a_follow_up_alone_does_not_guess(engine: Engine) -> None:
    answer = engine.ask("哪个处负责？")
    assert answer.follow_up and not answer.confident


def test_a_refused_question_leaves_nothing_to_follow(engine: Engine) -> None:
    refused, answer = converse(engine, "今天天气怎么样", "那明天呢")
    assert not refused.in_scope
    assert not answer.confident


# -- in the bot: per chat, for a bounded time, and never served to the wrong chat ---------


def test_the_cache_keeps_follow_ups_per_chat_and_for_a_bounded_time(engine: Engine) -> None:
    cache: AnswerCache[object] = AnswerCache()
    t0 = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)

    def ask(chat: int, question: str, seconds: float) -> str:
        rendered = cache.answer(engine, question, render_text, chat=chat,
                                now=t0 + dt.timedelta(seconds=seconds))
        return rendered.answer.text  # type: ignore[attr-defined,no-any-return]

    ask(1, "门禁系统什么时候要建完", 0)
    ask(2, "洁净型煤企业怎么办", 0)
    assert "节能与综合利用处" in ask(1, "哪个处负责？", 60)
    assert "煤炭发展指导处" in ask(2, "哪个处负责？", 60)  # not chat 1's cached answer
    assert "节能与综合利用处" in ask(1, "哪个处负责？", 120)
    late = ask(1, "哪个处负责？", 120 + FOLLOW_UP_SECONDS + 1)
    assert "节能与综合利用处" not in late


def test_the_cache_does_not_serve_one_days_wording_on_another(engine: Engine) -> None:
    cache: AnswerCache[object] = AnswerCache()
    before = dt.datetime(2021, 6, 10, 2, 0, tzinfo=dt.UTC)
    after = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
    first = cache.answer(engine, "门禁系统什么时候要建完", render_text, chat=1, now=before)
    second = cache.answer(engine, "门禁系统什么时候要建完", render_text, chat=1, now=after)
    assert "已过" not in first.answer.text  # type: ignore[attr-defined]
    assert "已过" in second.answer.text  # type: ignore[attr-defined]


async def test_a_follow_up_in_the_bot(tmp_path: Path, engine: Engine) -> None:
    async with running_bot(tmp_path, engine=engine) as bot:
        await bot.exchange(1001, "陶瓷企业工业炉窑要多少比例达到B级")
        await bot.exchange(1002, "铸造行业冲天炉要淘汰吗")
        [reply] = await bot.exchange(1001, "那铁合金呢")
        assert "铁合金" in reply.params["text"] and "30%" in reply.params["text"]
        bot.clock.advance(FOLLOW_UP_SECONDS + 1)
        [late] = await bot.exchange(1001, "哪个处负责？")
        assert "节能与综合利用处" not in late.params["text"]


def test_a_follow_up_the_plan_leaves_open_is_explained(engine: Engine) -> None:
    # 二（一）17 lists VOCs standards for coatings, adhesives and cleaners, none for inks
    _, answer = converse(engine, "木器涂料执行什么标准", "那油墨呢")
    assert answer.text.startswith("油墨：") and "没有油墨的专门标准" in answer.text
    assert not answer.confident
