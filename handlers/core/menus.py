"""What the bot offers, as data: command menus per scope, and the common questions.

``post_init`` turns ``COMMAND_MENUS`` into ``set_my_commands`` calls. A new
command (say ``/register``) is one line in the right menu(s) here plus its
handler in ``bot.app.register_handlers``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from telegram import (
    BotCommand,
    BotCommandScope,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeDefault,
)


@dataclass(frozen=True)
class MenuCommand:
    command: str
    description: str  # shown in Telegram's menu, Simplified Chinese


@dataclass(frozen=True)
class CommandMenu:
    """The commands shown in one scope: ``default``, ``private``, ``groups`` or ``staff``."""

    scope: str
    commands: tuple[MenuCommand, ...]


START = MenuCommand("start", "开始使用绿动")
HELP = MenuCommand("help", "我能做什么")
ASK = MenuCommand("ask", "提问，例如 /ask 冲天炉要淘汰吗")
REGISTER = MenuCommand("register", "企业登记（绑定企业）")
REPORT = MenuCommand("report", "填报任务进展")
MYREPORTS = MenuCommand("myreports", "查看本企业已报进展")
CANCEL = MenuCommand("cancel", "取消当前操作")
PENDING = MenuCommand("pending", "待审核的企业登记（工作人员）")

COMMAND_MENUS: tuple[CommandMenu, ...] = (
    CommandMenu("default", (START, HELP, ASK)),
    CommandMenu("private", (START, HELP, ASK, REGISTER, REPORT, MYREPORTS, CANCEL)),
    CommandMenu("groups", (ASK, HELP)),
    CommandMenu("staff", (START, HELP, ASK, PENDING, REGISTER, REPORT, MYREPORTS, CANCEL)),
)

# Buttons under /start: questions most enterprises ask first.
COMMON_QUESTIONS: tuple[str, ...] = (
    "冲天炉要淘汰吗？",
    "木器涂料执行什么标准？",
    "落后产能淘汰由哪个处负责？",
    "这个方案是哪个部门发的？",
)


def scopes_for(menu: CommandMenu, staff: Iterable[int]) -> list[BotCommandScope]:
    """The Bot API scopes a menu applies to (``staff``: the private chat of each staff
    member and administrator)."""
    if menu.scope == "default":
        return [BotCommandScopeDefault()]
    if menu.scope == "private":
        return [BotCommandScopeAllPrivateChats()]
    if menu.scope == "groups":
        return [BotCommandScopeAllGroupChats()]
    if menu.scope == "staff":
        return [BotCommandScopeChat(chat_id=user) for user in sorted(staff)]
    raise ValueError(f"unknown menu scope {menu.scope!r}")


def bot_commands(menu: CommandMenu) -> list[BotCommand]:
    return [BotCommand(c.command, c.description) for c in menu.commands]
