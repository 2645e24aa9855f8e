"""/deadline: officials add deadlines to the calendar (and withdraw their own).

``/deadline`` lists the deadlines the official added, each with a 撤销 button;
``/deadline add`` asks: task → date → industries (multi-select; none: the task's
own) → regions (within the official's scope; none: all of it) → what must be done →
confirm. Added deadlines are reminded of like the plan's own.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, ConversationHandler, MessageHandler
from telegram.ext import filters as tg_filters

from handlers.core.access import Need, actor_of
from handlers.core.callback_queries import acknowledge, parse_data
from handlers.core.context import Context
from handlers.core.dialog_access import committing
from handlers.core.dialogs import (
    END,
    STEP,
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
from handlers.core.telegram_html import escape
from storage import audit
from storage.calendar import add_deadline, added_deadlines, cancel_deadline
from storage.clock import local_today
from storage.db import transaction
from storage.fields import FieldError, parse_date, parse_description, parse_task_number
from storage.regions import REGIONS

DIALOG = Dialog(name="deadline", command="deadline", title="新增截止日期", prefix="dl")
PREFIX = DIALOG.prefix
WITHDRAW_PREFIX = "dx"  # dx:<deadline id>

TASK = "TASK"
DATE = "DATE"
INDUSTRIES = "INDUSTRIES"
REGIONS_STEP = "REGIONS"
WHAT = "WHAT"
CONFIRM = "CONFIRM"

USAGE = "发送 /deadline add 新增一个截止日期。"


def _prompt(context: Context, state: str) -> tuple[str, InlineKeyboardMarkup | None]:
    data = draft(context, DIALOG)
    kb = context.bot_data.kb
    if state == TASK:
        numbers = kb.task_numbers
        return (f"<b>新增截止日期</b>（随时可发送 /cancel 取消）\n第1步：哪项任务？请输入任务编号"
                f"（{min(numbers)}–{max(numbers)}）。", None)
    if state == DATE:
        return "第2步：截止日期？例如 2027-03-31 或 3月底。", None
    if state == INDUSTRIES:
        chosen = set(data.get("industries") or ())
        buttons = [(("✅ " if n in chosen else "") + n, f"{PREFIX}:ind:{i}")
                   for i, n in enumerate(kb.industries)]
        shown = "、".join(n for n in kb.industries if n in chosen) or "（不选：该任务涉及的企业）"
        return (f"第3步：涉及哪些行业？可多选，选好后点“完成”。\n已选：{escape(shown)}",
                keyboard([*in_rows(buttons, 3), [("完成", f"{PREFIX}:ind:done")]]))
    if state == REGIONS_STEP:
        scope = draft_scope(context, DIALOG)
        chosen = set(data.get("regions") or ())
        regions = [r for r in REGIONS if scope.covers(r)]
        buttons = [(("✅ " if r in chosen else "") + r, f"{PREFIX}:reg:{REGIONS.index(r)}")
                   for r in regions]
        shown = "、".join(r for r in REGIONS if r in chosen) or f"（不选：{scope.describe()}）"
        return (f"第4步：哪些地市？可多选，选好后点“完成”。\n已选：{escape(shown)}",
                keyboard([*in_rows(buttons, 3), [("完成", f"{PREFIX}:reg:done")]]))
    if state == WHAT:
        return "第5步：请写明到期要完成什么（200字以内）。", None
    if state == CONFIRM:
        industry_words = "、".join(data.get("industries") or ()) or "该任务涉及的企业"
        region_words = ("、".join(data.get("regions") or ())
                        or draft_scope(context, DIALOG).describe())
        task = int(data["task"])
        text = "\n".join([
            "<b>新增截止日期</b>",
            f"任务{task}：{escape(kb.task(task).title)}",
            f"截止：{data['due']}",
            f"行业：{escape(industry_words)}",
            f"地市：{escape(region_words)}",
            f"要求：{escape(str(data.get('what', '')))}",
        ])
        return text, keyboard([[("确认添加", f"{PREFIX}:ok"), ("取消", f"{PREFIX}:cancel")]])
    raise ValueError(f"unknown state {state}")


async def ask(update: Update, context: Context, state: str, error: str | None = None) -> str:
    return await show_prompt(update, context, _prompt, state, error)


@dialog_step(DIALOG, entry=True)
async def start(update: Update, context: Context) -> object:
    """``/deadline add`` starts the dialog; ``/deadline`` lists one's own deadlines."""
    if [a.lower() for a in context.args or ()][:1] != ["add"]:
        await _list_own(update, context)
        return END
    user = update.effective_user
    assert user is not None
    actor = actor_of(context.bot_data, user.id)
    start_scoped(context, DIALOG, actor.scope)
    return await ask(update, context, TASK)


async def _list_own(update: Update, context: Context) -> None:
    user = update.effective_user
    assert user is not None
    bot_data = context.bot_data
    mine = [e for e in added_deadlines(bot_data.db, bot_data.kb.concern())
            if e.added_by == user.id]
    if not mine:
        await send(update, context, f"您还没有新增过截止日期。{USAGE}")
        return
    lines = ["<b>您新增的截止日期</b>"]
    buttons = []
    for entry in mine:
        number = entry.key.removeprefix("db:")
        lines.append(f"#{number} {entry.due.isoformat()} 任务{entry.task}：{escape(entry.what)}")
        buttons.append((f"撤销 #{number}", f"{WITHDRAW_PREFIX}:{number}"))
    lines.append(USAGE)
    await send(update, context, "\n".join(lines), keyboard(in_rows(buttons, 3)))


@dialog_step(DIALOG)
async def got_task(update: Update, context: Context) -> object:
    task = parse_task_number(text_of(update), context.bot_data.kb.task_numbers)
    if isinstance(task, FieldError):
        return await ask(update, context, TASK, task.message)
    draft(context, DIALOG)["task"] = task
    return await ask(update, context, DATE)


@dialog_step(DIALOG)
async def got_date(update: Update, context: Context) -> object:
    today = local_today(context.bot_data.now())
    due = parse_date(text_of(update), today=today, prefer="future")
    if isinstance(due, FieldError):
        return await ask(update, context, DATE, due.message)
    if due < today:
        return await ask(update, context, DATE, f"{due.isoformat()} 已经过去了，请填写将来的日期。")
    draft(context, DIALOG)["due"] = due.isoformat()
    return await ask(update, context, INDUSTRIES)


def _toggle(values: list[str], value: str, order: tuple[str, ...]) -> list[str]:
    chosen = set(values) ^ {value}
    return [item for item in order if item in chosen]


@dialog_step(DIALOG)
async def industry_button(update: Update, context: Context) -> object:
    tail = callback_tail(update, context, f"{PREFIX}:ind") or ""
    data = draft(context, DIALOG)
    names = context.bot_data.kb.industries
    if tail == "done":
        task = int(data["task"])
        if not data.get("industries") and task not in context.bot_data.kb.concern():
            await close_buttons(update)
            return await ask(update, context, INDUSTRIES,
                             f"任务{task}不涉及企业，请至少选择一个行业。")
        await close_buttons(update)
        return await ask(update, context, REGIONS_STEP)
    index = small_int(tail)
    if index is not None and index < len(names):
        data["industries"] = _toggle(list(data.get("industries") or ()), names[index], names)
    return await _redraw(update, context, INDUSTRIES)


@dialog_step(DIALOG)
async def region_button(update: Update, context: Context) -> object:
    tail = callback_tail(update, context, f"{PREFIX}:reg") or ""
    data = draft(context, DIALOG)
    if tail == "done":
        await close_buttons(update)
        return await ask(update, context, WHAT)
    index = small_int(tail)
    chosen = REGIONS[index] if index is not None and index < len(REGIONS) else None
    if chosen is not None and draft_scope(context, DIALOG).covers(chosen):
        data["regions"] = _toggle(list(data.get("regions") or ()), chosen, REGIONS)
    return await _redraw(update, context, REGIONS_STEP)


async def _redraw(update: Update, context: Context, state: str) -> str:
    """A multi-select button was toggled: show the same prompt, updated, in place (a
    typed label: below it)."""
    query = update.callback_query
    if query is None:
        return await ask(update, context, state)
    text, markup = _prompt(context, state)
    await acknowledge(query)
    await query.edit_message_text(text, parse_mode="HTML", reply_markup=markup)
    return state


@dialog_step(DIALOG)
async def use_buttons(update: Update, context: Context) -> object:
    step = draft(context, DIALOG).get(STEP)
    state = step if isinstance(step, str) else INDUSTRIES
    return await ask(update, context, state, "请点击下方按钮选择，选好后点“完成”。")


@dialog_step(DIALOG)
async def got_what(update: Update, context: Context) -> object:
    what = parse_description(text_of(update), limit=200, required=True)
    if isinstance(what, FieldError):
        return await ask(update, context, WHAT, what.message.replace("情况说明", "要求"))
    draft(context, DIALOG)["what"] = what
    return await ask(update, context, CONFIRM)


@dialog_step(DIALOG)
async def confirm_text(update: Update, context: Context) -> object:
    return await ask(update, context, CONFIRM, "请点击下方的“确认添加”或“取消”。")


@dialog_step(DIALOG)
async def confirm(update: Update, context: Context) -> object:
    user = update.effective_user
    assert user is not None
    await close_buttons(update, "正在保存…")
    data = draft(context, DIALOG)
    bot_data = context.bot_data
    scope = draft_scope(context, DIALOG)
    regions = list(data.get("regions") or ()) or sorted(scope.regions)
    now = bot_data.now()
    with committing(context, user.id, data):  # still an official of that scope, now
        deadline_id = add_deadline(
            bot_data.db, task=int(data["task"]), due=dt.date.fromisoformat(data["due"]),
            what=str(data["what"]), industries=data.get("industries") or (), regions=regions,
            by=user.id, now=now,
        )
        audit.record(bot_data.db, actor_id=user.id, action="deadline_add",
                     subject=f"deadline:{deadline_id}", now=now, task=int(data["task"]),
                     due=data["due"], regions=regions)
    clear_draft(context, DIALOG)
    await send(update, context, f"✅ 已添加截止日期 #{deadline_id}，将按时提醒相关企业。"
                                "发送 /deadlines 查看日程。")
    return END


async def on_withdraw(update: Update, context: Context) -> None:
    """``dx:<id>``: withdraw one's deadline (the access policy checked owner and scope)."""
    query = update.callback_query
    if query is None:
        return
    parsed = parse_data(query.data, WITHDRAW_PREFIX, 1)
    if parsed is None:
        await acknowledge(query)
        return
    bot_data = context.bot_data
    now = bot_data.now()
    with transaction(bot_data.db):
        done = cancel_deadline(bot_data.db, parsed[0], by=query.from_user.id, now=now)
        if done:
            audit.record(bot_data.db, actor_id=query.from_user.id, action="deadline_cancel",
                         subject=f"deadline:{parsed[0]}", now=now)
    await acknowledge(query, f"已撤销 #{parsed[0]}。" if done else "该截止日期已撤销过了。")


def conversation(timeout: float | None, need: Need) -> ConversationHandler[Any]:
    text = tg_filters.TEXT & ~tg_filters.COMMAND
    states: dict[object, list[BaseHandler[Update, Any, Any]]] = {
        TASK: [MessageHandler(text, got_task)],
        DATE: [MessageHandler(text, got_date)],
        INDUSTRIES: [CallbackQueryHandler(industry_button, pattern=rf"^{PREFIX}:ind:"),
                     MessageHandler(text, use_buttons)],
        REGIONS_STEP: [CallbackQueryHandler(region_button, pattern=rf"^{PREFIX}:reg:"),
                       MessageHandler(text, use_buttons)],
        WHAT: [MessageHandler(text, got_what)],
        CONFIRM: [CallbackQueryHandler(confirm, pattern=rf"^{PREFIX}:ok$"),
                  MessageHandler(text, confirm_text)],
    }
    return conversation_handler(
        DIALOG, states=states, entry=start, prompt=_prompt, timeout=timeout, need=need
    )
