"""The staff's review queue: ``/review`` with no number opens the oldest report nobody
has reviewed in the reviewer's scope — its enterprise, the enterprise's earlier reports
on that task, its attachments — with the three review buttons; after a verdict given
from the queue, the next one follows, until none is left."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode

from handlers.core.access import actor_of, refusal
from handlers.core.context import Context
from handlers.core.dialogs import keyboard
from handlers.core.offload import in_worker
from handlers.core.report_text import history_entry
from handlers.core.telegram_html import escape
from handlers.staff.filters import scope_regions
from handlers.staff.reports import _resend_attachments
from handlers.staff.review import NEED, review_row
from storage.clock import local_today
from storage.enterprises import enterprise_of_user, get_enterprise
from storage.progress import ReportFilter, unreviewed_queue
from storage.reports import get_report, reports_of
from storage.reviews import reviews_of

EMPTY = "✅ 您负责的范围内没有待审核的填报。"
EARLIER_SHOWN = 3  # earlier reports of the same task shown under the one to review


async def show_next(update: Update, context: Context) -> None:
    """Show the oldest unreviewed report in the user's scope (or say there is none)."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return
    bot_data = context.bot_data
    db = bot_data.db
    actor = actor_of(bot_data, user.id)
    flt = ReportFilter().within(scope_regions(actor))
    queue = await in_worker(bot_data, lambda reader: unreviewed_queue(reader, flt))
    membership = enterprise_of_user(db, user.id)  # never their own enterprise's
    own = membership.enterprise.id if membership is not None else None
    waiting = [report_id for report_id, enterprise_id in queue if enterprise_id != own]
    # the first one the reviewer may review now (the policy's own check, not only scope)
    first = next((r for r in waiting if refusal(NEED, actor, db, r, "审核") is None), None)
    report = get_report(db, first) if first is not None else None
    enterprise = get_enterprise(db, report.enterprise_id) if report is not None else None
    if report is None or enterprise is None:
        await context.bot.send_message(chat.id, EMPTY)
        return
    kb = bot_data.kb
    today = local_today(bot_data.now())
    earlier = [r for r in reports_of(db, enterprise.id)
               if r.task == report.task and r.id != report.id][:EARLIER_SHOWN]
    reviews = reviews_of(db, [report.id, *(r.id for r in earlier)])
    lines = [
        f"<b>待审核的填报</b>（共{len(waiting)}份，从最早的开始）",
        f"企业：<b>{escape(enterprise.name)}</b>（{escape(enterprise.city)}）"
        f"　信用代码 {escape(enterprise.credit_code)}",
        f"任务{report.task} {escape(kb.task_titles.get(report.task, ''))}",
        history_entry(report, kb, today, reviews.get(report.id, ())),
    ]
    if earlier:
        lines.append("\n<b>此前对该任务的填报</b>：")
        lines += [history_entry(r, kb, today, reviews.get(r.id, ())) for r in earlier]
    await context.bot.send_message(chat.id, "\n".join(lines), parse_mode=ParseMode.HTML,
                                   reply_markup=keyboard([review_row(report.id, queued=True)]))
    await _resend_attachments(context, chat.id, [report])
