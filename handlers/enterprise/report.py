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
from typing import Any

from telegram import Update
from telegram.ext import filters

from handlers.core.context import Context
from handlers.core.dialog_shape import (
    CONFIRM,
    EDITING,
    Action,
    Ask,
    Files,
    Flow,
    Go,
    Screen,
    Step,
    Summary,
)
from handlers.core.dialogs import END, Dialog, clear_draft, draft, in_rows, send, small_int
from handlers.core.plan import last_deadline, tasks_of
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

PERCENT_PROMPT = "第3步：完成了大约百分之多少？请输入0到100的数字（如 60），不清楚可点“跳过”。"
NOT_REGISTERED = "请先发送 /register 登记企业，绑定后才能填报进展。"
AWAITING_APPROVAL = "您的登记申请正在等待工作人员审核，审核通过后才能填报进展。"


# --- what the enterprise may report on -------------------------------------------------




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


def _task_prompt(context: Context) -> Screen:
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
    return text, rows


def _button_text(number: int, title: str, limit: int = 22) -> str:
    text = f"{number}. {title}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _status_prompt(context: Context) -> Screen:
    task = int(draft(context, DIALOG).get("task") or 0)
    title = escape(context.bot_data.kb.task_titles.get(task, ""))
    names = [s.name for s in context.bot_data.kb.statuses]
    buttons = [(name, f"{PREFIX}:st:{i}") for i, name in enumerate(names)]
    return f"任务{task}：{title}\n第2步：请选择目前的进展状态。", in_rows(buttons, 4)


def _description_prompt(context: Context) -> Screen:
    status = _status(context)
    name = status.name if status is not None else ""
    return f"第4步：请简要说明目前的情况（状态：{escape(name)}，500字以内）。", []


def _date_prompt(context: Context) -> Screen:
    kind = _date_kind(context)
    if kind is DateKind.ACTUAL:
        return "第5步：请输入实际完成日期，例如 2021-06-30 或 6月底。", []
    if kind is DateKind.OPTIONAL:
        return ("第5步：如有相关日期请输入（例如 2021-12-31），没有可点“跳过”。",
                [[("跳过", f"{PREFIX}:skip")]])
    return "第5步：请输入预计完成日期，例如 2021-12-31、2021年12月31日 或 12月底。", []


def _attach_prompt(context: Context) -> Screen:
    count = len(draft(context, DIALOG).get("attachments") or ())
    return (f"第6步：可发送照片或PDF文件作为佐证（最多{MAX_ATTACHMENTS}个，"
            f"每个不超过{MAX_BYTES // (1024 * 1024)} MB），已添加{count}个。"
            "发送完毕或不需要附件请点“完成”。", [[("完成", f"{PREFIX}:done")]])


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


def _after(context: Context, state: str) -> str:
    """The step after ``state``; a correction of one field returns to the summary."""
    editing = bool(draft(context, DIALOG).get(EDITING))
    status = _status(context)
    if state == STATUS:
        following = PERCENT if status is not None and status.asks_percent else DESCRIPTION
        return DATE if following == DESCRIPTION and editing else following
    if state == PERCENT:
        return DATE if editing else DESCRIPTION
    order = [TASK, STATUS, PERCENT, DESCRIPTION, DATE, ATTACH, CONFIRM]
    return CONFIRM if editing else order[order.index(state) + 1]


# --- steps ---------------------------------------------------------------------------


async def _start(update: Update, context: Context) -> Go:
    membership = _membership(update, context)
    if membership is None:
        await send(update, context, NOT_REGISTERED)
        return END
    if not membership.can_report:
        await send(update, context, AWAITING_APPROVAL)
        return END
    clear_draft(context, DIALOG)
    data = draft(context, DIALOG)
    data["relevant"] = [task.number for task in tasks_of(context.bot_data, membership.enterprise)]
    data["view"] = "rel" if data["relevant"] else "all"
    data["page"] = 0
    data["attachments"] = []
    data["token"] = uuid.uuid4().hex  # this dialog files at most one report
    return None


async def _pressed_task(update: Update, context: Context, tail: str) -> Go:
    task = small_int(tail)
    if task is None or task not in context.bot_data.kb.task_numbers:
        return Ask(TASK)
    draft(context, DIALOG)["task"] = task
    return None


async def _page(update: Update, context: Context, tail: str) -> Go:
    parts = tail.split(":")
    page = small_int(parts[-1])
    if len(parts) == 2 and parts[0] in ("rel", "all") and page is not None:
        data = draft(context, DIALOG)
        data["view"], data["page"] = parts[0], page
    return Ask(TASK)


def _set_status(context: Context, name: str) -> Go:
    data = draft(context, DIALOG)
    data["status"] = name
    status = _status(context)
    assert status is not None
    # Done with an actual date: finished, 100%. Otherwise no figure unless asked for.
    data["percent"] = 100 if status.done and status.date is DateKind.ACTUAL else None
    if not status.asks_percent and data.get(EDITING):
        data["date"] = None  # asked again: what the date means depends on the status
    return None


async def _pressed_status(update: Update, context: Context, tail: str) -> Go:
    statuses = context.bot_data.kb.statuses
    index = small_int(tail)
    if index is None or index >= len(statuses):
        return Ask(STATUS)
    return _set_status(context, statuses[index].name)


def _typed_status(context: Context, text: str) -> str | FieldError:
    names = [s.name for s in context.bot_data.kb.statuses]
    return parse_status(text, names, context.bot_data.kb.status_words)


async def _skip_percent(update: Update, context: Context, _tail: str) -> Go:
    draft(context, DIALOG)["percent"] = None
    return None


def _date(context: Context, text: str) -> str | FieldError:
    today = local_today(context.bot_data.now())
    actual = _date_kind(context) is DateKind.ACTUAL
    date = parse_date(text, today=today, prefer="past" if actual else "future")
    if isinstance(date, FieldError):
        return date
    if actual and date > today:
        return FieldError(f"实际完成日期不能晚于今天（{today.isoformat()}），请核对。")
    return date.isoformat()


async def _set_date(update: Update, context: Context, date: str) -> Go:
    """An expected date already past, or later than the task's deadline still ahead, is
    asked once more with the deadline shown; the same date typed again is taken as meant."""
    data = draft(context, DIALOG)
    warning = _date_warning(update, context, dt.date.fromisoformat(date))
    if warning is not None and data.get("date_warned") != date:
        data["date_warned"] = date
        return Ask(DATE, warning)
    data.pop("date_warned", None)
    data["date"] = date
    return None


def _date_warning(update: Update, context: Context, date: dt.date) -> str | None:
    if _date_kind(context) is not DateKind.EXPECTED:
        return None
    again = "如确实如此，请再输入一次同一日期；否则请输入新的日期。"
    today = local_today(context.bot_data.now())
    if date < today:
        return f"预计完成日期 {date.isoformat()} 已经过去（今天是 {today.isoformat()}）。{again}"
    membership = _membership(update, context)
    task = int(draft(context, DIALOG).get("task") or 0)
    deadline = (last_deadline(context.bot_data, membership.enterprise, task)
                if membership is not None else None)
    # once the deadline has passed any expected date is later: nothing to ask then
    if deadline is not None and date > deadline.date >= today:
        return (f"预计完成日期 {date.isoformat()} 晚于任务{task}的期限"
                f"（{deadline.wording}，{deadline.date.isoformat()}）。{again}")
    return None


async def _skip_date(update: Update, context: Context, _tail: str) -> Go:
    if _date_kind(context) is not DateKind.OPTIONAL:
        return Ask(DATE, "该状态需要填写日期，不能跳过。")
    draft(context, DIALOG)["date"] = None
    return None


async def _take_file(update: Update, context: Context) -> Go:
    message = update.effective_message
    assert message is not None
    attachment = attachment_of(message)
    if isinstance(attachment, FieldError):
        return Ask(ATTACH, attachment.message)
    data = draft(context, DIALOG)
    stored = add_attachment(list(data.get("attachments") or ()), attachment)
    if isinstance(stored, FieldError):
        return Ask(ATTACH, stored.message)
    wrong = await check_content(context.bot, attachment)
    if wrong is not None:
        return Ask(ATTACH, wrong.message)
    data["attachments"] = stored
    return Ask(ATTACH)


async def _attachments_done(update: Update, context: Context, _tail: str) -> Go:
    return None


def _attach_again(context: Context) -> None:
    """Editing the attachments starts them over."""
    draft(context, DIALOG)["attachments"] = []


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


async def confirm(update: Update, context: Context) -> Go:
    user = update.effective_user
    assert user is not None
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
        return Ask(CONFIRM, f"无法提交：{exc}")
    # add_report has committed: only now is the report acknowledged.
    clear_draft(context, DIALOG)
    await send(update, context, RECEIVED.format(number=report_id))
    return END


FLOW = Flow(DIALOG, _start, (
    Step(TASK, _task_prompt, key="task", edit="任务",
         parse=lambda c, text: parse_task_number(text, c.bot_data.kb.task_numbers),
         actions=(Action("t", _pressed_task, tail=True), Action("pg", _page, tail=True))),
    Step(STATUS, _status_prompt, parse=_typed_status, accept=_set_status, edit="状态和比例",
         actions=(Action("st", _pressed_status, tail=True),)),
    Step(PERCENT, lambda c: (PERCENT_PROMPT, [[("跳过", f"{PREFIX}:skip")]]), key="percent",
         parse=lambda c, text: parse_percent(text),
         actions=(Action("skip", _skip_percent, toast="已跳过"),)),
    Step(DESCRIPTION, _description_prompt, key="description", edit="情况说明",
         parse=lambda c, text: parse_description(text, required=True)),
    Step(DATE, _date_prompt, parse=_date, accept=_set_date, edit="完成日期",
         actions=(Action("skip", _skip_date),)),
    Step(ATTACH, _attach_prompt, edit="附件（重新添加）", on_edit=_attach_again,
         files=Files(filters.PHOTO | filters.Document.ALL, _take_file),
         hint="这里只接受照片和PDF文件；不需要附件请点“完成”。",
         actions=(Action("done", _attachments_done),)),
), summary=Summary(summary, confirm, hint="请点击下方的“确认提交”、“修改”或“取消”。"),
    after=_after)
conversation = FLOW.conversation
