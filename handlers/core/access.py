"""Who may use what: the types of the access declaration, and the one check.

``handlers.policy`` declares every command, button prefix and dialog of the bot
with the :class:`Need` it has: the roles allowed and, for a button that names an
object (an application, an enterprise, a report, a notice), what that object is,
so its region can be checked against the user's scope and its owners against the
user (nobody decides on their own case). :class:`AccessGuard` runs in an early
handler group on every update and refuses, with a plain message, anything the
declaration does not allow — a forged or replayed button never reaches its
handler, and a command or button that is not declared at all is refused (or, for
commands, answered as unknown), so a new one cannot forget its check.

A command argument that names a region or an object is checked in its handler, by
one of two helpers: :func:`refuse_region` for a city (``/reports 郑州``: refused with
:data:`OUT_OF_SCOPE`), :func:`refuse_target` for an object (``/review 123``,
``/reject 7``, ``/msg 信用代码``: the buttons' own :func:`refusal`, with an id that
names nothing answered :data:`GONE` like one outside the scope, so typed ids cannot
probe other cities' records either).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlite_utils import Database
from telegram import Update
from telegram.ext import ApplicationHandlerStop

from handlers.core.callback_queries import acknowledge
from handlers.core.context import BotData, Context
from storage import targets
from storage.targets import TargetInfo
from storage.users import PROVINCE, Role, Scope, role_of, scope_of

_LOGGER = logging.getLogger(__name__)

Callback = Callable[[Update, Context], Coroutine[Any, Any, object]]

ANYONE = frozenset(Role)
OFFICIALS = frozenset({Role.OFFICIAL, Role.ADMIN})
STAFF = frozenset({Role.STAFF, Role.ADMIN})
OFFICIALS_AND_STAFF = frozenset({Role.OFFICIAL, Role.STAFF, Role.ADMIN})
ADMINS = frozenset({Role.ADMIN})

MAX_ID_DIGITS = 15  # ids in callback data; anything longer is forged

NOT_ALLOWED = "您没有权限使用{what}。发送 /help 查看您可以使用的功能。"
OUT_OF_SCOPE = "这不在您负责的范围（{scope}）内。"
OWN_CASE = "不能处理与您本人或本企业有关的申请或报告，请由其他工作人员处理。"
NOT_YOURS = "这个按钮只对提问的人有效。"
GONE = "找不到这条记录了，可能已被删除或按钮已过期。"
BROKEN = "这个按钮已失效。"

ROLE_NAMES = {
    Role.ENTERPRISE: "企业用户",
    Role.OFFICIAL: "业务处室",
    Role.STAFF: "工作人员",
    Role.ADMIN: "管理员",
}


class Target(StrEnum):
    """What the first id in a button's data names (``prefix:<id>:...``)."""

    NONE = "none"
    ACCOUNT = "account"  # a registration or claim: region of its enterprise, owner the applicant
    ENTERPRISE = "enterprise"  # region of the enterprise, owners the users who speak for it
    REPORT = "report"  # region of its enterprise, owners the users who speak for it
    NOTICE = "notice"  # the regions it went to (none: the province), owner the sender
    QUESTION = "question"  # a logged question: owner the asker
    DEADLINE = "deadline"  # an official's deadline: its regions, owner who added it


class Relation(StrEnum):
    ANY = "any"
    NOT_OWN = "not_own"  # the user must not be an owner of the target (own case)
    OWN = "own"  # the user must be an owner of the target


@dataclass(frozen=True)
class Need:
    """What using a command or button requires."""

    roles: frozenset[Role]
    target: Target = Target.NONE
    relation: Relation = Relation.ANY

    @property
    def open(self) -> bool:
        """Anyone may, whatever it is used on: nothing to look up."""
        return self.roles == ANYONE and self.target is Target.NONE


class Where(StrEnum):
    PRIVATE = "private"  # private chats only
    ANYWHERE = "anywhere"  # private chats and groups


@dataclass(frozen=True)
class Command:
    """A slash command. ``callback`` None: the entry of a dialog (registered with it)."""

    name: str
    need: Need
    summary: str  # menu and /help text, Simplified Chinese
    callback: Callback | None = None
    usage: str = ""  # an example for /help, e.g. "/reports 洛阳 任务13 已完成"
    payload: str = ""  # a deep-link payload prefix this variant handles (/start inv_...)
    where: Where = Where.PRIVATE
    in_dialogs: bool = False  # also works in the middle of a dialog (/start, /help, /ask)
    menu: bool = True  # shown in Telegram's command menu


@dataclass(frozen=True)
class Button:
    """Inline buttons whose callback data start with ``prefix:``. ``callback`` None:
    handled inside a dialog."""

    prefix: str
    need: Need
    callback: Callback | None = None
    asks_engine: bool = False  # pressing it asks a question: flood control counts it


@dataclass(frozen=True)
class Actor:
    """Who sent an update, as far as access goes."""

    user_id: int
    role: Role
    scope: Scope = PROVINCE

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def covers(self, region: str | None) -> bool:
        """Admins cover everything; officials and staff their scope."""
        return self.is_admin or self.scope.covers(region)

    def covers_all(self, regions: frozenset[str]) -> bool:
        """Whether every one of ``regions`` (none: the whole province) is covered."""
        return self.is_admin or Scope(regions).within(self.scope)


def actor_of(bot_data: BotData, user_id: int) -> Actor:
    role = role_of(bot_data.db, user_id, bot_data.admins)
    if role in (Role.OFFICIAL, Role.STAFF):
        return Actor(user_id, role, scope_of(bot_data.db, user_id))
    return Actor(user_id, role)


RESOLVERS: Mapping[Target, Callable[[Database, int], TargetInfo | None]] = {
    Target.ACCOUNT: targets.account,
    Target.ENTERPRISE: targets.enterprise,
    Target.REPORT: targets.report,
    Target.NOTICE: targets.notice,
    Target.QUESTION: targets.question,
    Target.DEADLINE: targets.deadline,
}
# Targets owned by a place: officials and staff may touch them only inside their scope.
_REGIONAL = frozenset({Target.ACCOUNT, Target.ENTERPRISE, Target.REPORT, Target.NOTICE,
                       Target.DEADLINE})


def refusal(need: Need, actor: Actor, db: Database, target_id: int | None, what: str) -> str | None:
    """Why ``actor`` may not do it (a message for them), or None when allowed."""
    if actor.role not in need.roles:
        return NOT_ALLOWED.format(what=what)
    if need.target is Target.NONE:
        return None
    if target_id is None:
        return BROKEN
    info = RESOLVERS[need.target](db, target_id)
    if info is None:
        return GONE
    if need.target in _REGIONAL and actor.role is not Role.ENTERPRISE:
        if info.regions is not None:
            inside = actor.covers_all(info.regions)
        elif info.any_of is not None:
            inside = any(actor.covers(region) for region in info.any_of)
        else:
            inside = actor.covers(info.region)
        if not inside:  # said like a missing id: no probing other cities' ids or counts
            return GONE
    if need.relation is Relation.NOT_OWN and actor.user_id in info.owners:
        return OWN_CASE
    if need.relation is Relation.OWN and actor.user_id not in info.owners:
        return NOT_YOURS
    return None


def refuse_target(actor: Actor, db: Database, need: Need, target_id: int | None,
                  what: str) -> str | None:
    """For a command argument naming an object (``/review 123``): the check a button
    naming it gets, by the same resolver and scope rule. ``target_id`` None — the
    argument names nothing (no such code, say) — is :data:`GONE`, as out of scope is."""
    if target_id is None:
        return GONE
    return refusal(need, actor, db, target_id, what)


def refuse_region(actor: Actor, region: str | None) -> str | None:
    """For a command argument naming a region: why it is out of the actor's scope."""
    if actor.covers(region):
        return None
    return OUT_OF_SCOPE.format(scope=actor.scope.describe())


def command_name(update: Update, bot_username: str | None) -> str | None:
    """``/notify@lvdong_bot 文本`` → ``notify``; None for anything that is not a command,
    or a command addressed to another bot (``/stats@other_bot`` in a group)."""
    message = update.effective_message
    text = message.text if message is not None else None
    if not text or not text.startswith("/"):
        return None
    word = text[1:].split(maxsplit=1)[0] if len(text) > 1 else ""
    name, _, addressed = word.partition("@")
    if addressed and bot_username and addressed.lower() != bot_username.lower():
        return None
    return name.lower() or None


def button_target(data: str) -> tuple[str, int | None]:
    """``"apy:31"`` → ``("apy", 31)``; the id is None when absent, not a plain number
    of at most :data:`MAX_ID_DIGITS` digits (a forged value), or not positive."""
    prefix, _, rest = data.partition(":")
    first = rest.split(":", 1)[0]
    if first.isascii() and first.isdigit() and len(first) <= MAX_ID_DIGITS and int(first) > 0:
        return prefix, int(first)
    return prefix, None


class AccessGuard:
    """The one check, run for every update before any handler that does the work."""

    def __init__(self, commands: Iterable[Command], buttons: Iterable[Button]) -> None:
        self.commands = {command.name: command for command in commands}
        self.buttons = {button.prefix: button for button in buttons}

    async def __call__(self, update: Update, context: Context) -> None:
        user = update.effective_user
        if user is None:
            return
        query = update.callback_query
        if query is not None:
            prefix, target_id = button_target(query.data or "")
            button = self.buttons.get(prefix)
            if button is None:
                await acknowledge(query, BROKEN)
                raise ApplicationHandlerStop
            if button.need.open:
                return
            actor = actor_of(context.bot_data, user.id)
            reason = refusal(button.need, actor, context.bot_data.db, target_id, "这个按钮")
            if reason is not None:
                _LOGGER.info("refused button %s for user %s (%s)", prefix, user.id, actor.role)
                await acknowledge(query, reason)
                raise ApplicationHandlerStop
            return
        name = command_name(update, context.bot.username)
        if name is None:
            return
        command = self.commands.get(name)
        if command is None or command.need.open:
            return  # not ours (answered as an unknown command or by a dialog), or anyone's
        actor = actor_of(context.bot_data, user.id)
        reason = refusal(command.need, actor, context.bot_data.db, None, f" /{name}")
        if reason is not None:
            _LOGGER.info("refused /%s for user %s (%s)", name, user.id, actor.role)
            message = update.effective_message
            if message is not None:
                await message.reply_text(reason)
            raise ApplicationHandlerStop
