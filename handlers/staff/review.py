"""Staff review a self-report: 已核实, 有问题 (with a comment) or 驳回 (with a reason).

Started by a review button under a report (``rw:<report>:<verdict>``, from /reports or
/enterprise) or by ``/review 报告编号``. 有问题 and 驳回 ask for the comment the
enterprise will read. The review, its audit entry and the note to the enterprise
(through the outbox) commit together; the report itself never changes, and the
enterprise answers by reporting again. Nobody reviews a report of their own
enterprise, and only within their scope (the access policy for the buttons; the
same check for the command).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from telegram import Update

from handlers.core.access import (
    GONE,
    STAFF,
    Actor,
    Need,
    Relation,
    Target,
    actor_of,
    refusal,
    refuse_target,
)
from handlers.core.callback_queries import acknowledge
from handlers.core.context import BotData, Context
from handlers.core.dialog_access import committing
from handlers.core.dialog_shape import Ask, Flow, Go, Screen, Step, described
from handlers.core.dialogs import (
    END,
    Dialog,
    clear_draft,
    draft,
    keyboard,
    pressed,
    send,
    small_int,
)
from handlers.core.report_text import history_entry
from handlers.core.telegram_html import escape
from storage import audit
from storage.audiences import recipients
from storage.clock import local_today
from storage.enterprises import get_enterprise
from storage.outbox import Message, Priority
from storage.reports import Report, get_report
from storage.reviews import VERDICT_WORDS, Review, Verdict, add_review, reviews_of

DIALOG = Dialog(name="review", command="review", title="报告审核", prefix="rv")
PREFIX = DIALOG.prefix
ENTRY_PREFIX = "rw"  # rw:<report id>:<verdict>, under reports shown to staff
COMMENT = "COMMENT"
COMMENT_LIMIT = 300
NEED = Need(STAFF, Target.REPORT, Relation.NOT_OWN)
USAGE = ("用法：/review 打开最早的待审核填报；/review 报告编号，例如 /review 123；"
         "也可以点报告下方的审核按钮。")


QUEUED = "q"  # rw:<report>:<verdict>:q — from the review queue: the next one follows


def review_row(report_id: int, *, queued: bool = False) -> list[tuple[str, str]]:
    """The three review buttons of one report (from the queue: the next one follows)."""
    tail = f":{QUEUED}" if queued else ""
    return [(f"{VERDICT_WORDS[v]} #{report_id}", f"{ENTRY_PREFIX}:{report_id}:{v.value}{tail}")
            for v in Verdict]


def _enterprise_name(bot_data: BotData, report: Report) -> str:
    enterprise = get_enterprise(bot_data.db, report.enterprise_id)
    return enterprise.name if enterprise is not None else ""


async def _next_in_queue(update: Update, context: Context) -> None:
    from handlers.staff.review_queue import show_next  # the queue shows review buttons
    await show_next(update, context)


def _prompt(context: Context) -> Screen:
    data = draft(context, DIALOG)
    verdict = Verdict(data["verdict"])
    what = "问题" if verdict is Verdict.PROBLEM else "驳回理由"
    whose = f"（{escape(str(data['name']))}）" if data.get("name") else ""
    return (f"报告 #{data['report']}{whose}：{VERDICT_WORDS[verdict]}。请输入{what}（会转告企业，"
            f"{COMMENT_LIMIT}字以内），或发送 /cancel 取消。",
            [[("取消", f"{PREFIX}:cancel")]])


def _title(bot_data: BotData, report: Report) -> str:
    kb = bot_data.kb
    return kb.task_titles.get(report.task, "")


def note_text(bot_data: BotData, report: Report, review: Review) -> str:
    """What the enterprise reads."""
    head = (f"📝 <b>报告审核</b>：贵企业填报的报告 #{report.id}（任务{report.task} "
            f"{escape(_title(bot_data, report))}）经工作人员审核：<b>{review.verdict.words}</b>。")
    if review.verdict is Verdict.VERIFIED:
        return head + "\n感谢配合。"
    label = "意见" if review.verdict is Verdict.PROBLEM else "驳回理由"
    return (f"{head}\n{label}：{escape(review.comment)}\n"
            "请按意见处理后用 /report 重新填报该任务；可用 /myreports 查看审核记录。")


def may_review(context: Context, actor: Actor, kept: Mapping[str, Any]) -> str | None:
    """The review's object check at every step and at commit: the report named in the
    draft, against the reviewer's role, scope and enterprise now."""
    report_id = kept.get("report")
    if not isinstance(report_id, int):
        return None
    return refusal(NEED, actor, context.bot_data.db, report_id, "审核")


def record(context: Context, report: Report, reviewer_id: int, verdict: Verdict,
           comment: str, token: str) -> Review:
    """The review, its audit entry and the enterprise's note, in one transaction (the
    reviewer's right to review this report checked again inside it), once per
    ``token``: replayed, it raises ``AlreadyDone``."""
    bot_data = context.bot_data
    now = bot_data.now()
    db = bot_data.db
    with committing(context, reviewer_id, {"report": report.id}, token=token) as done:
        review = add_review(db, report_id=report.id, reviewer_id=reviewer_id, verdict=verdict,
                            comment=comment, now=now)
        audit.record(db, actor_id=reviewer_id, action="review", subject=f"report:{report.id}",
                     now=now, verdict=verdict.value, review=review.id)
        chats = recipients(db, [report.enterprise_id])
        if chats:
            bot_data.outbox.queue(Message(key=f"review:{review.id}", kind="review",
                                          text=note_text(bot_data, report, review)),
                                  chats, priority=Priority.PERSONAL)
        done(f"报告 #{report.id}：{verdict.words}")
    return review


def _target(update: Update, context: Context) -> tuple[int | None, Verdict | None]:
    """The report and verdict a button names, or ``/review <report> [已核实|有问题|驳回]``."""
    data = pressed(update, context)
    if data and data.startswith(f"{ENTRY_PREFIX}:"):
        parts = data.split(":")
        verdict = next((v for v in Verdict if len(parts) > 2 and v.value == parts[2]), None)
        return (small_int(parts[1], 15) if len(parts) > 1 else None), verdict
    args = list(context.args or ())
    report_id = small_int(args[0].lstrip("#"), 15) if args else None
    words = {w: v for v, w in VERDICT_WORDS.items()}
    return report_id, (words.get(args[1]) if len(args) > 1 else None)


def _queued(update: Update, context: Context) -> bool:
    """Whether the button pressed came from the review queue."""
    data = pressed(update, context) or ""
    return data.startswith(f"{ENTRY_PREFIX}:") and data.endswith(f":{QUEUED}")


async def _answer(update: Update, text: str | None = None) -> None:
    """Acknowledge a review button, leaving the message's other review buttons in place."""
    if update.callback_query is not None:
        await acknowledge(update.callback_query, text)


async def start(update: Update, context: Context) -> Go:
    user = update.effective_user
    assert user is not None
    bot_data = context.bot_data
    report_id, verdict = _target(update, context)
    if report_id is None and update.callback_query is None:  # /review: the queue
        await _next_in_queue(update, context)
        return END
    if report_id is None:
        await _answer(update)
        await send(update, context, USAGE)
        return END
    # the button was checked by the guard; /review 123 is checked here, the same way
    reason = refuse_target(actor_of(bot_data, user.id), bot_data.db, NEED, report_id, "审核")
    report = get_report(bot_data.db, report_id) if reason is None else None
    if report is None:
        reason = reason or GONE
        await _answer(update, reason)
        await send(update, context, escape(reason))
        return END
    if verdict is None:
        today = local_today(bot_data.now())
        shown = history_entry(report, bot_data.kb, today,
                              reviews_of(bot_data.db, [report.id]).get(report.id, ()))
        title = escape(_title(bot_data, report))
        name = escape(_enterprise_name(bot_data, report))
        await send(update, context, f"企业：<b>{name}</b>\n任务{report.task} {title}\n{shown}",
                   keyboard([review_row(report.id)]))
        return END
    if not verdict.needs_comment:
        record(context, report, user.id, verdict, "", f"update:{update.update_id}")
        await _answer(update, "已核实")
        name = escape(_enterprise_name(bot_data, report))
        await send(update, context, f"✅ 报告 #{report.id}（{name}）已核实，已通知企业。")
        if _queued(update, context):
            await _next_in_queue(update, context)
        return END
    await _answer(update)
    clear_draft(context, DIALOG)
    data = draft(context, DIALOG)
    data["report"], data["verdict"] = report.id, verdict.value
    data["name"], data["queued"] = _enterprise_name(bot_data, report), _queued(update, context)
    return Ask(COMMENT)


async def _store(update: Update, context: Context, comment: str) -> Go:
    user = update.effective_user
    assert user is not None
    data = draft(context, DIALOG)
    report = get_report(context.bot_data.db, int(data["report"]))
    verdict = Verdict(data["verdict"])
    token = str(data.get("token") or f"update:{update.update_id}")
    if report is None:
        clear_draft(context, DIALOG)
        await send(update, context, "找不到这份报告了。")
        return END
    record(context, report, user.id, verdict, comment, token)
    queued = bool(data.get("queued"))
    clear_draft(context, DIALOG)
    name = escape(_enterprise_name(context.bot_data, report))
    await send(update, context,
               f"✅ 报告 #{report.id}（{name}）：{VERDICT_WORDS[verdict]}，已通知企业。")
    if queued:
        await _next_in_queue(update, context)
    return END


FLOW = Flow(DIALOG, start, (
    Step(COMMENT, _prompt, parse=lambda c, text: described(text, COMMENT_LIMIT, "意见"),
         accept=_store, commits=True),
), entry_button=ENTRY_PREFIX, check=may_review)
conversation = FLOW.conversation
