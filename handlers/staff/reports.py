"""/reports and /enterprise: staff read the self-reports of their scope.

``/reports`` alone shows the filter panel (地市, 行业, 任务, 状态, 审核, 时间, each a
button that opens its choices); ``/reports 洛阳 任务13 已完成`` sets the filter and
shows the results at once. Results are the latest report per enterprise and task,
ten to a page, with buttons to page and to open an enterprise: its registration,
its progress on every task that concerns it, and its whole report history with
reviews — the photos and PDFs are sent again (by file_id) — and review buttons
under each task's latest report. ``/enterprise 名称或信用代码`` finds one directly
(fuzzy on the name, exact on the code). Everything is limited to the asker's scope.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from rapidfuzz import fuzz, process
from sqlite_utils import Database
from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from handlers.core.access import Actor, actor_of
from handlers.core.callback_queries import acknowledge
from handlers.core.context import BotData, Context
from handlers.core.dialogs import check_mark, in_rows, keyboard, small_int
from handlers.core.offload import in_worker
from handlers.core.plan import tasks_of
from handlers.core.report_text import history_entry, latest_line
from handlers.core.telegram_html import escape, fit, pack
from handlers.staff import export, invitations, qualifiers, stats
from handlers.staff import filters as staff_filters
from handlers.staff.filters import APPROVAL_WORDS, PERIODS, StaffFilter
from handlers.staff.review import review_row
from storage.clock import format_local, local_today
from storage.credit_code import check_credit_code
from storage.enterprises import Enterprise, Status, find_by_code, get_enterprise, names_in
from storage.progress import Approval, LatestRow, latest_page
from storage.regions import REGIONS
from storage.reports import Report, latest_by_task, reports_of
from storage.reviews import VERDICT_WORDS, Verdict, last_review, reviews_of

PREFIX = "rs"  # the panel and its pages: rs:<action>[:<value>]
OPEN_PREFIX = "re"  # re:<enterprise id>
PAGE_SIZE = 10
ATTACHMENTS_SENT = 10
MATCHES_SHOWN = 5
MIN_NAME_SCORE = 60
CLEAR_LEAD = 5  # a name match this far ahead of the next opens at once

DIMENSIONS = {"reg": "地市", "ind": "行业", "task": "任务", "st": "状态", "ap": "审核",
              "time": "时间"}
NOTHING = "没有符合条件的填报。可以放宽筛选条件。"
STATUS_WORDS = {Status.PENDING: "待审核", Status.APPROVED: "已审核", Status.REJECTED: "未通过"}


def _actor(update: Update, context: Context) -> Actor:
    user = update.effective_user
    assert user is not None
    return actor_of(context.bot_data, user.id)


# --- the panel ------------------------------------------------------------------------


def panel(chosen: StaffFilter) -> tuple[str, InlineKeyboardMarkup | None]:
    text = (f"<b>查看填报</b>\n当前条件：{escape(chosen.describe())}\n\n"
            "点下方按钮设置条件，再点“查看结果”。也可以直接发送，例如：/reports 洛阳 任务13 已完成")
    dims = [(word, f"{PREFIX}:m:{key}") for key, word in DIMENSIONS.items()]
    return text, keyboard([*in_rows(dims, 3),
                           [("🔍 查看结果", f"{PREFIX}:go:0"), ("清除条件", f"{PREFIX}:clr")],
                           [("📊 统计图", f"{PREFIX}:chart"), ("📥 导出Excel", f"{PREFIX}:xlsx")]])


def _options(dim: str, bot_data: BotData, actor: Actor) -> list[str]:
    kb = bot_data.kb
    if dim == "reg":
        return staff_filters.regions_in_scope(actor)
    if dim == "ind":
        return [choice.name for choice in kb.industry_choices]
    if dim == "task":
        return [str(n) for n in kb.task_numbers]
    if dim == "st":
        return [s.name for s in kb.statuses]
    if dim == "ap":
        return list(APPROVAL_WORDS.values())
    return ["不限", *PERIODS, "本月", "今年"]


def _chosen_values(dim: str, chosen: StaffFilter) -> set[str]:
    if dim == "reg":
        return set(chosen.regions)
    if dim == "ind":
        return set(chosen.industries)
    if dim == "task":
        return {str(t) for t in chosen.tasks}
    if dim == "st":
        return set(chosen.statuses)
    if dim == "ap":
        return {APPROVAL_WORDS[Approval(chosen.approval)]}
    return set()


def menu(dim: str, bot_data: BotData, actor: Actor, chosen: StaffFilter
         ) -> tuple[str, InlineKeyboardMarkup | None]:
    options = _options(dim, bot_data, actor)
    marked = _chosen_values(dim, chosen)
    per_row = 6 if dim == "task" else 3
    buttons = [(check_mark(option, option in marked), f"{PREFIX}:t:{dim}:{i}")
               for i, option in enumerate(options)]
    single = dim in ("ap", "time")
    hint = "单选" if single else "可多选，再点一次取消"
    text = (f"选择{DIMENSIONS[dim]}（{hint}），选好后点“返回”。\n"
            f"当前条件：{escape(chosen.describe())}")
    return text, keyboard([*in_rows(buttons, per_row), [("‹ 返回", f"{PREFIX}:p")]])


def toggle(dim: str, option: str, chosen: StaffFilter, today: dt.date) -> None:
    def flip(values: list[str]) -> list[str]:
        return [v for v in values if v != option] if option in values else [*values, option]

    if dim == "reg":
        chosen.regions = [r for r in REGIONS if r in flip(chosen.regions)]
    elif dim == "ind":
        chosen.industries = flip(chosen.industries)
    elif dim == "task":
        tasks = flip([str(t) for t in chosen.tasks])
        chosen.tasks = sorted(int(t) for t in tasks)
    elif dim == "st":
        chosen.statuses = flip(chosen.statuses)
    elif dim == "ap":
        chosen.approval = next(a.value for a, w in APPROVAL_WORDS.items() if w == option)
    else:
        chosen.until = None
        chosen.since = {
            "不限": None, "本月": today.replace(day=1).isoformat(),
            "今年": today.replace(month=1, day=1).isoformat(),
        }.get(option, (today - dt.timedelta(days=PERIODS.get(option, 0))).isoformat())


# --- results --------------------------------------------------------------------------


def result_text(bot_data: BotData, chosen: StaffFilter, rows: Sequence[LatestRow], total: int,
                offset: int) -> str:
    kb = bot_data.kb
    titles = kb.task_titles
    head = (f"<b>填报查询</b>：{escape(chosen.describe())}\n"
            f"共{total}条（第{offset + 1}–{offset + len(rows)}条），每家企业每项任务显示最新一次：")
    lines = [head]
    for n, row in enumerate(rows, start=offset + 1):
        known = kb.status(row.status)
        asks = known is not None and known.asks_percent and row.percent is not None
        status = f"{row.status} {row.percent}%" if asks else row.status
        review = f" · {VERDICT_WORDS[Verdict(row.review)]}" if row.review else ""
        pending = "（企业待审核）" if not row.approved else ""
        lines.append(
            f"{n}. {escape(row.city)} · {escape(fit(row.enterprise_name, 24))}{pending} · "
            f"任务{row.task} {escape(fit(titles.get(row.task, ''), 12))} — <b>{escape(status)}</b>"
            f" · {format_local(row.reported_at)[:10]}{review}")
    return "\n".join(lines)


def result_keyboard(rows: Sequence[LatestRow], total: int, offset: int
                    ) -> InlineKeyboardMarkup | None:
    seen: dict[int, str] = {}
    for row in rows:
        seen.setdefault(row.enterprise_id, row.enterprise_name)
    opens = [(f"查看 {fit(name, 14)}", f"{OPEN_PREFIX}:{eid}") for eid, name in seen.items()]
    nav = []
    if offset > 0:
        nav.append(("‹ 上一页", f"{PREFIX}:go:{max(0, offset - PAGE_SIZE)}"))
    if offset + PAGE_SIZE < total:
        nav.append(("下一页 ›", f"{PREFIX}:go:{offset + PAGE_SIZE}"))
    return keyboard([*in_rows(opens, 2), nav, [("筛选条件", f"{PREFIX}:p"),
                                                ("📥 导出Excel", f"{PREFIX}:xlsx")]])


async def show_results(update: Update, context: Context, offset: int, *, edit: bool) -> None:
    bot_data = context.bot_data
    actor = _actor(update, context)
    chosen = staff_filters.saved(context)
    flt = staff_filters.scoped(actor, chosen, bot_data.kb)
    if isinstance(flt, str):
        await _say(update, context, flt, None, edit=edit)
        return
    rows, total = await in_worker(
        bot_data, lambda db: latest_page(db, flt, offset=offset, limit=PAGE_SIZE))
    if total and offset >= total:  # a stale page button after the data shrank
        offset = max(0, (total - 1) // PAGE_SIZE * PAGE_SIZE)
        rows, total = await in_worker(
            bot_data, lambda db: latest_page(db, flt, offset=offset, limit=PAGE_SIZE))
    if not rows:
        await _say(update, context, f"{NOTHING}\n当前条件：{escape(chosen.describe())}",
                   panel(chosen)[1], edit=edit)
        return
    await _say(update, context, result_text(bot_data, chosen, rows, total, offset),
               result_keyboard(rows, total, offset), edit=edit)


async def _say(update: Update, context: Context, text: str,
               markup: InlineKeyboardMarkup | None, *, edit: bool) -> None:
    query = update.callback_query
    if edit and query is not None:
        try:
            await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)
            return
        except BadRequest as exc:
            if "not modified" in exc.message:
                return
    chat = update.effective_chat
    if chat is not None:
        await context.bot.send_message(chat.id, text, parse_mode=ParseMode.HTML,
                                       reply_markup=markup)


async def reports_command(update: Update, context: Context) -> None:
    """/reports [条件…]: the panel, or straight to the results of the typed filter."""
    words = list(context.args or ())
    if not words:
        await _say(update, context, *panel(staff_filters.saved(context)), edit=False)
        return
    chosen = staff_filters.parse_words(words, context.bot_data)
    if isinstance(chosen, str):
        await _say(update, context, escape(chosen), None, edit=False)
        return
    refused = staff_filters.scoped(_actor(update, context), chosen, context.bot_data.kb)
    if isinstance(refused, str):  # checked before it is saved: the last good filter stays
        await _say(update, context, refused, None, edit=False)
        return
    staff_filters.save(context, chosen)
    await show_results(update, context, 0, edit=False)


async def on_panel(update: Update, context: Context) -> None:
    """``rs:…``: the panel's buttons."""
    query = update.callback_query
    if query is None:
        return
    parts = (query.data or "").split(":")[1:]
    action = parts[0] if parts else ""
    bot_data = context.bot_data
    chosen = staff_filters.saved(context)
    actor = _actor(update, context)
    if action == "go":
        await acknowledge(query)
        offset = (small_int(parts[1]) if len(parts) > 1 else None) or 0
        await show_results(update, context, offset, edit=True)
        return
    if action == "m" and len(parts) > 1 and parts[1] in DIMENSIONS:
        await acknowledge(query)
        await _say(update, context, *menu(parts[1], bot_data, actor, chosen), edit=True)
        return
    if action == "t" and len(parts) > 2 and parts[1] in DIMENSIONS:
        options = _options(parts[1], bot_data, actor)
        index = small_int(parts[2])
        if index is not None and index < len(options):
            toggle(parts[1], options[index], chosen, local_today(bot_data.now()))
            staff_filters.save(context, chosen)
        await acknowledge(query)
        back_to_panel = parts[1] in ("ap", "time")
        await _say(update, context, *(panel(chosen) if back_to_panel
                                      else menu(parts[1], bot_data, actor, chosen)), edit=True)
        return
    if action == "clr":
        staff_filters.save(context, StaffFilter())
        chosen = StaffFilter()
    if action in ("chart", "xlsx"):
        await acknowledge(query, "正在生成…")
        await (stats.send_chart(update, context, chosen) if action == "chart"
               else export.send_export(update, context, chosen))
        return
    await acknowledge(query)
    await _say(update, context, *panel(chosen), edit=True)


# --- one enterprise -------------------------------------------------------------------


def card(bot_data: BotData, enterprise: Enterprise) -> list[str]:
    """Registration and progress on every task that concerns it — by industries and
    qualifier answers, the one answer — or it reported on, in as many messages as it
    takes (Telegram's limit, in UTF-16 units). The qualifiers follow in a message of
    their own, with the buttons to correct them (:mod:`handlers.staff.qualifiers`)."""
    db, kb = bot_data.db, bot_data.kb
    today = local_today(bot_data.now())
    latest = latest_by_task(db, enterprise.id)
    reviews = reviews_of(db, [r.id for r in latest.values()])
    county = f" {enterprise.county}" if enterprise.county else ""
    lines = [
        f"<b>{escape(enterprise.name)}</b>（{STATUS_WORDS[enterprise.status]}）",
        f"信用代码：{escape(enterprise.credit_code)}",
        f"所在地：{escape(enterprise.city + county)}",
        f"行业：{escape('、'.join(enterprise.industries))}",
        f"联系人：{escape(enterprise.contact_name)}　电话：{escape(enterprise.phone)}",
        "",
        "<b>各项任务进展</b>：",
    ]
    concerned = [t.number for t in tasks_of(bot_data, enterprise)]
    for task in sorted(set(concerned) | set(latest)):
        title = kb.task_titles.get(task, f"任务{task}")
        report = latest.get(task)
        if report is None:
            lines.append(f"{task}. {escape(title)} — 未填报")
        else:
            lines.append(latest_line(report, title, kb, today, last_review(reviews, report.id)))
    return [text for text, _ in pack(lines)]


def history_messages(
    bot_data: BotData, reports: Sequence[Report]
) -> list[tuple[str, list[Report]]]:
    """The whole report history (``reports``, newest first) cut into messages; with each
    message the reports that get review buttons (each task's latest)."""
    kb = bot_data.kb
    today = local_today(bot_data.now())
    if not reports:
        return [("还没有任何填报。", [])]
    reviews = reviews_of(bot_data.db, [r.id for r in reports])
    latest_ids = set({r.task: r.id for r in reversed(reports)}.values())
    blocks = [f"<b>全部填报记录</b>（共{len(reports)}次，最新在前）："]
    for report in reports:
        title = kb.task_titles.get(report.task, "")
        blocks.append(f"任务{report.task} {escape(title)}\n"
                      + history_entry(report, kb, today, reviews.get(report.id, ())))
    return [(text, [reports[i - 1] for i in ended if i and reports[i - 1].id in latest_ids])
            for text, ended in pack(blocks, sep="\n\n")]


def review_keyboard(reports: Sequence[Report]) -> InlineKeyboardMarkup | None:
    return keyboard([review_row(r.id) for r in reports])


async def send_enterprise(update: Update, context: Context, enterprise: Enterprise) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    bot_data = context.bot_data
    for text in card(bot_data, enterprise):
        await context.bot.send_message(chat.id, text, parse_mode=ParseMode.HTML)
    await qualifiers.send_panel(context, chat.id, enterprise)
    invite = invitations.invitation_block(bot_data, enterprise, context.bot.username)
    if invite is not None:
        await context.bot.send_message(chat.id, invite[0], parse_mode=ParseMode.HTML,
                                       reply_markup=invite[1])
    reports = reports_of(bot_data.db, enterprise.id)
    for text, reviewable in history_messages(bot_data, reports):
        await context.bot.send_message(chat.id, text, parse_mode=ParseMode.HTML,
                                       reply_markup=review_keyboard(reviewable))
    await _resend_attachments(context, chat.id, reports)


async def _resend_attachments(context: Context, chat_id: int, reports: Sequence[Report]) -> None:
    """The photos and PDFs filed with the reports (newest first), sent again by file_id."""
    files = [(file, report) for report in reports for file in reversed(report.attachments)]
    for file, report in files[:ATTACHMENTS_SENT]:
        caption = (f"报告 #{report.id}（任务{report.task}）的附件"
                   + (f"：{file.file_name}" if file.file_name else ""))
        try:
            if file.kind == "photo":
                await context.bot.send_photo(chat_id, file.file_id, caption=caption)
            else:
                await context.bot.send_document(chat_id, file.file_id, caption=caption)
        except BadRequest as exc:
            await context.bot.send_message(
                chat_id, f"报告 #{report.id} 的附件无法再发送（{exc.message}）。")
    if len(files) > ATTACHMENTS_SENT:
        await context.bot.send_message(
            chat_id, f"另有{len(files) - ATTACHMENTS_SENT}个较早的附件未发送；可导出台账查看。")


async def on_open(update: Update, context: Context) -> None:
    """``re:<enterprise>``: the access policy checked the scope already."""
    query = update.callback_query
    if query is None:
        return
    parts = (query.data or "").split(":")
    enterprise_id = small_int(parts[1], 15) if len(parts) > 1 else None
    enterprise = get_enterprise(context.bot_data.db, enterprise_id) if enterprise_id else None
    await acknowledge(query)
    if enterprise is not None:
        await send_enterprise(update, context, enterprise)


def find(db: Database, text: str, regions: frozenset[str]) -> list[tuple[Enterprise, float]]:
    """By credit code (exact), else by name (fuzzy), within ``regions`` (empty: all); with
    each match its score (100: certain), best first."""
    code = check_credit_code(text)
    if code.ok:
        found = find_by_code(db, code.code)
        if found is None or found.status is Status.REJECTED or (
                regions and found.city not in regions):
            return []
        return [(found, 100.0)]
    names = names_in(db, regions)
    matches = process.extract(text, names, scorer=fuzz.WRatio, limit=MATCHES_SHOWN,
                              score_cutoff=MIN_NAME_SCORE)
    out = [(get_enterprise(db, key), float(score)) for _, score, key in matches]
    return [(e, score) for e, score in out if e is not None]


def clear_winner(matches: Sequence[tuple[Enterprise, float]]) -> Enterprise | None:
    """The one match to open at once: the only one, or well ahead of the next."""
    if len(matches) == 1 or (matches and matches[0][1] - matches[1][1] >= CLEAR_LEAD):
        return matches[0][0]
    return None


async def enterprise_command(update: Update, context: Context) -> None:
    """/enterprise 名称或信用代码"""
    message = update.effective_message
    if message is None:
        return
    text = " ".join(context.args or ()).strip()
    if not text:
        await message.reply_text(
            "请在 /enterprise 后面写上企业名称（可以不全）或统一社会信用代码。")
        return
    regions = staff_filters.scope_regions(_actor(update, context))
    matches = await in_worker(context.bot_data, lambda db: find(db, text[:100], regions))
    if not matches:
        await message.reply_text(f"在您负责的范围内没有找到“{text[:30]}”。")
        return
    winner = clear_winner(matches)
    if winner is not None:
        await send_enterprise(update, context, winner)
        return
    buttons = [[(f"{e.name}（{e.city}）", f"{OPEN_PREFIX}:{e.id}")] for e, _ in matches]
    await message.reply_text("找到以下企业，请选择：", reply_markup=keyboard(buttons))
