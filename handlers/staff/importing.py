"""Bringing in an office's enterprise list: ``/import`` in chat, ``lvdong import`` on
the server — both through :func:`run_import`.

The file is read and every row checked (``handlers.staff.roster_check``); a file that
cannot be read as a list is refused whole with what is wrong. The good rows go in one
transaction (``storage.roster.import_rows``); each bad row is listed with its row
number as the spreadsheet shows it, and a copy of the sheet with a 问题 column says
what is wrong where. ``dry_run`` checks only. In the bot the work runs in a worker
thread on a connection of its own, so everyone else keeps being answered.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlite_utils import Database
from telegram import InputFile, Update
from telegram.ext import filters

from handlers.core.access import actor_of
from handlers.core.context import BotData, Context
from handlers.core.dialog_shape import Ask, Files, Flow, Go, Screen, Step
from handlers.core.dialogs import END, Dialog, clear_draft, send, start_scoped
from handlers.core.offload import Busy, in_writer
from handlers.core.telegram_html import escape
from handlers.staff.roster_check import Checked, check_table
from knowledge.model import KnowledgeBase
from storage.enterprise_invites import InviteKey, load_key
from storage.qualifiers import set_qualifiers
from storage.roster import (
    MAX_BYTES,
    BadFile,
    Difference,
    ImportResult,
    QualifierWriter,
    Table,
    import_rows,
    iter_problem_lines,
    read_table,
    write_problems,
)
from storage.users import Scope

_LOGGER = logging.getLogger(__name__)

DIALOG = Dialog(name="import", command="import", title="名单导入", prefix="im")
FILE = "FILE"
SHOWN_PROBLEMS = 15
SHOWN_DIFFERENCES = 15


@dataclass
class ImportOutcome:
    """What one import did: the rows read, the problems by row, what was written."""

    table: Table
    checked: Checked
    result: ImportResult | None  # None: a dry run, or nothing to write
    problems_xlsx: bytes | None = None  # the copy with the 问题 column, if any row is bad
    seconds: dict[str, float] = field(default_factory=dict)

    def summary(self, name: str) -> str:
        lines = [f"{name}：{len(self.table.rows):,} 行，合格 {len(self.checked.rows):,} 行，"
                 f"有问题 {self.checked.bad:,} 行。"]
        if self.result is not None:
            lines.append("已导入：" + self.result.describe() + "。")
        return "\n".join(lines)


def registered_regions(db: Database) -> dict[str, str]:
    """Credit code → region of every enterprise not rejected (for the scope check)."""
    return {code: city for code, city in db.execute(
        "SELECT credit_code, city FROM enterprises WHERE status != 'rejected'")}


def qualifier_columns(kb: KnowledgeBase) -> tuple[tuple[str, str], ...]:
    """(key, name) of the knowledge base's enterprise qualifiers (none before they exist)."""
    return tuple((q.key, q.name) for q in kb.qualifiers)


def qualifier_writer(kb: KnowledgeBase, actor_id: int, now: dt.datetime
                     ) -> QualifierWriter | None:
    """Writes a row's 是/否 answers, audited by ``set_qualifiers``."""
    if not qualifier_columns(kb):
        return None

    def write(db: Database, enterprise_id: int, values: Mapping[str, str]) -> bool:
        return bool(set_qualifiers(db, enterprise_id, values, actor_id=actor_id, now=now))

    return write


def run_import(db: Database, data: bytes, filename: str, *, kb: KnowledgeBase, scope: Scope,
               actor_id: int, now: dt.datetime, key: InviteKey | None, valid_for: dt.timedelta,
               dry_run: bool = False,
               clock: Callable[[], float] | None = None) -> ImportOutcome:
    """Read, check and (unless ``dry_run``) import a list. BadFile: nothing written.
    ``key``: the invitation key (only an import needs it)."""
    import time

    tick = clock or time.perf_counter
    start = tick()
    table = read_table(data, filename)
    read_at = tick()
    checked = check_table(table, kb, scope, registered_regions(db), qualifier_columns(kb))
    checked_at = tick()
    outcome = ImportOutcome(table, checked, None, seconds={"read": read_at - start,
                                                           "check": checked_at - read_at})
    if checked.problems:
        out = io.BytesIO()
        write_problems(table, checked.problems, out)
        outcome.problems_xlsx = out.getvalue()
    if not dry_run and checked.rows:
        assert key is not None, "an import issues invitation codes"
        outcome.result = import_rows(db, checked.rows, actor_id=actor_id, now=now, key=key,
                                     valid_for=valid_for, source=Path(filename).name,
                                     qualifiers=qualifier_writer(kb, actor_id, now))
        outcome.seconds["import"] = tick() - checked_at
    return outcome


def difference_lines(differences: list[Difference]) -> list[str]:
    return [f"{d.credit_code} {d.name}：{d.label} 登记为“{d.registered or '（空）'}”，"
            f"名单为“{d.listed or '（空）'}”" for d in differences]


def invite_days(bot_data: BotData) -> dt.timedelta:
    return dt.timedelta(days=getattr(bot_data, "enterprise_invite_days", 90))


# --- the dialog ----------------------------------------------------------------------

PROMPT = (
    "<b>导入企业名单</b>\n请把名单作为<b>文件</b>发送（Excel .xlsx 或 CSV，不超过20 MB、5万行）。"
    "第1行为表头，需要的列：企业名称、统一社会信用代码、地市；可选：区县、行业、联系人、"
    "联系电话。导出的台账“企业”工作表可直接导入。\n只导入您负责范围内的企业。"
    "发送 /cancel 取消。"
)


def _prompt(context: Context) -> Screen:
    return PROMPT, []


async def _start(update: Update, context: Context) -> Go:
    """Keep the scope the import starts with: a narrowed scope ends the dialog (as in
    every scoped dialog), and the rows are checked against the scope at the commit."""
    user = update.effective_user
    if user is None:
        return END
    start_scoped(context, DIALOG, actor_of(context.bot_data, user.id).scope)
    return None


async def got_file(update: Update, context: Context) -> Go:
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    if message is None or user is None or chat is None or message.document is None:
        return Ask(FILE, NOT_A_FILE)
    document = message.document
    name = document.file_name or "名单"
    if document.file_size is not None and document.file_size > MAX_BYTES:
        return Ask(FILE, f"文件超过 {MAX_BYTES // 1024 // 1024} MB，请按地市分成几个文件。")
    bot_data = context.bot_data
    await send(update, context, f"已收到 {escape(name)}，正在检查……")
    file = await context.bot.get_file(document.file_id)
    data = bytes(await file.download_as_bytearray())
    scope = actor_of(bot_data, user.id).scope  # as it is now (the step was checked too)
    now = bot_data.now()

    def work(db: Database) -> ImportOutcome:
        return run_import(db, data, name, kb=bot_data.kb, scope=scope, actor_id=user.id,
                          now=now, key=load_key(bot_data.db_path),
                          valid_for=invite_days(bot_data))

    try:
        outcome = await in_writer(bot_data, user.id, work)
    except BadFile as exc:
        return Ask(FILE, f"没有导入：{exc}")
    except Busy as exc:
        return Ask(FILE, exc.message)
    clear_draft(context, DIALOG)
    lines = [escape(outcome.summary(name))]
    problem_lines = list(iter_problem_lines(outcome.checked.problems))
    if problem_lines:
        lines.append("\n有问题的行（未导入，改正后可整表重新导入，已导入的不会重复）：")
        lines += [escape(line) for line in problem_lines[:SHOWN_PROBLEMS]]
        if len(problem_lines) > SHOWN_PROBLEMS:
            lines.append(f"……共{len(problem_lines)}行，见附件的“问题”列。")
    if outcome.result is not None and outcome.result.differences:
        shown = difference_lines(outcome.result.differences)
        lines.append("\n名单与本平台登记不一致（登记未被覆盖，请核实）：")
        lines += [escape(line) for line in shown[:SHOWN_DIFFERENCES]]
        if len(shown) > SHOWN_DIFFERENCES:
            lines.append(f"……共{len(shown)}处。")
    if outcome.result is not None and outcome.result.created:
        lines.append("\n用 /enterprise 查看企业及其邀请链接；服务器上 lvdong invites 可导出全部"
                     "邀请链接和二维码。")
    await send(update, context, "\n".join(lines)[:4000])
    if outcome.problems_xlsx is not None:
        stem = Path(name).stem or "名单"
        await context.bot.send_document(
            chat.id, InputFile(io.BytesIO(outcome.problems_xlsx), filename=f"{stem}.问题.xlsx"),
            caption="有问题的行已在“问题”列注明。")
    return END


NOT_A_FILE = "请以文件（附件）形式发送名单，不要粘贴文字。"

FLOW = Flow(DIALOG, _start, (
    Step(FILE, _prompt, files=Files(filters.Document.ALL, got_file), hint=NOT_A_FILE),
))
