"""/report: an enterprise reports its progress on one of the plan's tasks.

Steps: task (buttons, the tasks concerning the enterprise's industries first) →
status → progress % (statuses that ask for it, may skip) → description → date
(expected, actual or optional, as the status says) → attachments (photos/PDF, may be
none) → summary with 确认 / 修改 / 取消. The report number is sent only after
``add_report`` committed.

The plan's shape comes from the knowledge base: task numbers and titles
(``kb.tasks``), the statuses and what each asks (``kb.statuses``), which tasks
concern the enterprise (``kb.tasks_concerning``).

One dialog files at most one report: the draft carries a token that the report
stores, so a 确认提交 replayed after a crash between the commit and the end of the
dialog (the state on disk still says CONFIRM) gets the same report number back.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from handlers.core.access import Need
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
    in_rows,
    keyboard,
    send,
    show_prompt,
    small_int,
    text_of,
)
from handlers.core.telegram_html import escape
from handlers.enterprise.attachments import (
    MAX_ATTACHMENTS,
    MAX_BYTES,
    add_attachment,
    attachment_of,
    check_content,
    from_json,
)
from knowledge.model import DateKind, ProgressStatus
from storage.clock import local_today
from storage.enterprises import Membership, enterprise_of_user
from storage.fields import (
    FieldError,
    parse_date,
    parse_description,
    parse_percent,
    parse_status,
    parse_task_number,
)
from storage.reports import ReportDraft, add_report, report_for_token

DIALOG = Dialog(name="report", command="report", title="进展填报", prefix="rp")
PREFIX = DIALOG.prefix
PAGE_SIZE = 10

# Conversation states (persisted as JSON: plain strings).
TASK = "TASK"
STATUS = "STATUS"
PERCENT = "PERCENT"
DESCRIPTION = "DESCRIPTION"
DATE = "DATE"
ATTACH = "ATTACH"
CONFIRM = "CONFIRM"
EDIT = "EDIT"

EDITABLE: tuple[tuple[str, str], ...] = (
    (TASK, "任务"),
    (STATUS, "状态和比例"),
    (DESCRIPTION, "情况说明"),
    (DATE, "完成日期"),
    (ATTACH, "附件（重新添加）"),
)

NOT_REGISTERED = "请先发送 /register 登记企业，绑定后才能填报进展。"
AWAITING_APPROVAL = "您的登记申请正在等待工作人员审核，审核通过后才能填报进展。"


# --- what the enterprise may report on -------------------------------------------------


def relevant_tasks(context: Context, industries: Sequence[str]) -> list[int]:
    """The tasks that concern an enterprise of ``industries``, in task order."""
    return [task.number for task in context.bot_data.kb.tasks_concerning(industries)]


def _status(context: Context) -> ProgressStatus | None:
    """The status chosen in the draft, as the knowledge base defines it."""
    name = draft(context, DIALOG).get("status")
    return context.bot_data.kb.status(name) if isinstance(name, str) else None


def _date_kind(context: Context) -> DateKind:
    status = _status(context)
    return status.date if status is not None else DateKind.EXPECTED


DATE_LABELS = {DateKind.ACTUAL: "实际完成日期", DateKind.EXPECTED: "预计完成日期",
               DateKind.OPTIONAL: "相关日期"}


def _membership(update: Update, context: Context) -> Membership | None:
    user = update.effective_user
    if user is None:
        return None
    return enterprise_of_user(context.bot_data.db, user.id)


# --- prompts -------------------------------------------------------------------------


def _task_prompt(context: Context) -> tuple[str, InlineKeyboardMarkup | None]:
    data = draft(context, DIALOG)
    titles = context.bot_data.kb.task_titles
    relevant: list[int] = list(data.get("relevant") or ())
    view = "rel" if data.get("view") == "rel" and relevant else "all"
    numbers = relevant if view == "rel" else list(titles)
    pages = max(1, -(-len(numbers) // PAGE_SIZE))
    page = min(max(int(data.get("page") or 0), 0), pages - 1)
    shown = numbers[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    rows: list[list[tuple[str, str]]] = [
        [(_button_text(n, titles[n]), f"{PREFIX}:t:{n}")] for n in shown
    ]
    nav: list[tuple[str, str]] = []
    if page > 0:
        nav.append(("‹ 上一页", f"{PREFIX}:pg:{view}:{page - 1}"))
    if page < pages - 1:
        nav.append(("下一页 ›", f"{PREFIX}:pg:{view}:{page + 1}"))
    rows.append(nav)
    if view == "rel":
        rows.append([(f"全部任务（{len(titles)}项）", f"{PREFIX}:pg:all:0")])
        head = "与贵企业行业相关的任务"
    else:
        if relevant:
            rows.append([("只看相关任务", f"{PREFIX}:pg:rel:0")])
        head = f"全部{len(titles)}项任务"
    text = (
        "<b>进展填报</b>（随时可发送 /cancel 取消）\n\n"
        f"第1步：请选择要填报的任务（{head}，第{page + 1}/{pages}页），"
        "也可以直接输入任务编号。"
    )
    return text, keyboard(rows)


def _button_text(number: int, title: str, limit: int = 22) -> str:
    text = f"{number}. {title}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _prompt(context: Context, state: str) -> tuple[str, InlineKeyboardMarkup | None]:
    data = draft(context, DIALOG)
    status = _status(context)
    if state == TASK:
        return _task_prompt(context)
    if state == STATUS:
        task = int(data.get("task") or 0)
        title = escape(context.bot_data.kb.task_titles.get(task, ""))
        names = [s.name for s in context.bot_data.kb.statuses]
        buttons = [(name, f"{PREFIX}:st:{i}") for i, name in enumerate(names)]
        return (f"任务{task}：{title}\n第2步：请选择目前的进展状态。",
                keyboard(in_rows(buttons, 4)))
    if state == PERCENT:
        return ("第3步：完成了大约百分之多少？请输入0到100的数字（如 60），不清楚可点“跳过”。",
                keyboard([[("跳过", f"{PREFIX}:skip")]]))
    if state == DESCRIPTION:
        name = status.name if status is not None else ""
        return f"第4步：请简要说明目前的情况（状态：{escape(name)}，500字以内）。", None
    if state == DATE:
        kind = _date_kind(context)
        if kind is DateKind.ACTUAL:
            return "第5步：请输入实际完成日期，例如 2021-06-30 或 6月底。", None
        if kind is DateKind.OPTIONAL:
            return ("第5步：如有相关日期请输入（例如 2021-12-31），没有可点“跳过”。",
                    keyboard([[("跳过", f"{PREFIX}:skip")]]))
        return "第5步：请输入预计完成日期，例如 2021-12-31、2021年12月31日 或 12月底。", None
    if state == ATTACH:
        count = len(data.get("attachments") or ())
        return (
            f"第6步：可发送照片或PDF文件作为佐证（最多{MAX_ATTACHMENTS}个，"
            f"每个不超过{MAX_BYTES // (1024 * 1024)} MB），已添加{count}个。"
            "发送完毕或不需要附件请点“完成”。",
            keyboard([[("完成", f"{PREFIX}:done")]]),
        )
    if state == CONFIRM:
        return (summary(context) + "\n\n请核对以上信息。",
                keyboard([[("确认提交", f"{PREFIX}:ok"), ("修改", f"{PREFIX}:edit"),
                           ("取消", f"{PREFIX}:cancel")]]))
    if state == EDIT:
        buttons = [(label, f"{PREFIX}:fix:{field}") for field, label in EDITABLE]
        return "请选择要修改的内容：", keyboard(in_rows(buttons, 2))
    raise ValueError(f"unknown state {state}")


def summary(context: Context) -> str:
    data = draft(context, DIALOG)
    task = int(data.get("task") or 0)
    percent = data.get("percent")
    date = data.get("date")
    files = data.get("attachments") or ()
    date_label = DATE_LABELS[_date_kind(context)]
    lines = [
        "<b>进展报告</b>",
        f"任务：{task}. {escape(context.bot_data.kb.task_titles.get(task, ''))}",
        f"状态：{escape(str(data.get('status', '')))}"
        + (f"（完成约{percent}%）" if percent is not None else ""),
        f"情况说明：{escape(str(data.get('description', '')))}",
        f"{date_label}：{date or '—'}",
        f"附件：{len(files)}个" if files else "附件：无",
    ]
    return "\n".join(lines)


async def ask(update: Update, context: Context, state: str, error: str | None = None) -> str:
    return await show_prompt(update, context, _prompt, state, error)


async def _next(update: Update, context: Context, state: str) -> str:
    """Move on from ``state``; a correction of one field returns to the summary."""
    data = draft(context, DIALOG)
    status = _status(context)
    if state == STATUS:
        following = PERCENT if status is not None and status.asks_percent else DESCRIPTION
        if following == DESCRIPTION and data.get("editing"):
            following = DATE  # the date's meaning depends on the status
    elif state == PERCENT:
        following = DATE if data.get("editing") else DESCRIPTION
    else:
        order = [TASK, STATUS, PERCENT, DESCRIPTION, DATE, ATTACH, CONFIRM]
        following = CONFIRM if data.get("editing") else order[order.index(state) + 1]
    if following == CONFIRM:
        data.pop("editing", None)
    return await ask(update, context, following)


# --- steps ---------------------------------------------------------------------------


@dialog_step(DIALOG, entry=True)
async def start(update: Update, context: Context) -> object:
    membership = _membership(update, context)
    if membership is None:
        await send(update, context, NOT_REGISTERED)
        return END
    if not membership.can_report:
        await send(update, context, AWAITING_APPROVAL)
        return END
    clear_draft(context, DIALOG)
    data = draft(context, DIALOG)
    data["relevant"] = relevant_tasks(context, membership.enterprise.industries)
    data["view"] = "rel" if data["relevant"] else "all"
    data["page"] = 0
    data["attachments"] = []
    data["token"] = uuid.uuid4().hex  # this dialog files at most one report
    return await ask(update, context, TASK)


async def _set_task(update: Update, context: Context, task: int) -> str:
    draft(context, DIALOG)["task"] = task
    return await _next(update, context, TASK)


@dialog_step(DIALOG)
async def task_button(update: Update, context: Context) -> object:
    task = small_int(callback_tail(update, context, f"{PREFIX}:t") or "")
    if task is None or task not in context.bot_data.kb.task_numbers:
        await close_buttons(update)
        return await ask(update, context, TASK)
    await close_buttons(update, f"任务{task}")
    return await _set_task(update, context, task)


@dialog_step(DIALOG)
async def task_page(update: Update, context: Context) -> object:
    tail = (callback_tail(update, context, f"{PREFIX}:pg") or "").split(":")
    await close_buttons(update)
    data = draft(context, DIALOG)
    page = small_int(tail[-1])
    if len(tail) == 2 and tail[0] in ("rel", "all") and page is not None:
        data["view"], data["page"] = tail[0], page
    return await ask(update, context, TASK)


@dialog_step(DIALOG)
async def task_text(update: Update, context: Context) -> object:
    task = parse_task_number(text_of(update), context.bot_data.kb.task_numbers)
    if isinstance(task, FieldError):
        return await ask(update, context, TASK, task.message)
    return await _set_task(update, context, task)


async def _set_status(update: Update, context: Context, name: str) -> str:
    data = draft(context, DIALOG)
    data["status"] = name
    status = _status(context)
    assert status is not None
    # Done with an actual date: finished, 100%. Otherwise no figure unless asked for.
    data["percent"] = 100 if status.done and status.date is DateKind.ACTUAL else None
    if not status.asks_percent and data.get("editing"):
        data["date"] = None  # asked again: what the date means depends on the status
    return await _next(update, context, STATUS)


@dialog_step(DIALOG)
async def status_button(update: Update, context: Context) -> object:
    statuses = context.bot_data.kb.statuses
    index = small_int(callback_tail(update, context, f"{PREFIX}:st") or "")
    if index is None or index >= len(statuses):
        await close_buttons(update)
        return await ask(update, context, STATUS)
    name = statuses[index].name
    await close_buttons(update, name)
    return await _set_status(update, context, name)


@dialog_step(DIALOG)
async def status_text(update: Update, context: Context) -> object:
    names = [s.name for s in context.bot_data.kb.statuses]
    status = parse_status(text_of(update), names, context.bot_data.kb.status_words)
    if isinstance(status, FieldError):
        return await ask(update, context, STATUS, status.message)
    return await _set_status(update, context, status)


@dialog_step(DIALOG)
async def got_percent(update: Update, context: Context) -> object:
    percent = parse_percent(text_of(update))
    if isinstance(percent, FieldError):
        return await ask(update, context, PERCENT, percent.message)
    draft(context, DIALOG)["percent"] = percent
    return await _next(update, context, PERCENT)


@dialog_step(DIALOG)
async def skip_percent(update: Update, context: Context) -> object:
    await close_buttons(update, "已跳过")
    draft(context, DIALOG)["percent"] = None
    return await _next(update, context, PERCENT)


@dialog_step(DIALOG)
async def got_description(update: Update, context: Context) -> object:
    description = parse_description(text_of(update), required=True)
    if isinstance(description, FieldError):
        return await ask(update, context, DESCRIPTION, description.message)
    draft(context, DIALOG)["description"] = description
    return await _next(update, context, DESCRIPTION)


@dialog_step(DIALOG)
async def got_date(update: Update, context: Context) -> object:
    data = draft(context, DIALOG)
    today = local_today(context.bot_data.now())
    actual = _date_kind(context) is DateKind.ACTUAL
    date = parse_date(text_of(update), today=today, prefer="past" if actual else "future")
    if isinstance(date, FieldError):
        return await ask(update, context, DATE, date.message)
    if actual and date > today:
        return await ask(update, context, DATE,
                         f"实际完成日期不能晚于今天（{today.isoformat()}），请核对。")
    data["date"] = date.isoformat()
    return await _next(update, context, DATE)


@dialog_step(DIALOG)
async def skip_date(update: Update, context: Context) -> object:
    data = draft(context, DIALOG)
    if _date_kind(context) is not DateKind.OPTIONAL:
        await close_buttons(update)
        return await ask(update, context, DATE, "该状态需要填写日期，不能跳过。")
    await close_buttons(update, "已跳过")
    data["date"] = None
    return await _next(update, context, DATE)


@dialog_step(DIALOG)
async def got_file(update: Update, context: Context) -> object:
    message = update.effective_message
    assert message is not None
    attachment = attachment_of(message)
    if isinstance(attachment, FieldError):
        return await ask(update, context, ATTACH, attachment.message)
    data = draft(context, DIALOG)
    stored = add_attachment(list(data.get("attachments") or ()), attachment)
    if isinstance(stored, FieldError):
        return await ask(update, context, ATTACH, stored.message)
    wrong = await check_content(context.bot, attachment)
    if wrong is not None:
        return await ask(update, context, ATTACH, wrong.message)
    data["attachments"] = stored
    return await ask(update, context, ATTACH)


@dialog_step(DIALOG)
async def attach_other(update: Update, context: Context) -> object:
    return await ask(update, context, ATTACH, "这里只接受照片和PDF文件；不需要附件请点“完成”。")


@dialog_step(DIALOG)
async def attachments_done(update: Update, context: Context) -> object:
    await close_buttons(update)
    return await _next(update, context, ATTACH)


@dialog_step(DIALOG)
async def confirm_text(update: Update, context: Context) -> object:
    return await ask(update, context, CONFIRM, "请点击下方的“确认提交”、“修改”或“取消”。")


@dialog_step(DIALOG)
async def choose_edit(update: Update, context: Context) -> object:
    await close_buttons(update)
    return await ask(update, context, EDIT)


@dialog_step(DIALOG)
async def edit_field(update: Update, context: Context) -> object:
    field = callback_tail(update, context, f"{PREFIX}:fix") or ""
    await close_buttons(update)
    if field not in dict(EDITABLE):
        return await ask(update, context, EDIT)
    data = draft(context, DIALOG)
    data["editing"] = True
    if field == ATTACH:
        data["attachments"] = []
    return await ask(update, context, field)


@dialog_step(DIALOG)
async def edit_text(update: Update, context: Context) -> object:
    return await ask(update, context, EDIT, "请点击按钮选择要修改的内容。")


def _report_draft(data: dict[str, Any], membership: Membership, user_id: int) -> ReportDraft:
    date = data.get("date")
    return ReportDraft(
        enterprise_id=membership.enterprise.id,
        user_id=user_id,
        task=int(data["task"]),
        status=str(data["status"]),
        percent=data.get("percent"),
        description=str(data.get("description") or ""),
        completion_date=dt.date.fromisoformat(date) if date else None,
        attachments=tuple(from_json(item) for item in data.get("attachments") or ()),
        token=str(data["token"]) if data.get("token") else None,
    )


RECEIVED = (
    "✅ 已收到，报告编号 <b>#{number}</b>。\n"
    "可发送 /myreports 查看本企业各任务的最新进展，或 /report 继续填报。"
)
ALREADY_FILED = "✅ 这份报告已经提交过了（报告编号 <b>#{number}</b>），没有重复登记。"


@dialog_step(DIALOG)
async def confirm(update: Update, context: Context) -> object:
    user = update.effective_user
    assert user is not None
    await close_buttons(update, "正在提交…")
    db, kb = context.bot_data.db, context.bot_data.kb
    data = draft(context, DIALOG)
    filed = report_for_token(db, data.get("token"))
    if filed is not None:  # replayed after a crash between the commit and the dialog's end
        clear_draft(context, DIALOG)
        await send(update, context, ALREADY_FILED.format(number=filed))
        return END
    membership = _membership(update, context)
    if membership is None or not membership.can_report:
        clear_draft(context, DIALOG)
        await send(update, context, NOT_REGISTERED if membership is None else AWAITING_APPROVAL)
        return END
    if not data.get("task") or not data.get("status") or not data.get("description"):
        clear_draft(context, DIALOG)
        await send(update, context, "填报信息不完整，请重新发送 /report 填报。")
        return END
    report = _report_draft(data, membership, user.id)
    try:
        report_id = add_report(db, report, context.bot_data.now(), task_numbers=kb.task_numbers,
                               statuses=[s.name for s in kb.statuses])
    except ValueError as exc:
        return await ask(update, context, CONFIRM, f"无法提交：{exc}")
    # add_report has committed: only now is the report acknowledged.
    clear_draft(context, DIALOG)
    await send(update, context, RECEIVED.format(number=report_id))
    return END


def conversation(timeout: float | None, need: Need) -> ConversationHandler[Any]:
    text = filters.TEXT & ~filters.COMMAND
    files = filters.PHOTO | filters.Document.ALL
    states: dict[object, list[BaseHandler[Update, Any, Any]]] = {
        TASK: [CallbackQueryHandler(task_button, pattern=rf"^{PREFIX}:t:"),
               CallbackQueryHandler(task_page, pattern=rf"^{PREFIX}:pg:"),
               MessageHandler(text, task_text)],
        STATUS: [CallbackQueryHandler(status_button, pattern=rf"^{PREFIX}:st:"),
                 MessageHandler(text, status_text)],
        PERCENT: [CallbackQueryHandler(skip_percent, pattern=rf"^{PREFIX}:skip$"),
                  MessageHandler(text, got_percent)],
        DESCRIPTION: [MessageHandler(text, got_description)],
        DATE: [CallbackQueryHandler(skip_date, pattern=rf"^{PREFIX}:skip$"),
               MessageHandler(text, got_date)],
        ATTACH: [MessageHandler(files, got_file),
                 CallbackQueryHandler(attachments_done, pattern=rf"^{PREFIX}:done$"),
                 MessageHandler(~filters.COMMAND, attach_other)],
        CONFIRM: [CallbackQueryHandler(confirm, pattern=rf"^{PREFIX}:ok$"),
                  CallbackQueryHandler(choose_edit, pattern=rf"^{PREFIX}:edit$"),
                  MessageHandler(text, confirm_text)],
        EDIT: [CallbackQueryHandler(edit_field, pattern=rf"^{PREFIX}:fix:"),
               MessageHandler(text, edit_text)],
    }
    return conversation_handler(
        DIALOG, states=states, entry=start, prompt=_prompt, timeout=timeout, need=need
    )
