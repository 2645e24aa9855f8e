"""One enterprise at a time: staff and officials write to an enterprise's bound accounts,
and the enterprise replies to the sender.

``/msg 信用代码 内容`` sends at once; ``/msg 信用代码``, or the ✉️ button on an
enterprise's card (/enterprise, /reports), asks for the text first. The message goes
through the outbox to every approved account of the enterprise, with a 回复 button; the
sender sees the delivery figures (as a notice's) and can refresh them. The 回复 button
opens a one-step dialog whose text goes back to the sender — never to the question
engine. Both directions are audited (``message``, ``message_reply``), without the text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode

from handlers.core.access import (
    GONE,
    OFFICIALS_AND_STAFF,
    ROLE_NAMES,
    Actor,
    Need,
    Target,
    actor_of,
    refusal,
    refuse_target,
)
from handlers.core.callback_queries import acknowledge, parse_data
from handlers.core.context import BotData, Context
from handlers.core.dialog_access import committing
from handlers.core.dialog_shape import Ask, Flow, Go, Screen, Step, described
from handlers.core.dialogs import (
    END,
    Dialog,
    callback_tail,
    clear_draft,
    draft,
    keyboard,
    send,
    small_int,
)
from handlers.core.telegram_html import escape
from handlers.officials.notices import figures
from storage import audit
from storage import outbox as store
from storage.audiences import recipients
from storage.credit_code import check_credit_code
from storage.enterprises import Enterprise, enterprise_of_user, find_by_code, get_enterprise
from storage.fields import FieldError

DIALOG = Dialog(name="message", command="msg", title="给企业发消息", prefix="ms")
WRITE_PREFIX = "mw"  # mw:<enterprise id>, on an enterprise's card
STATUS_PREFIX = "mq"  # mq:<outbox message id>: refresh the delivery figures
REPLY = Dialog(name="message_reply", command="reply", title="回复消息", prefix="mp")
REPLY_PREFIX = "mb"  # mb:<sender user id>, under the message the enterprise received
NEED = Need(OFFICIALS_AND_STAFF, Target.ENTERPRISE)
TEXT = "TEXT"
LIMIT = 1000
USAGE = ("用法：/msg 统一社会信用代码 内容，例如 /msg 91410100MA1234567X 请补充验收材料；"
         "也可以在企业信息（/enterprise）下点“✉️ 给该企业发消息”。")
REPLY_USAGE = "请点工作人员消息下方的“回复”按钮来回复。"


def write_button(enterprise_id: int) -> list[tuple[str, str]]:
    return [("✉️ 给该企业发消息", f"{WRITE_PREFIX}:{enterprise_id}")]


def _prompt(context: Context) -> Screen:
    name = draft(context, DIALOG).get("name", "")
    return (f"请输入要发给“{escape(name)}”的消息（{LIMIT}字以内），或发送 /cancel 取消。",
            [[("取消", f"{DIALOG.prefix}:cancel")]])


def _reply_prompt(context: Context) -> Screen:
    return (f"请输入回复内容（{LIMIT}字以内），会转告给发消息的工作人员；或发送 /cancel 取消。",
            [[("取消", f"{REPLY.prefix}:cancel")]])


def may_write(context: Context, actor: Actor, kept: Mapping[str, Any]) -> str | None:
    """At every step and at the commit: the enterprise in the draft, within scope now."""
    enterprise_id = kept.get("enterprise")
    if not isinstance(enterprise_id, int):
        return None
    return refusal(NEED, actor, context.bot_data.db, enterprise_id, "发消息")


def _named(bot_data: BotData, word: str) -> int | str | None:
    """The enterprise a typed credit code names; None if none; what is wrong with a
    malformed code."""
    checked = check_credit_code(word)
    if checked.error is not None:
        return checked.error
    enterprise = find_by_code(bot_data.db, checked.code)
    return enterprise.id if enterprise is not None else None


def send_message(context: Context, sender: int, enterprise: Enterprise, text: str,
                 token: str) -> tuple[int, int]:
    """Queue ``text`` for the enterprise's bound accounts, audited, once per ``token``
    (the sender's right checked again inside); returns (outbox message id, accounts)."""
    bot_data = context.bot_data
    db = bot_data.db
    now = bot_data.now()
    role = ROLE_NAMES[actor_of(bot_data, sender).role]
    html = (f"✉️ <b>{role}的消息</b>（致{escape(enterprise.name)}）：\n{escape(text)}\n\n"
            "如需回复，请点下方“回复”。")
    markup = keyboard([[("回复", f"{REPLY_PREFIX}:{sender}")]])
    chats = recipients(db, [enterprise.id])
    with committing(context, sender, {"enterprise": enterprise.id}, token=token) as done:
        entry = audit.record(db, actor_id=sender, action="message",
                             subject=f"enterprise:{enterprise.id}", now=now,
                             accounts=len(chats))
        message = store.Message(
            key=f"message:{entry}", kind="message", text=html,
            markup=json.dumps(markup.to_dict(), ensure_ascii=False) if markup else None)
        message_id, _ = store.enqueue(db, message, chats, now=now,
                                      priority=store.Priority.PERSONAL)
        done(f"给{enterprise.name}的消息")
    bot_data.outbox.wake()
    return message_id, len(chats)


def _sent_text(enterprise: Enterprise, accounts: int, message_id: int,
               bot_data: BotData) -> str:
    counts = store.counts(bot_data.db, message_id)
    return (f"✅ 已发给“{escape(enterprise.name)}”的{accounts}个绑定账号。"
            f"\n送达情况：{figures(counts)}")


def _status_keyboard(message_id: int) -> InlineKeyboardMarkup | None:
    return keyboard([[("刷新送达情况", f"{STATUS_PREFIX}:{message_id}")]])


async def _deliver(update: Update, context: Context, enterprise: Enterprise, text: str,
                   token: str) -> Go:
    user = update.effective_user
    assert user is not None
    bot_data = context.bot_data
    if not recipients(bot_data.db, [enterprise.id]):
        await send(update, context, f"“{escape(enterprise.name)}”还没有已审核的绑定账号，"
                                    "消息无法送达。")
        return END
    message_id, accounts = send_message(context, user.id, enterprise, text, token)
    await send(update, context, _sent_text(enterprise, accounts, message_id, bot_data),
               _status_keyboard(message_id))
    return END


async def start(update: Update, context: Context) -> Go:
    user = update.effective_user
    assert user is not None
    bot_data = context.bot_data
    tail = callback_tail(update, context, WRITE_PREFIX)
    words = list(context.args or ()) if tail is None else []
    if tail is not None:
        if update.callback_query is not None:
            await acknowledge(update.callback_query)
        enterprise_id = small_int(tail, 15)
    elif words:
        named = _named(bot_data, words[0])
        if isinstance(named, str):
            await send(update, context, escape(named))
            return END
        enterprise_id = named
    else:
        await send(update, context, USAGE)
        return END
    # a code typed or a button's id: the same check (the guard checked the button too)
    reason = refuse_target(actor_of(bot_data, user.id), bot_data.db, NEED, enterprise_id,
                           "发消息")
    enterprise = get_enterprise(bot_data.db, enterprise_id) if (
        reason is None and enterprise_id is not None) else None
    if enterprise is None:
        await send(update, context, escape(reason or GONE))
        return END
    text = " ".join(words[1:]).strip()
    if text:
        checked = described(text, LIMIT, "消息")
        if isinstance(checked, FieldError):
            await send(update, context, escape(checked.message))
            return END
        return await _deliver(update, context, enterprise, checked,
                              f"update:{update.update_id}")
    clear_draft(context, DIALOG)
    data = draft(context, DIALOG)
    data["enterprise"], data["name"] = enterprise.id, enterprise.name
    return Ask(TEXT)


async def got_text(update: Update, context: Context, text: str) -> Go:
    data = draft(context, DIALOG)
    enterprise = get_enterprise(context.bot_data.db, int(data["enterprise"]))
    token = str(data.get("token") or f"update:{update.update_id}")
    if enterprise is None:
        clear_draft(context, DIALOG)
        await send(update, context, "找不到这家企业了。")
        return END
    outcome = await _deliver(update, context, enterprise, text, token)
    clear_draft(context, DIALOG)
    return outcome


async def start_reply(update: Update, context: Context) -> Go:
    user = update.effective_user
    assert user is not None
    tail = callback_tail(update, context, REPLY_PREFIX)
    if update.callback_query is not None:
        await acknowledge(update.callback_query)
    sender = small_int(tail, 15) if tail is not None else None
    membership = enterprise_of_user(context.bot_data.db, user.id)
    if sender is None or membership is None:
        await send(update, context, REPLY_USAGE)
        return END
    clear_draft(context, REPLY)
    data = draft(context, REPLY)
    data["to"], data["sender_enterprise"] = sender, membership.enterprise.id
    return Ask(TEXT)


async def got_reply(update: Update, context: Context, checked: str) -> Go:
    user = update.effective_user
    assert user is not None
    bot_data = context.bot_data
    data = dict(draft(context, REPLY))
    token = str(data.get("token") or f"update:{update.update_id}")
    enterprise = get_enterprise(bot_data.db, int(data["sender_enterprise"]))
    name = enterprise.name if enterprise is not None else "企业"
    code = enterprise.credit_code if enterprise is not None else ""
    now = bot_data.now()
    with committing(context, user.id, data, token=token) as done:
        entry = audit.record(bot_data.db, actor_id=user.id, action="message_reply",
                             subject=f"enterprise:{data['sender_enterprise']}", now=now,
                             to=int(data["to"]))
        bot_data.outbox.queue(
            store.Message(key=f"message_reply:{entry}", kind="message_reply",
                          text=(f"↩️ <b>{escape(name)}的回复</b>：\n{escape(checked)}\n\n"
                                f"继续沟通：/msg {escape(code)} 内容")),
            [int(data["to"])], priority=store.Priority.PERSONAL)
        done(f"{name}的回复")
    clear_draft(context, REPLY)
    await send(update, context, "✅ 已转告工作人员。")
    return END


async def on_status(update: Update, context: Context) -> None:
    """``mq:<outbox message id>``: the sender refreshes the delivery figures."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    parsed = parse_data(query.data, STATUS_PREFIX, 1)
    bot_data = context.bot_data
    row = None if parsed is None else bot_data.db.execute(
        "SELECT key FROM outbox_messages WHERE id = ?", (parsed[0],)).fetchone()
    entry = small_int(str(row[0]).removeprefix("message:"), 15) if row else None
    sent = None if entry is None else bot_data.db.execute(
        "SELECT actor_id, subject, detail FROM audit_log WHERE id = ?", (entry,)).fetchone()
    if parsed is None or sent is None or sent[0] != query.from_user.id:
        await acknowledge(query, "找不到这条消息。")
        return
    enterprise = get_enterprise(bot_data.db, int(str(sent[1]).split(":")[1]))
    await acknowledge(query)
    if enterprise is None:
        return
    accounts = int(json.loads(sent[2] or "{}").get("accounts", 0))
    text = _sent_text(enterprise, accounts, parsed[0], bot_data)
    if query.message is not None and getattr(query.message, "text", None) != text:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML,
                                      reply_markup=_status_keyboard(parsed[0]))


FLOW = Flow(DIALOG, start, (
    Step(TEXT, _prompt, parse=lambda c, text: described(text, LIMIT, "消息"),
         accept=got_text, commits=True),
), entry_button=WRITE_PREFIX, check=may_write)

REPLY_FLOW = Flow(REPLY, start_reply, (
    Step(TEXT, _reply_prompt, parse=lambda c, text: described(text, LIMIT, "回复"),
         accept=got_reply, commits=True),
), entry_button=REPLY_PREFIX)
