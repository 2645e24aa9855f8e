"""Notices: queue one for an audience, show how it is going, list and cancel them.

:func:`queue_notice` is what both ``/notify`` (chat) and ``lvdong notify`` (shell)
call: it resolves the audience within the sender's scope, stores the notice and
queues one outbox delivery per recipient, and records the audit entry — all in
one transaction. The official's confirmation message then shows the progress and
is edited as the outbox works (see :func:`show_progress`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from sqlite_utils import Database
from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from handlers.core.access import Actor, actor_of
from handlers.core.audited import Done, audited_button
from handlers.core.callback_queries import acknowledge, parse_data
from handlers.core.context import App, Context
from handlers.core.dialogs import keyboard
from handlers.core.telegram_html import escape
from handlers.delivery.outbox import OUTBOX
from knowledge.model import KnowledgeBase
from storage import audit
from storage.audiences import (
    Audience,
    AudienceKind,
    audience_enterprises,
    recipients,
    unreachable,
)
from storage.clock import format_local
from storage.db import transaction
from storage.notices import (
    Notice,
    cancel_notice,
    create_notice,
    get_notice,
    list_notices,
    notice_counts,
)
from storage.outbox import DeliveryStatus, requeue_uncertain, unreached
from storage.users import Scope

_LOGGER = logging.getLogger(__name__)

CANCEL_PREFIX = "nc"  # nc:<notice id>
RESEND_PREFIX = "nr"  # nr:<notice id>: send the uncertain ones again
PAGE_PREFIX = "np"  # np:<older than notice id>
UNREACHED_PREFIX = "nu"  # nu:<notice id>: who was not (surely) reached
UNREACHED_SHOWN = 50
PAGE_SIZE = 5

WORDS = {
    DeliveryStatus.SENT: "已送达",
    DeliveryStatus.FAILED: "失败",
    DeliveryStatus.BLOCKED: "已屏蔽机器人",
    DeliveryStatus.UNCERTAIN: "未确认",
    DeliveryStatus.CANCELLED: "已取消",
}
LEFT = "待发送"
UNCERTAIN_NOTE = ("“未确认”：消息已交给 Telegram，但没有收到回应（例如网络中断），"
                  "可能已送达也可能没有；为避免重复，不会自动重发。")
NOTHING = "还没有发送过通知。发送 /notify 发一条。"


@dataclass(frozen=True)
class Preview:
    """What /notify shows before sending: where the audience is and its exact size."""

    regions: frozenset[str]
    enterprises: int
    recipients: list[int]
    unreachable: int = 0  # enterprises of the list nobody has joined for (未加入)


def audience_regions(audience: Audience, scope: Scope) -> frozenset[str]:
    """The regions a notice goes to: the city chosen, else the sender's scope."""
    if audience.kind is AudienceKind.CITY:
        return frozenset({audience.value})
    return scope.regions


def audience_ids(db: Database, kb: KnowledgeBase, audience: Audience, scope: Scope
                 ) -> list[int]:
    """The enterprises ``audience`` names within ``scope``, as the knowledge base reads
    it (an industry's members, who each task concerns, the done statuses)."""
    members = (kb.industry_members(audience.value)
               if audience.kind is AudienceKind.INDUSTRY else None)
    return audience_enterprises(db, audience, scope=scope, concern=kb.concern(),
                                done=kb.done_statuses, members=members)


def preview(db: Database, kb: KnowledgeBase, audience: Audience, scope: Scope) -> Preview:
    ids = audience_ids(db, kb, audience, scope)
    return Preview(audience_regions(audience, scope), len(ids), recipients(db, ids),
                   len(unreachable(db, ids)))


def notice_html(kb: KnowledgeBase, text: str) -> str:
    """The message enterprises receive."""
    return f"📣 <b>通知</b>（{escape(kb.title)}相关）\n\n{escape(text)}"


def queue_notice(
    db: Database,
    kb: KnowledgeBase,
    *,
    by: int,
    scope: Scope,
    audience: Audience,
    text: str,
    send_at: dt.datetime,
    now: dt.datetime,
) -> tuple[Notice, int]:
    """Store and queue a notice (with its audit entry) in one transaction; returns the
    notice and its number of recipients, counted at this moment."""
    with transaction(db):
        shown = preview(db, kb, audience, scope)
        notice = create_notice(
            db, by=by, audience=audience, regions=shown.regions, text=text,
            html=notice_html(kb, text), recipients=shown.recipients, send_at=send_at, now=now,
        )
        audit.record(db, actor_id=by, action="notify", subject=f"notice:{notice.id}", now=now,
                     audience=audience.kind.value, value=audience.value,
                     recipients=len(shown.recipients), send_at=send_at.isoformat())
    return notice, len(shown.recipients)


def figures(counts: Counter[DeliveryStatus]) -> str:
    """``已送达 120 · 失败 2 · 已屏蔽机器人 1 · 未确认 0 · 待发送 875``."""
    left = counts[DeliveryStatus.QUEUED] + counts[DeliveryStatus.SENDING]
    parts = [f"{WORDS[s]} {counts[s]}" for s in (DeliveryStatus.SENT, DeliveryStatus.FAILED,
                                                DeliveryStatus.BLOCKED, DeliveryStatus.UNCERTAIN)]
    if counts[DeliveryStatus.CANCELLED]:
        parts.append(f"{WORDS[DeliveryStatus.CANCELLED]} {counts[DeliveryStatus.CANCELLED]}")
    parts.append(f"{LEFT} {left}")
    return " · ".join(parts)


def card(
    db: Database, notice: Notice, now: dt.datetime
) -> tuple[str, InlineKeyboardMarkup | None]:
    """One notice with its figures and buttons, for the progress message and /notices
    (its deliveries counted once)."""
    counts = notice_counts(db, notice)
    return describe(notice, counts, now), keyboard([buttons(notice, counts)])


def describe(notice: Notice, counts: Counter[DeliveryStatus], now: dt.datetime) -> str:
    total = sum(counts.values())
    left = counts[DeliveryStatus.QUEUED] + counts[DeliveryStatus.SENDING]
    if notice.cancelled_at is not None:
        state = "已取消"
    elif left == 0:
        state = "已发送完毕"
    elif notice.send_at > now:
        state = f"定于 {format_local(notice.send_at)} 发送"
    else:
        state = "发送中"
    scope = Scope(notice.regions).describe()
    snippet = notice.text if len(notice.text) <= 40 else notice.text[:39] + "…"
    lines = [
        f"📣 <b>通知 #{notice.id}</b>（{state}）",
        f"发给：{escape(notice.audience.describe())}（{escape(scope)}），共{total}位接收人",
        f"创建：{format_local(notice.created_at)}",
        f"内容：{escape(snippet)}",
        figures(counts),
    ]
    if counts[DeliveryStatus.UNCERTAIN]:
        lines.append(UNCERTAIN_NOTE)
    return "\n".join(lines)


def visible(actor: Actor, notice: Notice) -> bool:
    """Officials see the notices of their scope (and their own); admins see all."""
    return notice.created_by == actor.user_id or actor.covers_all(notice.regions)


def buttons(notice: Notice, counts: Counter[DeliveryStatus]) -> list[tuple[str, str]]:
    row = []
    if notice.cancelled_at is None and counts[DeliveryStatus.QUEUED]:
        row.append((f"取消 #{notice.id}", f"{CANCEL_PREFIX}:{notice.id}"))
    if counts[DeliveryStatus.UNCERTAIN]:
        row.append((f"重发未确认的{counts[DeliveryStatus.UNCERTAIN]}条",
                    f"{RESEND_PREFIX}:{notice.id}"))
    missed = sum(counts[s] for s in (DeliveryStatus.FAILED, DeliveryStatus.BLOCKED,
                                     DeliveryStatus.UNCERTAIN))
    if missed:
        row.append((f"未送达名单（{missed}）", f"{UNREACHED_PREFIX}:{notice.id}"))
    return row


async def on_unreached(update: Update, context: Context) -> None:
    """``nu:<id>``: the recipients a notice did not (surely) reach, so they can be called."""
    query = update.callback_query
    chat = update.effective_chat
    if query is None or chat is None:
        return
    parsed = parse_data(query.data, UNREACHED_PREFIX, 1)
    notice = get_notice(context.bot_data.db, parsed[0]) if parsed else None
    await acknowledge(query)
    if notice is None or notice.message_id is None:
        return
    missed = unreached(context.bot_data.db, notice.message_id)
    lines = [f"<b>通知 #{notice.id} 未送达名单</b>（共{len(missed)}位）："]
    for item in missed[:UNREACHED_SHOWN]:
        who = (f"{escape(item.city or '')} · {escape(item.enterprise)}" if item.enterprise
               else f"用户 {item.chat_id}")
        lines.append(f"• {who} — {WORDS[item.status]}")
    if len(missed) > UNREACHED_SHOWN:
        lines.append(f"……另有{len(missed) - UNREACHED_SHOWN}位。")
    lines.append("“已屏蔽机器人”的企业需另行联系；“未确认”的可能已经收到。")
    await context.bot.send_message(chat.id, "\n".join(lines), parse_mode=ParseMode.HTML)


async def notices_command(update: Update, context: Context) -> None:
    """/notices: the latest notices with their delivery figures; cancel or resend buttons."""
    if update.effective_user is not None:
        await _send_page(update, context, before=None)


async def _send_page(update: Update, context: Context, before: int | None) -> None:
    bot_data = context.bot_data
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None:
        return
    actor = actor_of(bot_data, user.id)
    now = bot_data.now()
    shown: list[Notice] = []
    cursor = before
    while len(shown) < PAGE_SIZE:
        batch = list_notices(bot_data.db, limit=50, before=cursor)
        if not batch:
            break
        shown += [n for n in batch if visible(actor, n)]
        cursor = batch[-1].id
    page, more = shown[:PAGE_SIZE], len(shown) > PAGE_SIZE
    if not page:
        await context.bot.send_message(chat.id, NOTHING)
        return
    for notice in page:
        text, markup = card(bot_data.db, notice, now)
        await context.bot.send_message(chat.id, text, parse_mode=ParseMode.HTML,
                                       reply_markup=markup)
    if more:
        await context.bot.send_message(
            chat.id, "还有更早的通知。",
            reply_markup=keyboard([[("更早的通知 ›", f"{PAGE_PREFIX}:{page[-1].id}")]]),
        )


async def on_page(update: Update, context: Context) -> None:
    query = update.callback_query
    if query is None:
        return
    parsed = parse_data(query.data, PAGE_PREFIX, 1)
    await acknowledge(query)
    if parsed is not None:
        await _send_page(update, context, before=parsed[0])


def _cancel(db: Database, ids: list[int], user_id: int, now: dt.datetime) -> Done:
    cancelled = cancel_notice(db, ids[0], by=user_id, now=now)
    return Done(f"已取消{cancelled}条尚未发出的消息。", "cancel_notice", f"notice:{ids[0]}",
                {"cancelled": cancelled})


async def on_cancel(update: Update, context: Context) -> None:
    """``nc:<id>``: withdraw what has not gone out (the access policy checked the scope)."""
    done = await audited_button(update, context, CANCEL_PREFIX, 1, _cancel)
    if done is not None:
        await _refresh(context, done[0], done[1][0])


async def on_resend(update: Update, context: Context) -> None:
    """``nr:<id>``: the official accepts possible duplicates and sends the uncertain again."""
    query = update.callback_query
    if query is None or query.from_user is None:
        return
    parsed = parse_data(query.data, RESEND_PREFIX, 1)
    notice = get_notice(context.bot_data.db, parsed[0]) if parsed else None
    if notice is None or notice.message_id is None:
        await acknowledge(query)
        return
    bot_data = context.bot_data
    now = bot_data.now()
    with transaction(bot_data.db):
        queued = requeue_uncertain(bot_data.db, notice.message_id, now)
        audit.record(bot_data.db, actor_id=query.from_user.id, action="resend_uncertain",
                     subject=f"notice:{notice.id}", now=now, queued=queued)
    bot_data.outbox.wake()
    await acknowledge(query, f"已重新排队{queued}条。")
    await _refresh(context, query, notice.id)


async def _refresh(context: Context, query: object, notice_id: int) -> None:
    bot_data = context.bot_data
    notice = get_notice(bot_data.db, notice_id)
    if notice is None:
        return
    text, markup = card(bot_data.db, notice, bot_data.now())
    try:
        await query.edit_message_text(  # type: ignore[attr-defined]
            text, parse_mode=ParseMode.HTML, reply_markup=markup)
    except BadRequest as exc:
        _LOGGER.info("notice %s not refreshed: %s", notice_id, exc.message)


async def show_progress(application: App, notice_ids: Iterable[int]) -> None:
    """Edit each notice's progress message in its official's chat (outbox pacing)."""
    bot_data = application.bot_data
    now = bot_data.now()
    for notice_id in sorted(notice_ids):
        notice = get_notice(bot_data.db, notice_id)
        if notice is None or notice.progress_chat_id is None or notice.progress_message_id is None:
            continue
        await bot_data.outbox.pace()
        text, markup = card(bot_data.db, notice, now)
        try:
            await application.bot.edit_message_text(
                text, chat_id=notice.progress_chat_id, message_id=notice.progress_message_id,
                parse_mode=ParseMode.HTML, reply_markup=markup, rate_limit_args=OUTBOX,
            )
        except BadRequest as exc:  # "not modified", or the message is gone
            _LOGGER.info("progress of notice %s not shown: %s", notice_id, exc.message)
