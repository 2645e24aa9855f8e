"""Command menus and /help, built from the access declaration (``handlers.policy``).

Telegram shows a command menu per scope: all private chats get the commands any
user may use, groups get those that work in groups, and each official, staff
member and admin gets a menu of their own in their private chat
(``BotCommandScopeChat``), set at start-up and again whenever their role changes.
``/help`` lists the same commands the asking user may use.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeDefault,
)
from telegram.error import BadRequest, Forbidden

from handlers.core.access import Command, Where
from storage.users import Role

_LOGGER = logging.getLogger(__name__)

# Buttons under /start: questions most enterprises ask first.
COMMON_QUESTIONS: tuple[str, ...] = (
    "冲天炉要淘汰吗？",
    "木器涂料执行什么标准？",
    "落后产能淘汰由哪个处负责？",
    "这个方案是哪个部门发的？",
)


def allowed(commands: Iterable[Command], role: Role, *, in_group: bool = False) -> list[Command]:
    """The commands ``role`` may use (in a group: only those that work there)."""
    return [
        command for command in commands
        if role in command.need.roles and not command.payload
        and (not in_group or command.where is Where.ANYWHERE)
    ]


def menu(commands: Iterable[Command], role: Role, *, in_group: bool = False) -> list[BotCommand]:
    return [BotCommand(c.name, c.summary) for c in allowed(commands, role, in_group=in_group)
            if c.menu]


async def publish_menus(
    bot: Bot, commands: Sequence[Command], roles: dict[int, Role]
) -> None:
    """Menus for every scope: default and private chats (what any user may do), groups,
    and each user in ``roles`` with a role of their own."""
    everyone = menu(commands, Role.ENTERPRISE)
    await bot.set_my_commands(everyone, scope=BotCommandScopeDefault())
    await bot.set_my_commands(everyone, scope=BotCommandScopeAllPrivateChats())
    await bot.set_my_commands(
        menu(commands, Role.ENTERPRISE, in_group=True), scope=BotCommandScopeAllGroupChats()
    )
    for user_id, role in sorted(roles.items()):
        await update_menu(bot, commands, user_id, role)


async def update_menu(bot: Bot, commands: Sequence[Command], user_id: int, role: Role) -> None:
    """Give one user the menu of their role (an enterprise user: the common one)."""
    scope = BotCommandScopeChat(chat_id=user_id)
    try:
        if role is Role.ENTERPRISE:
            await bot.delete_my_commands(scope=scope)
        else:
            await bot.set_my_commands(menu(commands, role), scope=scope)
    except (BadRequest, Forbidden) as exc:  # a user who never opened the bot has no chat
        _LOGGER.info("menu of user %s not set: %s", user_id, exc.message)


def help_lines(commands: Iterable[Command], role: Role, *, in_group: bool = False) -> list[str]:
    """``/cmd — what it does`` (with an example where one helps), for /help."""
    lines = []
    for command in allowed(commands, role, in_group=in_group):
        line = f"/{command.name} — {command.summary}"
        if command.usage:
            line += f"（例：{command.usage}）"
        lines.append(line)
    return lines
