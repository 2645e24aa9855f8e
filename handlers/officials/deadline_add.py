"""/deadline: officials add deadlines to the calendar (and withdraw their own).

``/deadline`` lists the deadlines the official added, each with a 撤销 button;
``/deadline add`` asks: task → date → industries (multi-select; none: the task's
own) → regions (within the official's scope; none: all of it) → what must be done →
confirm. Added deadlines are reminded of like the plan's own.
"""

from __future__ import annotations

import datetime as dt

from sqlite_utils import Database
from telegram import Update

from handlers.core.access import actor_of
from handlers.core.audited import Done, audited_button
from handlers.core.context import Context
from handlers.core.dialog_access import committing
from handlers.core.dialog_shape import (
    Ask,
    Flow,
    Go,
    Pick,
    Screen,
    Step,
    Summary,
    described,
    ordered_toggle,
)
from handlers.core.dialogs import (
    END,
    Dialog,
    clear_draft,
    draft,
    draft_scope,
    in_rows,
    keyboard,
    send,
    start_scoped,
)
from handlers.core.telegram_html import escape
from storage import audit
from storage.calendar import add_deadline, added_deadlines, cancel_deadline
from storage.clock import local_today
from storage.fields import FieldError, parse_date, parse_task_number
from storage.regions import REGIONS

DIALOG = Dialog(name="deadline", command="deadline", title="新增截止日期", prefix="dl")
PREFIX = DIALOG.prefix
WITHDRAW_PREFIX = "dx"  # dx:<deadline id>

TASK = "TASK"
DATE = "DATE"
INDUSTRIES = "INDUSTRIES"
REGIONS_STEP = "REGIONS"
WHAT = "WHAT"

USAGE = "发送 /deadline add 新增一个截止日期。"


def _task(context: Context) -> Screen:
    numbers = context.bot_data.kb.task_numbers
    return (f"<b>新增截止日期</b>（随时可发送 /cancel 取消）\n第1步：哪项任务？请输入任务编号"
            f"（{min(numbers)}–{max(numbers)}）。", [])


def _due(context: Context, text: str) -> str | FieldError:
    today = local_today(context.bot_data.now())
    due = parse_date(text, today=today, prefer="future")
    if isinstance(due, FieldError):
        return due
    if due < today:
        return FieldError(f"{due.isoformat()} 已经过去了，请填写将来的日期。")
    return due.isoformat()


def _industries(context: Context) -> Screen:
    chosen = set(draft(context, DIALOG).get("industries") or ())
    names = context.bot_data.kb.industries
    shown = "、".join(n for n in names if n in chosen) or "（不选：该任务涉及的企业）"
    return f"第3步：涉及哪些行业？可多选，选好后点“完成”。\n已选：{escape(shown)}", []


def _toggle_industry(context: Context, index: int) -> None:
    data, names = draft(context, DIALOG), context.bot_data.kb.industries
    data["industries"] = ordered_toggle(data.get("industries") or (), names[index], names)


def _industries_done(context: Context) -> Go:
    task = int(draft(context, DIALOG)["task"])
    if not draft(context, DIALOG).get("industries") and task not in context.bot_data.kb.concern():
        return Ask(INDUSTRIES, f"任务{task}不涉及企业，请至少选择一个行业。")
    return None


def _regions(context: Context) -> Screen:
    scope = draft_scope(context, DIALOG)
    chosen = set(draft(context, DIALOG).get("regions") or ())
    shown = "、".join(r for r in REGIONS if r in chosen) or f"（不选：{scope.describe()}）"
    return f"第4步：哪些地市？可多选，选好后点“完成”。\n已选：{escape(shown)}", []


def _toggle_region(context: Context, index: int) -> None:
    data = draft(context, DIALOG)
    data["regions"] = ordered_toggle(data.get("regions") or (), REGIONS[index], REGIONS)


def _summary(context: Context) -> str:
    data, kb = draft(context, DIALOG), context.bot_data.kb
    industry_words = "、".join(data.get("industries") or ()) or "该任务涉及的企业"
    region_words = "、".join(data.get("regions") or ()) or draft_scope(context, DIALOG).describe()
    task = int(data["task"])
    return "\n".join([
        "<b>新增截止日期</b>",
        f"任务{task}：{escape(kb.task(task).title)}",
        f"截止：{data['due']}",
        f"行业：{escape(industry_words)}",
        f"地市：{escape(region_words)}",
        f"要求：{escape(str(data.get('what', '')))}",
    ])


async def _start(update: Update, context: Context) -> Go:
    """``/deadline add`` starts the dialog; ``/deadline`` lists one's own deadlines."""
    if [a.lower() for a in context.args or ()][:1] != ["add"]:
        await _list_own(update, context)
        return END
    user = update.effective_user
    assert user is not None
    start_scoped(context, DIALOG, actor_of(context.bot_data, user.id).scope)
    return None


async def _commit(update: Update, context: Context) -> Go:
    user = update.effective_user
    assert user is not None
    data = draft(context, DIALOG)
    bot_data = context.bot_data
    regions = list(data.get("regions") or ()) or sorted(draft_scope(context, DIALOG).regions)
    now = bot_data.now()
    with committing(context, user.id, data) as done:  # still of that scope; only once
        deadline_id = add_deadline(
            bot_data.db, task=int(data["task"]), due=dt.date.fromisoformat(data["due"]),
            what=str(data["what"]), industries=data.get("industries") or (), regions=regions,
            by=user.id, now=now,
        )
        audit.record(bot_data.db, actor_id=user.id, action="deadline_add",
                     subject=f"deadline:{deadline_id}", now=now, task=int(data["task"]),
                     due=data["due"], regions=regions)
        done(f"截止日期 #{deadline_id}")
    clear_draft(context, DIALOG)
    await send(update, context, f"✅ 已添加截止日期 #{deadline_id}，将按时提醒相关企业。"
                                "发送 /deadlines 查看日程。")
    return END


USE_BUTTONS = "请点击下方按钮选择，选好后点“完成”。"
FLOW = Flow(DIALOG, _start, (
    Step(TASK, _task, key="task",
         parse=lambda c, text: parse_task_number(text, c.bot_data.kb.task_numbers)),
    Step(DATE, lambda c: ("第2步：截止日期？例如 2027-03-31 或 3月底。", []), parse=_due,
         key="due"),
    Step(INDUSTRIES, _industries, hint=USE_BUTTONS, pick=Pick(
        "ind", lambda c: list(enumerate(c.bot_data.kb.industries)),
        lambda c: [i for i, n in enumerate(c.bot_data.kb.industries)
                   if n in (draft(c, DIALOG).get("industries") or ())],
        _toggle_industry, _industries_done)),
    Step(REGIONS_STEP, _regions, hint=USE_BUTTONS, pick=Pick(
        "reg", lambda c: [(REGIONS.index(r), r) for r in REGIONS
                          if draft_scope(c, DIALOG).covers(r)],
        lambda c: [REGIONS.index(r) for r in draft(c, DIALOG).get("regions") or ()],
        _toggle_region, lambda c: None)),
    Step(WHAT, lambda c: ("第5步：请写明到期要完成什么（200字以内）。", []), key="what",
         parse=lambda c, text: described(text, 200, "要求")),
), summary=Summary(_summary, _commit, label="确认添加", footer="", toast="正在保存…",
                   hint="请点击下方的“确认添加”或“取消”。"))
conversation = FLOW.conversation


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


def _withdraw(db: Database, ids: list[int], user_id: int, now: dt.datetime) -> Done:
    if not cancel_deadline(db, ids[0], by=user_id, now=now):
        return Done("该截止日期已撤销过了。")
    return Done(f"已撤销 #{ids[0]}。", "deadline_cancel", f"deadline:{ids[0]}")


async def on_withdraw(update: Update, context: Context) -> None:
    """``dx:<id>``: withdraw one's deadline (the access policy checked owner and scope)."""
    await audited_button(update, context, WITHDRAW_PREFIX, 1, _withdraw)
