"""Staff approve or reject registrations: 批准 / 驳回 buttons, and /pending.

Who is asked: the staff whose scope covers the enterprise's region, and the
admins — never the applicant, nor anyone who already speaks for that enterprise
(nobody decides on their own case; the access policy refuses such a click too).
Whoever clicks first decides; the decision, its audit entry and the note to the
applicant commit together, and the note goes out through the outbox. A later
click on another copy of the application is told who decided and when.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest

from handlers.core.access import actor_of
from handlers.core.callback_queries import acknowledge, parse_data
from handlers.core.context import BotData, Context
from handlers.core.dialogs import keyboard
from handlers.core.telegram_html import escape
from storage import audit
from storage.clock import format_local
from storage.db import transaction
from storage.enterprises import (
    Account,
    AlreadyDecided,
    Decision,
    Enterprise,
    LookAlike,
    NotAllowed,
    OwnCase,
    Registration,
    Status,
    approve,
    enterprise_of_user,
    get_account,
    get_enterprise,
    look_alikes,
    pending_for_city,
    reject,
    speaks_for,
)
from storage.outbox import Message, Priority
from storage.regions import HENAN
from storage.users import Role, get_user, users_covering

_LOGGER = logging.getLogger(__name__)

APPROVE_PREFIX = "apy"
REJECT_PREFIX = "apn"

APPROVED_NOTE = (
    "✅ 您的企业登记（{name}）已审核通过。"
    "现在可以用 /report 填报任务进展，用 /myreports 查看已报内容。"
)
REJECTED_NOTE = (
    "很抱歉，您的企业登记（{name}）未通过本平台工作人员的审核。"
    "请核实企业名称、信用代码和所在地后，可重新发送 /register 登记。"
)
NOT_ALLOWED = "您无权审批该地区的登记申请。"
OWN_CASE = "不能审批与您本人或本企业有关的申请，请由其他工作人员处理。"
DECIDED = "该申请已由{who}于{when}处理：{status}。"
GONE = "找不到这条申请。"
NOTHING_PENDING = "目前没有待审核的登记申请（您负责的范围内）。"
STATUS_WORDS = {Status.PENDING: "待审核", Status.APPROVED: "已批准", Status.REJECTED: "已驳回"}
PENDING_SHOWN = 20


def application_text(
    enterprise: Enterprise, account: Account, applicant: str | None = None,
    similar: Sequence[LookAlike] = (),
) -> str:
    kind = "新企业登记" if account.kind == "founder" else "已登记企业的绑定申请"
    county = f" {enterprise.county}" if enterprise.county else ""
    entered = account.details
    lines = [
        f"<b>待审核：{kind}</b>",
        f"企业名称：{escape(enterprise.name)}",
        f"信用代码：{escape(enterprise.credit_code)}",
        f"所在地：{escape(enterprise.city + county)}",
        f"所属行业：{escape('、'.join(enterprise.industries))}",
        f"联系人：{escape(account.contact_name)}　电话：{escape(account.phone)}",
        f"Telegram 用户：{escape(applicant or '')} (ID {account.user_id})",
        f"申请编号：{account.id}",
    ]
    if entered is not None and (entered.name, entered.city) != (enterprise.name, enterprise.city):
        lines.append(f"申请人填写：{escape(entered.name)}，{escape(entered.city)}")
    code_region = enterprise.code_region
    if code_region is not None and code_region != enterprise.city:
        lines.append(f"⚠️ 信用代码在{escape(code_region)}登记，与所选地市不一致"
                     "（已同时发给两地工作人员）")
    elif enterprise.credit_code[2:4] != HENAN:
        lines.append("⚠️ 信用代码不是在河南省登记的，请核实")
    if similar:
        shown = "；".join(f"{escape(other.name)}（{escape(other.city)}，{other.credit_code}）"
                         for other in similar[:3])
        more = f"等{len(similar)}家" if len(similar) > 3 else ""
        lines.append(f"⚠️ 名称与已登记的企业相同或相似：{shown}{more}，请核实是否冒用")
    return "\n".join(lines)


def decision_keyboard(account_id: int) -> InlineKeyboardMarkup | None:
    return keyboard([[("批准", f"{APPROVE_PREFIX}:{account_id}"),
                      ("驳回", f"{REJECT_PREFIX}:{account_id}")]])


def deciders(bot_data: BotData, enterprise: Enterprise, applicant_id: int) -> list[int]:
    """Who is asked to decide: staff covering one of the enterprise's regions (its city,
    and the one its credit code was issued in) and admins — minus the applicant and
    anyone who speaks for the enterprise."""
    db = bot_data.db
    found = {user for region in enterprise.regions
             for user in users_covering(db, Role.STAFF, region)} | bot_data.admins
    return sorted(
        user for user in found
        if user != applicant_id and not speaks_for(db, user, enterprise.id)
    )


async def notify_deciders(
    context: Context, registration: Registration, *, applicant: str = ""
) -> int:
    """Queue the application with 批准/驳回 buttons for every decider; returns how many."""
    account = registration.account
    enterprise = registration.enterprise
    similar = look_alikes(context.bot_data.db, enterprise.id, enterprise.name)
    text = application_text(enterprise, account, applicant, similar)
    markup = decision_keyboard(account.id)
    message = Message(
        key=f"application:{account.id}", kind="application", text=text,
        markup=json.dumps(markup.to_dict(), ensure_ascii=False) if markup else None,
    )
    chats = deciders(context.bot_data, registration.enterprise, account.user_id)
    if not chats:
        _LOGGER.warning("application %s: no staff covers its region", account.id)
        return 0
    return context.bot_data.outbox.queue(message, chats, priority=Priority.PERSONAL)


def _note(decision: Decision) -> Message:
    """The outcome, for the applicant."""
    approved = decision.account.status is Status.APPROVED
    note = (APPROVED_NOTE if approved else REJECTED_NOTE).format(
        name=escape(decision.enterprise.name))
    return Message(key=f"decision:account:{decision.account.id}", kind="decision", text=note)


def decide(bot_data: BotData, account_id: int, decider_id: int, *, approved: bool) -> Decision:
    """Approve or reject, write the audit entry and queue the notes, in one transaction."""
    db = bot_data.db
    now = bot_data.now()
    with transaction(db):
        decision = (approve if approved else reject)(
            db, account_id=account_id, approver_id=decider_id, admins=bot_data.admins, now=now,
        )
        audit.record(
            db, actor_id=decider_id, action="approve" if approved else "reject",
            subject=f"account:{account_id}", now=now,
            enterprise=decision.enterprise.id,
        )
        bot_data.outbox.queue(_note(decision), [decision.account.user_id],
                              priority=Priority.PERSONAL)
    return decision


def _outcome_line(bot_data: BotData, account: Account) -> str:
    who = "系统"
    if account.decided_by is not None:
        user = get_user(bot_data.db, account.decided_by)
        who = user.name if user is not None and user.name else f"ID {account.decided_by}"
    when = format_local(account.decided_at) if account.decided_at else ""
    return (f"<b>{STATUS_WORDS[account.status]}</b>（{escape(who)}"
            + (f"，{when}" if when else "") + "）")


async def on_decision(update: Update, context: Context) -> None:
    """A click on 批准 (``apy:<account>``) or 驳回 (``apn:<account>``)."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    prefix = query.data.split(":", 1)[0]
    parsed = parse_data(query.data, prefix, 1)
    if parsed is None or prefix not in (APPROVE_PREFIX, REJECT_PREFIX):
        await acknowledge(query)
        return
    bot_data = context.bot_data
    try:
        decision = decide(bot_data, parsed[0], query.from_user.id,
                          approved=prefix == APPROVE_PREFIX)
    except OwnCase:
        await acknowledge(query, OWN_CASE)
        return
    except NotAllowed:
        await acknowledge(query, NOT_ALLOWED)
        return
    except AlreadyDecided as exc:
        account = exc.account
        who = "您" if account.decided_by == query.from_user.id else "其他工作人员"
        await acknowledge(query, DECIDED.format(
            who=who, when=format_local(account.decided_at) if account.decided_at else "",
            status=STATUS_WORDS[account.status]))
        await _show_outcome(bot_data, query, account)
        return
    except LookupError:
        await acknowledge(query, GONE)
        return
    await acknowledge(query, STATUS_WORDS[decision.account.status])
    await _show_outcome(bot_data, query, decision.account)


async def _show_outcome(bot_data: BotData, query: object, account: Account) -> None:
    """Rewrite the application message as it was, plus who decided and when, without
    buttons. Built from the database, so a repeated click changes nothing."""
    enterprise = get_enterprise(bot_data.db, account.enterprise_id)
    current = get_account(bot_data.db, account.id) or account
    if enterprise is None:
        return
    text = application_text(enterprise, current).replace("<b>待审核：", "<b>", 1)
    try:
        await query.edit_message_text(  # type: ignore[attr-defined]
            f"{text}\n\n{_outcome_line(bot_data, current)}", parse_mode=ParseMode.HTML
        )
    except BadRequest as exc:  # "message is not modified": already shows the outcome
        _LOGGER.info("decision message not updated: %s", exc.message)


async def pending_command(update: Update, context: Context) -> None:
    """/pending (staff): the applications awaiting a decision in the user's scope, each
    with its buttons; their own cases are left out."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    bot_data = context.bot_data
    db = bot_data.db
    actor = actor_of(bot_data, user.id)  # staff or admin (the access policy checked)
    own = enterprise_of_user(db, user.id)
    items = [
        item for item in pending_for_city(db, None)
        if any(actor.covers(region) for region in item.enterprise.regions)
        and item.account.user_id != user.id
        and (own is None or own.enterprise.id != item.enterprise.id)
    ]
    if not items:
        await message.reply_text(NOTHING_PENDING)
        return
    if len(items) > PENDING_SHOWN:
        await message.reply_text(f"共{len(items)}条待审核，先显示最早的{PENDING_SHOWN}条。")
    for item in items[:PENDING_SHOWN]:
        await message.reply_text(
            application_text(item.enterprise, item.account, similar=look_alikes(
                context.bot_data.db, item.enterprise.id, item.enterprise.name)),
            parse_mode=ParseMode.HTML,
            reply_markup=decision_keyboard(item.account.id),
        )
