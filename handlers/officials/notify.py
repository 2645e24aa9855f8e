"""/notify: an official sends a notice to enterprises of their scope.

Steps: audience (all / a city / an industry / not done with a task, limited to the
official's scope) → its city, industry or task → text → preview with the exact
number of recipients → send now, or at a chosen time → confirmation. The
confirmation message becomes the notice's progress, edited as it goes out.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, ConversationHandler, MessageHandler
from telegram.ext import filters as tg_filters

from handlers.core.access import actor_of
from handlers.core.context import Context
from handlers.core.dialogs import (
    END,
    Dialog,
    callback_tail,
    clear_draft,
    close_buttons,
    conversation_handler,
    dialog_step,
    draft,
    draft_scope,
    in_rows,
    keyboard,
    send,
    show_prompt,
    small_int,
    start_scoped,
    text_of,
)
from handlers.core.industries import read_industries
from handlers.core.telegram_html import escape
from handlers.officials.notices import card, preview, queue_notice
from storage.audiences import Audience, AudienceKind
from storage.clock import format_local, from_db, to_db
from storage.fields import FieldError, parse_description, parse_send_time, parse_task_number
from storage.notices import set_progress_message
from storage.regions import REGIONS, normalize_region
from storage.users import Scope

DIALOG = Dialog(name="notify", command="notify", title="发送通知", prefix="nt")
PREFIX = DIALOG.prefix
TEXT_LIMIT = 1000

AUDIENCE = "AUDIENCE"
CITY = "CITY"
INDUSTRY = "INDUSTRY"
TASK = "TASK"
TEXT = "TEXT"
PREVIEW = "PREVIEW"
WHEN = "WHEN"

KINDS = {
    AudienceKind.ALL: "全部已审核企业",
    AudienceKind.CITY: "某个地市的企业",
    AudienceKind.INDUSTRY: "某个行业的企业",
    AudienceKind.TASK: "尚未完成某项任务的企业",
}


def _audience(context: Context) -> Audience | None:
    data = draft(context, DIALOG)
    kind = data.get("kind")
    if kind is None or (kind != AudienceKind.ALL.value and not data.get("value")):
        return None
    return Audience(AudienceKind(kind), str(data.get("value") or ""))


def _prompt(context: Context, state: str) -> tuple[str, InlineKeyboardMarkup | None]:
    data = draft(context, DIALOG)
    scope = draft_scope(context, DIALOG)
    if state == AUDIENCE:
        buttons = [(label, f"{PREFIX}:aud:{kind.value}") for kind, label in KINDS.items()]
        return (f"<b>发送通知</b>（随时可发送 /cancel 取消）\n您负责的范围：{scope.describe()}\n\n"
                "第1步：发给谁？", keyboard(in_rows(buttons, 2)))
    if state == CITY:
        regions = [r for r in REGIONS if scope.covers(r)]
        buttons = [(r, f"{PREFIX}:city:{REGIONS.index(r)}") for r in regions]
        return "请选择地市（也可以直接输入名称）：", keyboard(in_rows(buttons, 3))
    if state == INDUSTRY:
        names = [choice.name for choice in context.bot_data.kb.industry_choices]
        buttons = [(name, f"{PREFIX}:ind:{i}") for i, name in enumerate(names)]
        return "请选择行业（也可以直接输入名称）：", keyboard(in_rows(buttons, 3))
    if state == TASK:
        kb = context.bot_data.kb
        numbers = kb.task_numbers
        done = "或".join(f"“{name}”" for name in kb.done_statuses)
        return (f"请输入任务编号（{min(numbers)}–{max(numbers)}）。将发给该任务涉及、"
                f"且尚未报告{escape(done)}的已审核企业。", None)
    if state == TEXT:
        return f"第2步：请输入通知内容（{TEXT_LIMIT}字以内）。", None
    if state == WHEN:
        return "请输入发送时间（北京时间），例如 2026-12-05 09:00、明天 9:00 或 下午3点。", None
    if state == PREVIEW:
        audience = _audience(context)
        assert audience is not None
        shown = data.get("preview") or _count(context)
        send_at = data.get("send_at")
        when = f"定时：{format_local(from_db(send_at))}" if send_at else "立即"
        where = Scope(frozenset(shown["regions"])).describe()
        lines = [
            "<b>预览</b>",
            f"发给：{escape(audience.describe())}（{escape(where)}）",
            f"企业：{shown['enterprises']}家；接收人：<b>{shown['count']}</b>位"
            + (f"（{shown['unreachable']}家未加入，无法送达）" if shown.get("unreachable") else ""),
            f"发送：{when}",
            "——————",
            escape(str(data.get("text", ""))),
        ]
        if not shown["count"]:
            lines.append("\n⚠️ 没有符合条件的接收人（企业须已审核并绑定账号）。"
                         "请修改发送对象或取消。")
            row = [("修改对象", f"{PREFIX}:aud"), ("取消", f"{PREFIX}:cancel")]
            return "\n".join(lines), keyboard([row])
        send = ("确认定时发送" if send_at else "立即发送", f"{PREFIX}:send")
        return "\n".join(lines), keyboard([
            [send, ("定时发送" if not send_at else "改时间", f"{PREFIX}:when")],
            [("修改内容", f"{PREFIX}:text"), ("修改对象", f"{PREFIX}:aud"),
             ("取消", f"{PREFIX}:cancel")],
        ])
    raise ValueError(f"unknown state {state}")


async def ask(update: Update, context: Context, state: str, error: str | None = None) -> str:
    return await show_prompt(update, context, _prompt, state, error)


def _count(context: Context) -> dict[str, Any]:
    audience = _audience(context)
    assert audience is not None
    shown = preview(context.bot_data.db, context.bot_data.kb, audience,
                    draft_scope(context, DIALOG))
    return {"regions": sorted(shown.regions), "enterprises": shown.enterprises,
            "count": len(shown.recipients), "unreachable": shown.unreachable}


def _previewed(context: Context) -> str:
    """Count the audience for the preview, once: showing the step again (a typed label,
    a wrong answer) shows the same figures, and confirm compares with what was shown."""
    draft(context, DIALOG)["preview"] = _count(context)
    return PREVIEW


def _next_after_audience(context: Context) -> str:
    return _previewed(context) if draft(context, DIALOG).get("text") else TEXT


@dialog_step(DIALOG, entry=True)
async def start(update: Update, context: Context) -> object:
    user = update.effective_user
    assert user is not None
    actor = actor_of(context.bot_data, user.id)
    start_scoped(context, DIALOG, actor.scope)
    return await ask(update, context, AUDIENCE)


@dialog_step(DIALOG)
async def audience_button(update: Update, context: Context) -> object:
    tail = callback_tail(update, context, f"{PREFIX}:aud") or ""
    await close_buttons(update)
    data = draft(context, DIALOG)
    if tail not in {k.value for k in AudienceKind}:
        return await ask(update, context, AUDIENCE)
    data["kind"], data["value"] = tail, ""
    if tail == AudienceKind.ALL.value:
        return await ask(update, context, _next_after_audience(context))
    return await ask(update, context, {"city": CITY, "industry": INDUSTRY, "task": TASK}[tail])


@dialog_step(DIALOG)
async def audience_text(update: Update, context: Context) -> object:
    return await ask(update, context, AUDIENCE, "请点击下方按钮选择发送对象。")


@dialog_step(DIALOG)
async def change_audience(update: Update, context: Context) -> object:
    await close_buttons(update)
    return await ask(update, context, AUDIENCE)


async def _set_value(update: Update, context: Context, value: str) -> object:
    draft(context, DIALOG)["value"] = value
    return await ask(update, context, _next_after_audience(context))


@dialog_step(DIALOG)
async def city_button(update: Update, context: Context) -> object:
    tail = callback_tail(update, context, f"{PREFIX}:city") or ""
    await close_buttons(update)
    index = small_int(tail)
    if index is None or index >= len(REGIONS):
        return await ask(update, context, CITY)
    return await _city(update, context, REGIONS[index])


@dialog_step(DIALOG)
async def city_text(update: Update, context: Context) -> object:
    city = normalize_region(text_of(update))
    if city is None:
        return await ask(update, context, CITY, "没有这个地市，请点选下方按钮。")
    return await _city(update, context, city)


async def _city(update: Update, context: Context, city: str) -> object:
    scope = draft_scope(context, DIALOG)
    if not scope.covers(city):
        return await ask(update, context, CITY, f"{city}不在您负责的范围（{scope.describe()}）内。")
    return await _set_value(update, context, city)


@dialog_step(DIALOG)
async def industry_button(update: Update, context: Context) -> object:
    tail = callback_tail(update, context, f"{PREFIX}:ind") or ""
    await close_buttons(update)
    names = [choice.name for choice in context.bot_data.kb.industry_choices]
    index = small_int(tail)
    if index is None or index >= len(names):
        return await ask(update, context, INDUSTRY)
    return await _set_value(update, context, names[index])


@dialog_step(DIALOG)
async def industry_text(update: Update, context: Context) -> object:
    kb = context.bot_data.kb
    reading = read_industries(text_of(update), kb.industry_choices, kb.aliases)
    if len(reading.found) != 1 or reading.unknown or reading.ambiguous:
        return await ask(update, context, INDUSTRY, "请点选下方按钮中的一个行业。")
    return await _set_value(update, context, reading.found[0].name)


@dialog_step(DIALOG)
async def task_text(update: Update, context: Context) -> object:
    task = parse_task_number(text_of(update), context.bot_data.kb.task_numbers)
    if isinstance(task, FieldError):
        return await ask(update, context, TASK, task.message)
    if task not in context.bot_data.kb.concern():
        return await ask(update, context, TASK,
                         f"任务{task}是政府部门的工作，不涉及企业。请换一项任务，或按地市、行业发送。")
    return await _set_value(update, context, str(task))


@dialog_step(DIALOG)
async def got_text(update: Update, context: Context) -> object:
    text = parse_description(text_of(update), limit=TEXT_LIMIT, required=True)
    if isinstance(text, FieldError):
        return await ask(update, context, TEXT, text.message.replace("情况说明", "通知内容"))
    draft(context, DIALOG)["text"] = text
    return await ask(update, context, _previewed(context))


@dialog_step(DIALOG)
async def edit_text(update: Update, context: Context) -> object:
    await close_buttons(update)
    return await ask(update, context, TEXT)


@dialog_step(DIALOG)
async def choose_time(update: Update, context: Context) -> object:
    await close_buttons(update)
    return await ask(update, context, WHEN)


@dialog_step(DIALOG)
async def got_time(update: Update, context: Context) -> object:
    when = parse_send_time(text_of(update), now=context.bot_data.now())
    if isinstance(when, FieldError):
        return await ask(update, context, WHEN, when.message)
    draft(context, DIALOG)["send_at"] = to_db(when)
    return await ask(update, context, _previewed(context))


@dialog_step(DIALOG)
async def preview_text(update: Update, context: Context) -> object:
    return await ask(update, context, PREVIEW, "请点击下方按钮：发送、定时、修改或取消。")


@dialog_step(DIALOG)
async def confirm(update: Update, context: Context) -> object:
    user = update.effective_user
    chat = update.effective_chat
    assert user is not None and chat is not None
    await close_buttons(update, "正在排队…")
    data = draft(context, DIALOG)
    audience = _audience(context)
    if audience is None or not data.get("text"):
        clear_draft(context, DIALOG)
        await send(update, context, "通知信息不完整，请重新发送 /notify。")
        return END
    bot_data = context.bot_data
    now = bot_data.now()
    send_at = from_db(data["send_at"]) if data.get("send_at") else now
    if send_at < now:
        data.pop("send_at", None)
        return await ask(update, context, _previewed(context), "定时的时间已经过去，请重新选择。")
    notice, count = queue_notice(
        bot_data.db, bot_data.kb, by=user.id, scope=draft_scope(context, DIALOG), audience=audience,
        text=str(data["text"]), send_at=send_at, now=now,
    )
    clear_draft(context, DIALOG)
    bot_data.outbox.wake()
    shown = (data.get("preview") or {}).get("count")
    changed = "" if count == shown else f"（预览后接收人数有变化，以{count}位为准）"
    text, markup = card(bot_data.db, notice, now)
    message = await context.bot.send_message(chat.id, text + changed, parse_mode="HTML",
                                             reply_markup=markup)
    set_progress_message(bot_data.db, notice.id, chat.id, message.message_id)
    return END


def conversation(timeout: float | None) -> ConversationHandler[Any]:
    text = tg_filters.TEXT & ~tg_filters.COMMAND
    states: dict[object, list[BaseHandler[Update, Any, Any]]] = {
        AUDIENCE: [CallbackQueryHandler(audience_button, pattern=rf"^{PREFIX}:aud:"),
                   MessageHandler(text, audience_text)],
        CITY: [CallbackQueryHandler(city_button, pattern=rf"^{PREFIX}:city:"),
               MessageHandler(text, city_text)],
        INDUSTRY: [CallbackQueryHandler(industry_button, pattern=rf"^{PREFIX}:ind:"),
                   MessageHandler(text, industry_text)],
        TASK: [MessageHandler(text, task_text)],
        TEXT: [MessageHandler(text, got_text)],
        WHEN: [MessageHandler(text, got_time)],
        PREVIEW: [CallbackQueryHandler(confirm, pattern=rf"^{PREFIX}:send$"),
                  CallbackQueryHandler(choose_time, pattern=rf"^{PREFIX}:when$"),
                  CallbackQueryHandler(edit_text, pattern=rf"^{PREFIX}:text$"),
                  CallbackQueryHandler(change_audience, pattern=rf"^{PREFIX}:aud$"),
                  MessageHandler(text, preview_text)],
    }
    return conversation_handler(
        DIALOG, states=states, entry=start, prompt=_prompt, timeout=timeout
    )
