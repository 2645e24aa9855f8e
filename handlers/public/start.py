"""/start and /help: what the bot can do, with buttons for common questions; and the
short reply to a greeting ("你好", "hello", a stray "1"), which is no question.

The plan is always named by the knowledge base's title (``kb.title``): another
plan's YAML shows its own.
"""

from __future__ import annotations

import unicodedata

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode

from handlers.core.access import ROLE_NAMES
from handlers.core.callback_queries import acknowledge, parse_data
from handlers.core.context import Context
from handlers.core.menus import COMMON_QUESTIONS, help_lines
from handlers.core.telegram_html import escape
from handlers.public.answering import COMMON_PREFIX, answer_question
from storage.users import Role, role_of

WELCOME = (
    "<b>您好{name}！我是绿动</b>，解答企业关于"
    "{title}的问题。\n\n"
    "直接发送您的问题即可，例如：冲天炉要淘汰吗？\n"
    "每个回答都会注明<b>依据</b>（方案条款和负责处室）。"
)
ENTERPRISE_STEPS = ("\n\n<b>企业填报</b>：先发送 /register 登记（绑定）本企业，"
                    "工作人员审核通过后，用 /report 填报各项任务的进展。")
HELP = (
    "<b>使用方法</b>\n"
    "• 私聊：直接发送问题。\n"
    "• 群聊：@我 再加问题，或发送 /ask 问题。\n"
    "• 回答下方的 👍/👎 帮助我们改进。\n"
    "• 拿不准时，我会给出几个相关问题供您点选。"
)
HELP_COMMANDS = "<b>您可以使用的命令</b>（{role}）"
UNKNOWN_COMMAND = "没有这个命令。发送 /help 查看我能做什么，或直接输入您的问题。"
GREETING = "您好{name}！我是绿动，解答{title}的问题。请直接输入问题，或点下面的常见问题："

_GREETINGS = frozenset({
    "你好", "您好", "你们好", "大家好", "嗨", "哈喽", "哈啰", "嘿", "喂", "在吗", "在么", "在不在",
    "有人吗", "早", "早上好", "上午好", "中午好", "下午好", "晚上好", "早安", "晚安",
    "hello", "hi", "hey", "hallo", "helo", "hola", "yo", "start", "test", "测试",
})


_THANKS = frozenset({
    "谢谢", "多谢", "感谢", "谢了", "谢谢你", "谢谢您", "非常感谢", "太感谢了", "辛苦了",
    "好的", "好", "收到", "明白", "明白了", "知道了", "ok", "okay", "thanks", "thank you", "thx",
})
THANKS_REPLY = "不客气！还有问题随时发给我。"


def is_thanks(text: str) -> bool:
    """Thanks or an acknowledgement (谢谢！, 好的), not a question."""
    kept = text.strip().strip("!！。.~～ 啊呀哈").lower()
    return kept in _THANKS


async def thank(update: Update, context: Context) -> None:
    """谢谢 gets 不客气, not the engine's "describe your question"."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(THANKS_REPLY)


def is_greeting(text: str) -> bool:
    """A greeting or a stray key, not a question: a greeting word (with 啊/呀/！ and the
    like), a short number ("1"), or nothing but symbols and emoji."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    kept = "".join(ch for ch in folded if unicodedata.category(ch)[0] in "LN")
    if not kept:
        return True
    if kept.isdecimal() and len(kept) <= 3:
        return True
    kept = kept.rstrip("啊呀呢吖哇哈鸭")
    return kept in _GREETINGS or kept.replace("绿动", "").replace("机器人", "") in _GREETINGS


def common_questions_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(q, callback_data=f"{COMMON_PREFIX}:{i}")]
         for i, q in enumerate(COMMON_QUESTIONS)]
    )


async def start(update: Update, context: Context) -> None:
    message = update.effective_message
    if message is None:
        return
    title = escape(context.bot_data.kb.title)
    user = update.effective_user
    role = role_of(context.bot_data.db, user.id, context.bot_data.admins) if user else None
    steps = ENTERPRISE_STEPS if role is Role.ENTERPRISE else ""
    await message.reply_text(
        WELCOME.format(name=_name(update), title=title) + steps + "\n\n常见问题：",
        parse_mode=ParseMode.HTML,
        reply_markup=common_questions_keyboard(),
    )


def _name(update: Update) -> str:
    user = update.effective_user
    return f"，{escape(user.first_name)}" if user and user.first_name else ""


async def greet(update: Update, context: Context) -> None:
    """A greeting gets a short greeting and the common questions, not the engine."""
    message = update.effective_message
    if message is None:
        return
    title = escape(context.bot_data.kb.title)
    await message.reply_text(
        GREETING.format(name=_name(update), title=title),
        parse_mode=ParseMode.HTML,
        reply_markup=common_questions_keyboard(),
    )


async def show_help(update: Update, context: Context) -> None:
    """How to ask, then the commands this user may use (from the access declaration)."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    role = role_of(context.bot_data.db, user.id, context.bot_data.admins)
    in_group = update.effective_chat is not None and update.effective_chat.type != "private"
    lines = help_lines(context.bot_data.commands, role, in_group=in_group)
    text = "\n\n".join([HELP, HELP_COMMANDS.format(role=ROLE_NAMES[role]),
                         "\n".join(escape(line) for line in lines)])
    await message.reply_text(text, parse_mode=ParseMode.HTML)


async def common_question(update: Update, context: Context) -> None:
    """A click on one of the /start buttons asks that question."""
    query = update.callback_query
    if query is None or update.effective_chat is None:
        return
    await acknowledge(query)
    parsed = parse_data(query.data, COMMON_PREFIX, 1)
    if parsed is None or not 0 <= parsed[0] < len(COMMON_QUESTIONS):
        return
    question = COMMON_QUESTIONS[parsed[0]]
    await answer_question(
        context, question=question, user_id=query.from_user.id, chat_id=update.effective_chat.id
    )


async def unknown_command(update: Update, context: Context) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_text(UNKNOWN_COMMAND)
