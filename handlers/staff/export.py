"""/export: the Excel ledger of the current filter (or of the words typed after it).

``/export`` uses the filter set in /reports; ``/export 洛阳 任务13`` its own;
``/export csv`` (or the word ``csv`` among the others) the 最新进展 sheet as CSV.
The ledger is written in a worker thread on a read connection of its own, into
memory, and sent as a document; its columns are in the README.
"""

from __future__ import annotations

import io

from sqlite_utils import Database
from telegram import InputFile, Update

from handlers.core.access import actor_of
from handlers.core.context import Context
from handlers.core.offload import Busy, in_heavy_worker
from handlers.core.plan import describe_enterprises
from handlers.staff import filters as staff_filters
from handlers.staff.filters import StaffFilter
from storage.clock import to_local
from storage.enterprise_invites import load_key
from storage.ledger import Invitations, LedgerFormat, LedgerSummary, export_ledger, scratch_dir


async def send_export(update: Update, context: Context, chosen: StaffFilter) -> None:
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return
    bot_data = context.bot_data
    flt = staff_filters.scoped(actor_of(bot_data, user.id), chosen, bot_data.kb)
    if isinstance(flt, str):
        await context.bot.send_message(chat.id, flt)
        return
    fmt = LedgerFormat.CSV if chosen.csv else LedgerFormat.XLSX
    titles, concern = bot_data.kb.task_titles, bot_data.kb.concern()
    invitations = Invitations(load_key(bot_data.db_path), context.bot.username, bot_data.now())

    def write(db: Database) -> tuple[bytes, LedgerSummary]:
        out = io.BytesIO()
        summary = export_ledger(db, flt, out, task_titles=titles, fmt=fmt, concern=concern,
                                invitations=invitations,
                                describe=describe_enterprises(bot_data.kb),
                                scratch=scratch_dir(bot_data.db_path))
        return out.getvalue(), summary

    await context.bot.send_chat_action(chat.id, "upload_document")
    try:
        data, summary = await in_heavy_worker(bot_data, user.id, write)
    except Busy as busy:
        await context.bot.send_message(chat.id, busy.message)
        return
    stamp = to_local(bot_data.now()).strftime("%Y%m%d-%H%M")
    name = f"lvdong-台账-{stamp}.{fmt.value}"
    caption = f"填报台账（{chosen.describe()}）：{summary.describe()}。"
    await context.bot.send_document(chat.id, InputFile(io.BytesIO(data), filename=name),
                                    caption=caption[:1000])


async def export_command(update: Update, context: Context) -> None:
    """/export [条件…] [csv]"""
    words = list(context.args or ())
    only_format = [w for w in words if w.lower() != "csv"] == []
    chosen = (staff_filters.saved(context) if only_format
              else staff_filters.parse_words(words, context.bot_data))
    if isinstance(chosen, str):
        if update.effective_message is not None:
            await update.effective_message.reply_text(chosen)
        return
    chosen.csv = any(w.lower() == "csv" for w in words)
    await send_export(update, context, chosen)
