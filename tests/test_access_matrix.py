"""The access matrix: every declared command and button × every kind of user.

Generated from ``handlers.policy`` (the one declaration), so a new command or button
is covered without editing this test. Expectations are computed here from each
declaration's ``Need`` and the persona's role and scope, independently of the
guard's own code; the bot is the real one, over HTTP to the Bot API stand-in.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

import pytest

from handlers import policy
from handlers.core import errors
from handlers.core.access import (
    BROKEN,
    GONE,
    NOT_YOURS,
    OUT_OF_SCOPE,
    OWN_CASE,
    Relation,
    Target,
)
from handlers.core.errors import SORRY
from handlers.public.start import UNKNOWN_COMMAND
from storage.audiences import Audience, AudienceKind
from storage.calendar import add_deadline
from storage.enterprises import approve, register
from storage.notices import create_notice
from storage.questions import log_question
from storage.reports import ReportDraft, add_report
from storage.users import Role, grant_role, revoke_role
from tests.bot_harness import FakeClock, RunningBot, plan_shape, running_bot
from tests.dialog_driver import Chat, credit_code

ADMIN = 900  # the harness's settings admin
FOUNDER, CLAIMANT = 3100, 3101


@dataclass(frozen=True)
class Persona:
    name: str
    user_id: int
    role: Role
    regions: tuple[str, ...] = ()


PERSONAS = (
    Persona("enterprise", 3001, Role.ENTERPRISE),
    Persona("official of 郑州市", 3002, Role.OFFICIAL, ("郑州市",)),
    Persona("official of the province", 3003, Role.OFFICIAL),
    Persona("staff of 洛阳市", 3004, Role.STAFF, ("洛阳市",)),
    Persona("staff of the province", 3005, Role.STAFF),
    Persona("admin", ADMIN, Role.ADMIN),
)
REFUSALS = ("您没有权限使用", OUT_OF_SCOPE.split("{")[0], OWN_CASE, NOT_YOURS, BROKEN, GONE)


def _targets(bot: RunningBot) -> dict[Target, int]:
    """One object of each kind, all in 郑州市, none owned by a persona."""
    db, now = bot.db, FakeClock().now
    for persona in PERSONAS:
        if persona.role is not Role.ADMIN:
            grant_role(db, persona.user_id, persona.role, persona.regions, now)
    founder = register(db, user_id=FOUNDER, name="郑州测试企业", credit_code=credit_code(1),
                       city="郑州市", county=None, industries=["铸造"], contact_name="甲",
                       phone="13800000001", now=now)
    approve(db, account_id=founder.account.id, approver_id=ADMIN, admins=frozenset({ADMIN}),
            now=now)
    claim = register(db, user_id=CLAIMANT, name="郑州测试企业", credit_code=credit_code(1),
                     city="郑州市", county=None, industries=["铸造"], contact_name="乙",
                     phone="13800000002", now=now)
    report = add_report(db, ReportDraft(enterprise_id=founder.enterprise.id, user_id=FOUNDER,
                                        task=2, status="进行中", description="改造中"), now,
                        **plan_shape())
    notice = create_notice(db, by=3002, audience=Audience(AudienceKind.CITY, "郑州市"),
                           regions=["郑州市"], text="测试", html="测试", recipients=[FOUNDER],
                           send_at=now + dt.timedelta(days=30), now=now)
    question = log_question(db, user_id=FOUNDER, chat_id=FOUNDER, text="冲天炉要淘汰吗",
                            answered=True, confident=True, sources=(), now=now)
    deadline = add_deadline(db, task=2, due=dt.date(2021, 12, 1), what="测试", industries=(),
                            regions=["郑州市"], by=3002, now=now)
    return {
        Target.NONE: 1,
        Target.ACCOUNT: claim.account.id,
        Target.ENTERPRISE: founder.enterprise.id,
        Target.REPORT: report,
        Target.NOTICE: notice.id,
        Target.QUESTION: question,
        Target.DEADLINE: deadline,
    }


def expected_allowed(persona: Persona, need: policy.Need) -> bool:
    """What the declaration says, worked out here: role; then for a button on an object
    in 郑州市 owned by others: own-only buttons refused, scope checked for officials and
    staff (admins and province-wide ones cover it)."""
    if persona.role not in need.roles:
        return False
    if need.target is Target.NONE:
        return True
    if need.relation is Relation.OWN:
        return False
    if persona.role in (Role.ENTERPRISE, Role.ADMIN) or need.target is Target.QUESTION:
        return True
    return not persona.regions or "郑州市" in persona.regions


def refused(texts: list[str]) -> bool:
    return any(marker in text for text in texts for marker in REFUSALS)


@pytest.fixture
async def bot(tmp_path: Path) -> object:
    async with running_bot(tmp_path, flood_burst=10_000) as running:
        yield running


async def test_every_command_for_every_role(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    _targets(bot)
    names = sorted({c.name for c in policy.COMMANDS if not c.payload})
    assert {"notify", "notices", "deadlines", "grant", "revoke", "invite", "audit"} <= set(names)
    caplog.set_level(logging.ERROR, logger=errors.__name__)
    for persona in PERSONAS:
        for name in names:
            need = next(c.need for c in policy.COMMANDS if c.name == name)
            caplog.clear()
            before = len(bot.api.calls)
            await bot.exchange(persona.user_id, f"/{name}")
            failed = [r.getMessage() for r in caplog.records if r.name == errors.__name__]
            replies = [c for c in bot.api.calls[before:] if c.method.startswith("send")
                       and c.params.get("chat_id") == persona.user_id]
            texts = [str(call.params.get("text", "")) for call in replies]
            await bot.exchange(persona.user_id, "/cancel")  # leave any dialog it started
            allowed = expected_allowed(persona, need)
            assert refused(texts) is not allowed, (persona.name, name, texts)
            if allowed:  # it ran: its handler answered, without an error or "no such command"
                assert replies, (persona.name, name)
                assert not {SORRY, UNKNOWN_COMMAND} & set(texts), (persona.name, name, texts)
                assert not failed, (persona.name, name, failed)  # nor raised after answering


async def test_every_button_for_every_role(bot: RunningBot) -> None:
    targets = _targets(bot)
    chat_message = await bot.exchange(3001, "/start")  # any message to hang buttons on
    assert chat_message
    for persona in PERSONAS:
        message = (await bot.exchange(persona.user_id, "/help"))[-1]
        message_id = int(bot.last_message_id(persona.user_id))
        assert message
        for button in policy.BUTTONS:
            data = f"{button.prefix}:{targets[button.need.target]}:0"
            calls = await bot.click(persona.user_id, persona.user_id, message_id, data)
            texts = [str(call.params.get("text", "")) for call in calls
                     if call.method == "answerCallbackQuery"]
            allowed = expected_allowed(persona, button.need)
            assert refused(texts) is not allowed, (persona.name, button.prefix, texts)


async def test_forged_buttons_are_refused_without_reaching_a_handler(bot: RunningBot) -> None:
    _targets(bot)
    await bot.exchange(ADMIN, "/help")
    message_id = bot.last_message_id(ADMIN)
    for data in ("zz:1", "apy:" + "9" * 5000, "apy:-1", "apy:abc", "apy:" + "1" * 16, "apy:"):
        calls = await bot.click(ADMIN, ADMIN, message_id, data[:64])
        answers = [c.params.get("text") for c in calls if c.method == "answerCallbackQuery"]
        assert answers and answers[0] in (BROKEN, GONE), data


async def test_own_buttons_are_for_their_owner_only(bot: RunningBot) -> None:
    targets = _targets(bot)
    await bot.exchange(FOUNDER, "/help")
    message_id = bot.last_message_id(FOUNDER)
    calls = await bot.click(FOUNDER, FOUNDER, message_id, f"f:{targets[Target.QUESTION]}:1")
    assert not refused([str(c.params.get("text", "")) for c in calls])
    assert bot.rows("SELECT user_id FROM feedback") == [{"user_id": FOUNDER}]


async def test_a_command_for_another_bot_in_a_group_is_left_to_that_bot(bot: RunningBot) -> None:
    group = -100500
    enterprise = PERSONAS[0].user_id
    assert await bot.exchange(enterprise, "/stats@some_other_bot", chat_id=group) == []
    ours = await bot.exchange(enterprise, f"/stats@{bot.api.bot_username}", chat_id=group)
    assert refused([str(call.params.get("text", "")) for call in ours])


CITIES = ("郑州市", "洛阳市")
NOBODY = 999_999  # an id nothing has


def _city_objects(bot: RunningBot, city: str, founder: int, claimant: int,
                  n: int) -> dict[str, str]:
    """An approved enterprise in ``city`` (with a report) and a pending claim on it: what a
    command argument names, as typed."""
    db, now = bot.db, FakeClock().now
    name = f"{city[:2]}测试企业"
    code = credit_code(n)
    founded = register(db, user_id=founder, name=name, credit_code=code, city=city,
                       county=None, industries=["铸造"], contact_name="甲",
                       phone="13800000011", now=now)
    approve(db, account_id=founded.account.id, approver_id=ADMIN, admins=frozenset({ADMIN}),
            now=now)
    claim = register(db, user_id=claimant, name=name, credit_code=code, city=city,
                     county=None, industries=["铸造"], contact_name="乙",
                     phone="13800000012", now=now)
    report = add_report(db, ReportDraft(enterprise_id=founded.enterprise.id, user_id=founder,
                                        task=2, status="进行中", description="改造中"), now,
                        **plan_shape())
    return {"city": city[:2], "name": name, "code": code, "report": str(report),
            "account": str(claim.account.id)}


# Every command whose argument names a region or an object: (command as typed, for an
# object of ``_city_objects``; the start of what an out-of-scope argument gets).
SCOPED_ARGUMENTS = (
    ("/reports {city}", OUT_OF_SCOPE.split("{")[0]),
    ("/overdue {city}", OUT_OF_SCOPE.split("{")[0]),
    ("/silent {city}", OUT_OF_SCOPE.split("{")[0]),
    ("/stats {city}", OUT_OF_SCOPE.split("{")[0]),
    ("/export {city}", OUT_OF_SCOPE.split("{")[0]),
    ("/review {report}", GONE),
    ("/reject {account}", GONE),
    ("/msg {code} 你好", GONE),
    ("/enterprise {code}", "在您负责的范围内没有找到"),
)
# The same commands naming nothing that exists: answered like an out-of-scope object.
MISSING_ARGUMENTS = (f"/review {NOBODY}", f"/reject {NOBODY}",
                     f"/msg {credit_code(NOBODY)} 你好")


async def _said(bot: RunningBot, persona: Persona, text: str,
                caplog: pytest.LogCaptureFixture) -> list[str]:
    """What the bot answered ``text``, after checking it did not fail; any dialog it
    started is left."""
    caplog.clear()
    before = len(bot.api.calls)
    await bot.exchange(persona.user_id, text)
    failed = [r.getMessage() for r in caplog.records if r.name == errors.__name__]
    texts = [str(c.params.get("text") or c.params.get("caption") or "")
             for c in bot.api.calls[before:] if c.method.startswith("send")
             and c.params.get("chat_id") == persona.user_id]
    await bot.exchange(persona.user_id, "/cancel")
    assert texts, (persona.name, text)
    assert not {SORRY, UNKNOWN_COMMAND} & set(texts), (persona.name, text, texts)
    assert not failed, (persona.name, text, failed)
    return texts


async def test_every_command_argument_naming_a_region_or_an_object_for_every_role(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    """Each scoped command with an argument naming a city, or an object in a city: refused
    (regions with the out-of-scope text, objects like a missing id) outside the persona's
    scope, run inside it — for every persona whose role may use the command."""
    _targets(bot)
    objects = {"郑州市": _city_objects(bot, "郑州市", 3110, 3111, 11),
               "洛阳市": _city_objects(bot, "洛阳市", 3112, 3113, 12)}
    caplog.set_level(logging.ERROR, logger=errors.__name__)
    checked = 0
    for typed, refusal_text in SCOPED_ARGUMENTS:
        name = typed.split()[0][1:]
        need = next(c.need for c in policy.COMMANDS if c.name == name)
        for persona in PERSONAS:
            if persona.role not in need.roles:
                continue  # refused by role, bare or not: test_every_command_for_every_role
            for city in CITIES:
                text = typed.format(**objects[city])
                texts = await _said(bot, persona, text, caplog)
                inside = persona.role is Role.ADMIN or not persona.regions or (
                    city in persona.regions)
                said_refusal = any(t.startswith(refusal_text) for t in texts)
                if inside:  # it ran: answered, and refused nothing
                    assert not said_refusal and not refused(texts), (persona.name, text, texts)
                else:
                    assert said_refusal, (persona.name, text, texts)
                checked += 1
    assert checked >= 50


async def test_a_command_argument_naming_nothing_is_answered_like_one_out_of_scope(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    _targets(bot)
    caplog.set_level(logging.ERROR, logger=errors.__name__)
    for typed in MISSING_ARGUMENTS:
        need = next(c.need for c in policy.COMMANDS if c.name == typed.split()[0][1:])
        for persona in PERSONAS:
            if persona.role in need.roles:
                texts = await _said(bot, persona, typed, caplog)
                assert texts == [GONE], (persona.name, typed, texts)


ENDED = "已结束，填写的内容没有保存"
CHANGES = ("revoked", "narrowed to 洛阳市")


def _entry(command: str, targets: dict[Target, int], bot: RunningBot) -> str:
    """What starts a dialog and leaves it waiting for typed input."""
    if command == "msg":  # /msg 信用代码: asks for the text
        code = bot.rows("SELECT credit_code FROM enterprises WHERE id = ?",
                        (targets[Target.ENTERPRISE],))[0]["credit_code"]
        return f"/msg {code}"
    if command == "review":
        return f"/review {targets[Target.REPORT]} 有问题"
    if command == "reject":
        return f"/reject {targets[Target.ACCOUNT]}"
    if command == "deadline":
        return "/deadline add"
    return f"/{command}"


@pytest.mark.parametrize("change", CHANGES)
async def test_every_dialog_step_is_checked_again_after_a_revoke_or_a_narrowed_scope(
    bot: RunningBot, change: str,
) -> None:
    """For every dialog that needs a role, every persona allowed to start it: its role
    revoked (or its scope narrowed to 洛阳市) mid-dialog, the next typed button label
    or typed text ends the dialog with a message, and nothing is stored."""
    targets = _targets(bot)
    now = FakeClock().now
    checked = 0
    for entry in policy.DIALOGS:
        if entry.need.roles == policy.ANYONE:
            continue
        for persona in PERSONAS:
            if persona.role is Role.ADMIN or not expected_allowed(persona, entry.need):
                continue
            if change != "revoked" and persona.regions == ("洛阳市",):
                continue  # nothing to narrow
            chat = Chat(bot, persona.user_id)
            started = await chat.say(_entry(entry.dialog.command, targets, bot))
            if "找不到这条记录" in started:  # out of scope reads like a missing record
                continue  # e.g. a review of a 郑州市 report by staff of 洛阳市
            labels = [label for label in chat.labels() if label != "取消"]
            if change == "revoked":
                revoke_role(bot.db, persona.user_id, now)
            else:
                grant_role(bot.db, persona.user_id, persona.role, ["洛阳市"], now)
            typed = labels[0].removeprefix("✅ ") if labels else "测试内容"
            reply = await chat.say(typed)
            assert ENDED in reply, (entry.dialog.command, persona.name, change, reply)
            assert entry.dialog.name not in (bot.app.user_data.get(persona.user_id) or {})
            grant_role(bot.db, persona.user_id, persona.role, persona.regions, now)
            checked += 1
    assert checked >= 3
    assert bot.rows("SELECT count(*) AS n FROM reviews") == [{"n": 0}]
    assert bot.rows("SELECT count(*) AS n FROM notices") == [{"n": 1}]  # _targets' own


def test_every_button_prefix_is_declared_once() -> None:
    """Two buttons with one prefix would reach the first handler registered (issue 17:
    /msg's 回复 took myreports' ``mr``)."""
    prefixes = [button.prefix for button in policy.BUTTONS]
    assert len(prefixes) == len(set(prefixes)), sorted(p for p in prefixes
                                                        if prefixes.count(p) > 1)
