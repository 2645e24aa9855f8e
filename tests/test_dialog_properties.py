"""Property-based tests (hypothesis) over every step of /register and /report (issue 9).

For any text up to 10,000 characters typed at any step, the bot: raises no exception
(no error handler call, no "出了点问题"), answers within a bound, and either moves on
(the text was a valid answer) or says what is wrong with the same step's prompt again,
keeping every earlier answer of the draft.

The real bot runs once per test, over HTTP against the Bot API stand-in, on its own
event loop in a thread; each example is sent from the (synchronous) hypothesis test.
A user is driven to a step once and reused while the inputs are refused; an accepted
input retires that user. Examples are derandomized, so CI runs are reproducible.
Pure parsers get the same properties at a higher number of examples.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.core.access import ANYONE, Need
from handlers.core.dialogs import STAMP, STEP, label_key, typed_button
from handlers.core.errors import SORRY
from handlers.core.industries import read_industries
from handlers.enterprise import register as register_dialog
from handlers.enterprise import report as report_dialog
from handlers.public.start import is_greeting
from knowledge.engine import Engine
from storage.credit_code import check_credit_code
from storage.fields import (
    FieldError,
    parse_date,
    parse_description,
    parse_line,
    parse_percent,
    parse_phone,
    parse_status,
    parse_task_number,
)
from storage.regions import REGIONS, match_county, region_of_county
from tests.bot_harness import RunningBot, running_bot
from tests.dialog_driver import Chat, answer_qualifiers, credit_code, register, register_approved

T = TypeVar("T")
LONG = 10_000  # time taken on such input is measured in bench/bench_worst_case.py

# Texts people and attackers type: anything, long anything, numbers in odd scripts,
# controls and bidi overrides, button labels, and valid-looking answers.
SPECIAL = [
    "፩", "٣", "²", "1" * 5000, "9" * 10_000, "\u202e\u2066abc\u2069", "\x00\x07\x1b[31m",
    "😀" * 3, "跳过", "完成", "确认提交", "修改", "取消", "下一页 ›", "✅ 化工", "郑州", "火星区",
    "60%", "百分之六十", "12月底", "2021-02-30", "13812345678", "0371-12345678",
    "第8项", "任务二十六", "进行中", "已完成", "铸造、化工", "中原区", " ", "",
]
# Hypothesis does not generate 10,000 characters at once: a random piece repeated.
LONG_TEXTS = st.text(min_size=1, max_size=60).map(lambda piece: (piece * LONG)[:LONG])
TEXTS = st.one_of(
    st.text(max_size=40),
    LONG_TEXTS,
    st.sampled_from(SPECIAL),
    st.from_regex(r"[0-9０-９]{1,12}%?", fullmatch=True),
    st.text(alphabet=st.characters(categories=["Nd", "No", "Cf", "Cc", "So"]), max_size=200),
)
EXAMPLES = settings(
    max_examples=60, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --- the pure parsers ------------------------------------------------------------------


@pytest.fixture(scope="module")
def kb_engine(engine: Engine) -> Engine:
    return engine


@settings(max_examples=300, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(text=TEXTS)
def test_parsers_return_a_value_or_a_clear_message(text: str, kb_engine: Engine) -> None:
    kb = kb_engine.kb
    today = dt.date(2021, 6, 15)
    results: list[object] = [
        parse_line(text, label="企业名称", limit=100),
        parse_description(text, required=True),
        parse_phone(text),
        parse_percent(text),
        parse_date(text, today=today),
        parse_task_number(text, kb.task_numbers),
        parse_status(text, [s.name for s in kb.statuses], kb.status_words),
    ]
    for result in results:
        if isinstance(result, FieldError):
            assert result.message.strip() and len(result.message) < 400
    code = check_credit_code(text)
    assert code.ok or (code.error and len(code.error) < 400)
    assert isinstance(is_greeting(text), bool)
    read_industries(text, kb.industry_choices, kb.aliases)
    for region in REGIONS:
        match_county(region, text)
    region_of_county(text)
    assert isinstance(label_key(text), str)
    assert typed_button(text, None) is None


# --- the dialogs, through the running bot ---------------------------------------------


class BackgroundBot:
    """``running_bot`` on an event loop of its own thread, driven synchronously."""

    def __init__(self, tmp_path: Path, engine: Engine) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.tmp_path, self.engine = tmp_path, engine
        self.errors: list[BaseException] = []
        self.ids = itertools.count(50_000)
        self.waiting: dict[str, int] = {}  # step -> a user waiting at it

    def run(self, make: Callable[[], Awaitable[T]], timeout: float = 60.0) -> T:
        async def wrapped() -> T:
            return await make()

        return asyncio.run_coroutine_threadsafe(wrapped(), self.loop).result(timeout)

    def __enter__(self) -> BackgroundBot:
        self.thread.start()
        self._context = running_bot(self.tmp_path, engine=self.engine, flood_burst=100_000)
        self.bot: RunningBot = self.run(self._context.__aenter__)

        async def record(update: object, context: Any) -> None:
            self.errors.append(context.error)

        self.bot.app.add_error_handler(record)
        return self

    def __exit__(self, *exc: object) -> None:
        self.run(lambda: self._context.__aexit__(None, None, None))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def draft(self, user_id: int, dialog: str) -> dict[str, Any]:
        value = self.bot.app.user_data.get(user_id, {}).get(dialog)
        return dict(value) if isinstance(value, dict) else {}


async def _to_register_step(chat: Chat, step: str) -> None:
    """Drive ``chat`` to the /register step ``step`` with valid answers."""
    code = credit_code(chat.user_id % 10_000_000, "410305")  # issued in Luoyang
    answers: list[tuple[str, Callable[[], Awaitable[str]]]] = [
        ("NAME", lambda: chat.say("/register")),
        ("CODE", lambda: chat.say("河南绿源化工有限公司")),
        ("CITY", lambda: chat.say(code)),
        ("COUNTY", lambda: chat.press("洛阳市")),
        ("INDUSTRIES", lambda: chat.say("涧西区")),
        ("QUALIFIERS", lambda: chat.press("化工")),
        ("CONTACT", lambda: answer_qualifiers(chat, "（补充")),
        ("PHONE", lambda: chat.say("张三")),
        ("CONFIRM", lambda: chat.say("13812345678")),
        ("EDIT", lambda: chat.press("修改")),
    ]
    for name, answer in answers:
        await answer()
        if name == "QUALIFIERS":
            await chat.press("完成")
        if name == step:
            return
    raise AssertionError(step)


async def _to_report_step(chat: Chat, step: str) -> None:
    """Drive ``chat`` (registered and approved) to the /report step ``step``."""
    answers: list[tuple[str, Callable[[], Awaitable[str]]]] = [
        ("TASK", lambda: chat.say("/report")),
        ("STATUS", lambda: chat.say("8")),
        ("PERCENT", lambda: chat.press("进行中")),
        ("DESCRIPTION", lambda: chat.say("60")),
        ("DATE", lambda: chat.say("锅炉改造施工中")),
        ("ATTACH", lambda: chat.say("12月底")),
        ("CONFIRM", lambda: chat.press("完成")),
        ("EDIT", lambda: chat.press("修改")),
    ]
    for name, answer in answers:
        await answer()
        if name == step:
            return
    raise AssertionError(step)


def _user_at(bg: BackgroundBot, dialog: str, step: str) -> int:
    """A user waiting at ``step`` of ``dialog`` (driven there if none is). /report's
    users are registered and approved once, one per step, and start over with /cancel;
    /register's are new users."""
    user_id = bg.waiting.get(f"{dialog}:{step}")
    if user_id is not None and bg.draft(user_id, dialog).get(STEP) == step:
        return user_id
    if dialog == "register" or user_id is None:
        user_id = next(bg.ids)
    chat = Chat(bg.bot, user_id)

    async def drive() -> None:
        if dialog == "register":
            await _to_register_step(chat, step)
            return
        if bg.bot.app.user_data.get(chat.user_id) is None:
            await register_approved(chat)
        await chat.say("/cancel")
        await _to_report_step(chat, step)

    bg.run(drive)
    assert bg.draft(user_id, dialog).get(STEP) == step, (dialog, step)
    bg.waiting[f"{dialog}:{step}"] = user_id
    return user_id


HELPERS = {STAMP, STEP, "mismatch_confirmed", "county_pending", "editing", "page", "view"}
# What each step's prompt says, to see that a refused answer gets the same step again.
PROMPTS = {
    "register": {"NAME": "第1步", "CODE": "第2步", "CITY": "第3步", "COUNTY": "第4步",
                 "INDUSTRIES": "第5步", "QUALIFIERS": "补充", "CONTACT": "第6步", "PHONE": "第7步",
                 "CONFIRM": "请核对以上信息", "EDIT": "请选择要修改的内容"},
    # after the percentage, numbered without it when the status asks none
    "report": {"TASK": "第1步", "STATUS": "第2步", "PERCENT": "第3步", "DESCRIPTION": "请简要说明",
               "DATE": "日期", "ATTACH": "照片或PDF", "CONFIRM": "请核对以上信息",
               "EDIT": "请选择要修改的内容"},
}


def _answers(draft: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in draft.items() if k not in HELPERS}


def _check_step(bg: BackgroundBot, dialog: str, step: str, text: str) -> None:
    user_id = _user_at(bg, dialog, step)
    before = bg.draft(user_id, dialog)
    chat = Chat(bg.bot, user_id)
    errors = len(bg.errors)
    reply = bg.run(lambda: chat.say(text))
    assert not bg.errors[errors:], bg.errors[errors:]
    assert SORRY not in reply
    after = bg.draft(user_id, dialog)
    moved = after.get(STEP) != step or not after
    if "⚠️" in reply or "您正在进行" in reply:  # refused: what is wrong, and a prompt again
        assert len(reply.split("\n\n", 1)[0]) < 1000, "the message is short"
        assert _answers(after) == _answers(before) or step == "INDUSTRIES", (
            "earlier answers kept (typed industries that were understood are added)")
        if not moved:
            assert PROMPTS[dialog][step] in reply, "the same step's prompt again"
        return
    assert reply.strip(), "something is always said"
    # an accepted answer: the user has moved on, and is driven back (or replaced) next time


@pytest.fixture(scope="module")
def background(
    tmp_path_factory: pytest.TempPathFactory, engine: Engine
) -> Iterator[BackgroundBot]:
    with BackgroundBot(tmp_path_factory.mktemp("prop"), engine) as bg:
        yield bg


REGISTER_STEPS = ["NAME", "CODE", "CITY", "COUNTY", "INDUSTRIES", "QUALIFIERS", "CONTACT", "PHONE",
                  "CONFIRM", "EDIT"]
REPORT_STEPS = ["TASK", "STATUS", "PERCENT", "DESCRIPTION", "DATE", "ATTACH", "CONFIRM", "EDIT"]


def test_every_state_is_covered() -> None:
    """The lists above name every state the dialogs have: a new step gets tested too."""
    for module, steps in ((register_dialog, REGISTER_STEPS), (report_dialog, REPORT_STEPS)):
        handler = module.conversation(None, Need(ANYONE))
        states = {s for s in handler.states if isinstance(s, str)}
        assert states == set(steps), module.__name__


@EXAMPLES
@given(step=st.sampled_from(REGISTER_STEPS), text=TEXTS)
def test_any_text_at_any_register_step(background: BackgroundBot, step: str, text: str) -> None:
    _check_step(background, "register", step, text)


@EXAMPLES
@given(step=st.sampled_from(REPORT_STEPS), text=TEXTS)
def test_any_text_at_any_report_step(background: BackgroundBot, step: str, text: str) -> None:
    _check_step(background, "report", step, text)


def test_unusual_digits_and_huge_numbers_at_the_number_steps(background: BackgroundBot) -> None:
    """Issue 9's reproductions: "፩" and a 5,000-digit number at the task and percent steps."""
    for step in ("TASK", "PERCENT"):
        for text in ("፩", "1" * 5000):
            user_id = _user_at(background, "report", step)
            errors = len(background.errors)
            reply = background.run(lambda t=text, u=user_id: Chat(background.bot, u).say(t))
            assert "⚠️" in reply and SORRY not in reply and not background.errors[errors:]
            assert background.draft(user_id, "report").get(STEP) == step


def test_the_register_helper_still_registers(background: BackgroundBot) -> None:
    """The drive used above is a valid registration (so refusals above are the inputs')."""
    chat = Chat(background.bot, next(background.ids))
    reply = background.run(lambda: register(chat, code=credit_code(77)))
    assert "已提交" in reply
