"""/notify: an official sends a notice to enterprises of their scope.

Steps: audience (all / a city / an industry / not done with a task, limited to the
official's scope) → its city, industry or task → text → preview with the exact
number of recipients → send now, or at a chosen time → confirmation. The
confirmation message becomes the notice's progress, edited as it goes out.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from sqlite_utils import Database
from telegram import InputFile, Update

from handlers.core.access import actor_of
from handlers.core.context import Context
from handlers.core.dialog_access import committing
from handlers.core.dialog_shape import Action, Ask, Flow, Go, Screen, Step, described
from handlers.core.dialogs import (
    END,
    Dialog,
    clear_draft,
    draft,
    draft_scope,
    in_rows,
    send,
    small_int,
    start_scoped,
)
from handlers.core.industries import read_industries
from handlers.core.offload import Busy, in_heavy_worker
from handlers.core.telegram_html import escape
from handlers.officials.notices import audience_ids, card, preview, queue_notice
from storage.audiences import Audience, AudienceKind, contacts
from storage.clock import format_local, from_db, local_today, to_db, to_local
from storage.contact_sheet import contact_sheet
from storage.fields import FieldError, parse_send_time, parse_task_number
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


def _audience_prompt(context: Context) -> Screen:
    scope = draft_scope(context, DIALOG)
    buttons = [(label, f"{PREFIX}:aud:{kind.value}") for kind, label in KINDS.items()]
    return (f"<b>发送通知</b>（随时可发送 /cancel 取消）\n您负责的范围：{scope.describe()}\n\n"
            "第1步：发给谁？", in_rows(buttons, 2))


def _city_prompt(context: Context) -> Screen:
    scope = draft_scope(context, DIALOG)
    buttons = [(r, f"{PREFIX}:city:{REGIONS.index(r)}") for r in REGIONS if scope.covers(r)]
    return "请选择地市（也可以直接输入名称）：", in_rows(buttons, 3)


def _industry_prompt(context: Context) -> Screen:
    names = [choice.name for choice in context.bot_data.kb.industry_choices]
    buttons = [(name, f"{PREFIX}:ind:{i}") for i, name in enumerate(names)]
    return "请选择行业（也可以直接输入名称）：", in_rows(buttons, 3)


def _task_prompt(context: Context) -> Screen:
    kb = context.bot_data.kb
    numbers = kb.task_numbers
    done = "或".join(f"“{name}”" for name in kb.done_statuses)
    return (f"请输入任务编号（{min(numbers)}–{max(numbers)}）。将发给该任务涉及、"
            f"且尚未报告{escape(done)}的已审核企业。", [])


def _preview_prompt(context: Context) -> Screen:
    data = draft(context, DIALOG)
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
        return "\n".join(lines), [[("修改对象", f"{PREFIX}:aud"), ("取消", f"{PREFIX}:cancel")]]
    send = ("确认定时发送" if send_at else "立即发送", f"{PREFIX}:send")
    return "\n".join(lines), [
        [send, ("定时发送" if not send_at else "改时间", f"{PREFIX}:when")],
        [("修改内容", f"{PREFIX}:text"), ("修改对象", f"{PREFIX}:aud"),
         ("名单（Excel）", f"{PREFIX}:sheet")],
        [("取消", f"{PREFIX}:cancel")],
    ]


async def _send_sheet(update: Update, context: Context, _tail: str) -> Go:
    """The audience as a sheet: who gets the notice in chat, and whom to phone (未加入);
    then the preview again."""
    audience, user, chat = _audience(context), update.effective_user, update.effective_chat
    if audience is None or user is None or chat is None:
        return Ask(AUDIENCE)
    bot_data, scope = context.bot_data, draft_scope(context, DIALOG)

    def write(db: Database) -> tuple[bytes, int, int]:
        found = contacts(db, audience_ids(db, bot_data.kb, audience, scope))
        joined = sum(c.joined for c in found)
        return contact_sheet(found), joined, len(found) - joined

    try:
        data, joined, absent = await in_heavy_worker(bot_data, user.id, write)
    except Busy as exc:
        return Ask(PREVIEW, exc.message)
    stamp = to_local(bot_data.now()).strftime("%Y%m%d-%H%M")
    await context.bot.send_document(
        chat.id, InputFile(io.BytesIO(data), filename=f"通知对象-{stamp}.xlsx"),
        caption=f"通知对象：可送达{joined}家，未加入{absent}家（需电话联系）。")
    return Ask(PREVIEW)


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


async def _start(update: Update, context: Context) -> Go:
    user = update.effective_user
    assert user is not None
    start_scoped(context, DIALOG, actor_of(context.bot_data, user.id).scope)
    return None


async def _choose_audience(update: Update, context: Context, tail: str) -> Go:
    data = draft(context, DIALOG)
    if tail not in {k.value for k in AudienceKind}:
        return Ask(AUDIENCE)
    data["kind"], data["value"] = tail, ""
    if tail == AudienceKind.ALL.value:
        return Ask(_next_after_audience(context))
    return Ask({"city": CITY, "industry": INDUSTRY, "task": TASK}[tail])


def _set_value(context: Context, value: str) -> Go:
    draft(context, DIALOG)["value"] = value
    return Ask(_next_after_audience(context))


def _city(context: Context, city: str | None) -> Go:
    if city is None:
        return Ask(CITY)
    scope = draft_scope(context, DIALOG)
    if not scope.covers(city):
        return Ask(CITY, f"{city}不在您负责的范围（{scope.describe()}）内。")
    return _set_value(context, city)


def _typed_city(context: Context, text: str) -> str | FieldError:
    city = normalize_region(text)
    return FieldError("没有这个地市，请点选下方按钮。") if city is None else city


async def _pressed_city(update: Update, context: Context, tail: str) -> Go:
    index = small_int(tail)
    return _city(context, REGIONS[index] if index is not None and index < len(REGIONS) else None)


async def _pressed_industry(update: Update, context: Context, tail: str) -> Go:
    names = [choice.name for choice in context.bot_data.kb.industry_choices]
    index = small_int(tail)
    if index is None or index >= len(names):
        return Ask(INDUSTRY)
    return _set_value(context, names[index])


def _typed_industry(context: Context, text: str) -> str | FieldError:
    kb = context.bot_data.kb
    reading = read_industries(text, kb.industry_choices, kb.aliases)
    if len(reading.found) != 1 or reading.unknown or reading.ambiguous:
        return FieldError("请点选下方按钮中的一个行业。")
    return reading.found[0].name


def _task(context: Context, text: str) -> int | FieldError:
    task = parse_task_number(text, context.bot_data.kb.task_numbers)
    if not isinstance(task, FieldError) and task not in context.bot_data.kb.concern():
        return FieldError(f"任务{task}是政府部门的工作，不涉及企业。"
                          "请换一项任务，或按地市、行业发送。")
    return task


def _set_text(context: Context, text: str) -> Go:
    draft(context, DIALOG)["text"] = text
    return Ask(_previewed(context))


def _set_time(context: Context, when: dt.datetime) -> Go:
    draft(context, DIALOG)["send_at"] = to_db(when)
    return Ask(_previewed(context))


async def _commit(update: Update, context: Context, _tail: str) -> Go:
    user = update.effective_user
    chat = update.effective_chat
    assert user is not None and chat is not None
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
        return Ask(_previewed(context), "定时的时间已经过去，请重新选择。")
    with committing(context, user.id, data) as done:  # still of that scope; only once
        notice, count = queue_notice(
            bot_data.db, bot_data.kb, by=user.id, scope=draft_scope(context, DIALOG),
            audience=audience, text=str(data["text"]), send_at=send_at, now=now,
        )
        done(f"通知 #{notice.id}")
    clear_draft(context, DIALOG)
    bot_data.outbox.wake()
    shown = (data.get("preview") or {}).get("count")
    changed = "" if count == shown else f"（预览后接收人数有变化，以{count}位为准）"
    text, markup = card(bot_data.db, notice, now)
    message = await context.bot.send_message(chat.id, text + changed, parse_mode="HTML",
                                             reply_markup=markup)
    set_progress_message(bot_data.db, notice.id, chat.id, message.message_id)
    return END


def _to(state: str) -> Action:
    """A button that shows another step: 定时发送 → WHEN, 修改内容 → TEXT, ..."""
    async def run(update: Update, context: Context, _tail: str) -> Go:
        return Ask(state)

    return Action({WHEN: "when", TEXT: "text", AUDIENCE: "aud"}[state], run)


def when_prompt(context: Context) -> Screen:
    """The time step, its example a date to come (tomorrow, Beijing time)."""
    tomorrow = local_today(context.bot_data.now()) + dt.timedelta(days=1)
    return (f"请输入发送时间（北京时间），例如 {tomorrow.isoformat()} 09:00、明天 9:00 或 "
            "下午3点。", [])



FLOW = Flow(DIALOG, _start, (
    Step(AUDIENCE, _audience_prompt, hint="请点击下方按钮选择发送对象。",
         actions=(Action("aud", _choose_audience, tail=True),)),
    Step(CITY, _city_prompt, parse=_typed_city, accept=_city,
         actions=(Action("city", _pressed_city, tail=True),)),
    Step(INDUSTRY, _industry_prompt, parse=_typed_industry, accept=_set_value,
         actions=(Action("ind", _pressed_industry, tail=True),)),
    Step(TASK, _task_prompt, parse=_task, accept=lambda c, task: _set_value(c, str(task))),
    Step(TEXT, lambda c: (f"第2步：请输入通知内容（{TEXT_LIMIT}字以内）。", []),
         parse=lambda c, text: described(text, TEXT_LIMIT, "通知内容"), accept=_set_text),
    Step(WHEN, when_prompt,
         parse=lambda c, text: parse_send_time(text, now=c.bot_data.now()), accept=_set_time),
    Step(PREVIEW, _preview_prompt, hint="请点击下方按钮：发送、定时、修改或取消。", commits=True,
         actions=(Action("send", _commit, toast="正在排队…"), _to(WHEN), _to(TEXT),
                  _to(AUDIENCE), Action("sheet", _send_sheet, toast="正在生成名单…"))),
))
conversation = FLOW.conversation
