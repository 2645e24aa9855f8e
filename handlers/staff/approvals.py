"""Staff approve or reject registrations: 批准 / 驳回 buttons, and /pending.

Who is asked: the staff of the enterprise's region, province-wide staff, and the
admins of the settings. Whoever clicks first decides; a second click is told it
was already decided. The applicant (and anyone whose claim fell with a rejected
enterprise) is told the outcome.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden

from handlers.core.callback_queries import acknowledge, parse_data
from handlers.core.context import BotData, Context
from handlers.core.dialogs import keyboard
from handlers.core.telegram_html import escape
from storage.enterprises import (
    Account,
    AlreadyDecided,
    Decision,
    Enterprise,
    NotAllowed,
    Registration,
    Status,
    approve,
    may_decide_for,
    pending_for_city,
    reject,
)
from storage.regions import HENAN
from storage.users import Role, role_of, staff_city, staff_for_city

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
ALREADY = "该申请已由其他工作人员处理（{status}）。"
GONE = "找不到这条申请。"
NOTHING_PENDING = "目前没有待审核的登记申请。"
STAFF_ONLY = "只有工作人员可以使用这个命令。"
STATUS_WORDS = {Status.PENDING: "待审核", Status.APPROVED: "已批准", Status.REJECTED: "已驳回"}


def admins(bot_data: BotData) -> frozenset[int]:
    """The settings' admins."""
    return bot_data.admins


def application_text(
    enterprise: Enterprise, account: Account, applicant: str | None = None
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
    return "\n".join(lines)


def decision_keyboard(account_id: int) -> InlineKeyboardMarkup | None:
    return keyboard([[("批准", f"{APPROVE_PREFIX}:{account_id}"),
                      ("驳回", f"{REJECT_PREFIX}:{account_id}")]])


def deciders(bot_data: BotData, enterprise: Enterprise) -> list[int]:
    """Who is asked to decide: the staff of the enterprise's regions (its city, and the
    one its credit code was issued in), province-wide staff, admins."""
    found = {user for region in enterprise.regions for user in staff_for_city(bot_data.db, region)}
    return sorted(found | admins(bot_data))


async def notify_deciders(
    context: Context, registration: Registration, *, applicant: str = ""
) -> int:
    """Send the application with 批准/驳回 buttons to every decider; returns how many got it."""
    text = application_text(registration.enterprise, registration.account, applicant)
    markup = decision_keyboard(registration.account.id)
    sent = 0
    for user_id in deciders(context.bot_data, registration.enterprise):
        if user_id == registration.account.user_id:
            continue
        try:
            await context.bot.send_message(
                user_id, text, parse_mode=ParseMode.HTML, reply_markup=markup
            )
            sent += 1
        except (Forbidden, BadRequest) as exc:  # never started the bot, or blocked it
            _LOGGER.warning("could not notify decider %s: %s", user_id, exc.message)
    if sent == 0:
        _LOGGER.warning("registration %s: no staff to notify in %s",
                        registration.account.id, registration.enterprise.city)
    return sent


async def _tell(context: Context, user_id: int, text: str) -> None:
    try:
        await context.bot.send_message(user_id, text)
    except (Forbidden, BadRequest) as exc:
        _LOGGER.warning("could not tell user %s the decision: %s", user_id, exc.message)


async def _announce(context: Context, decision: Decision) -> None:
    name = decision.enterprise.name
    note = APPROVED_NOTE if decision.account.status is Status.APPROVED else REJECTED_NOTE
    await _tell(context, decision.account.user_id, note.format(name=name))
    for other in decision.also_decided:
        await _tell(context, other.user_id, REJECTED_NOTE.format(name=name))


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
    decide = approve if prefix == APPROVE_PREFIX else reject
    try:
        decision = decide(
            context.bot_data.db,
            account_id=parsed[0],
            approver_id=query.from_user.id,
            admins=admins(context.bot_data),
            now=context.bot_data.now(),
        )
    except NotAllowed:
        await acknowledge(query, NOT_ALLOWED)
        return
    except AlreadyDecided as exc:
        status = STATUS_WORDS[exc.account.status]
        await acknowledge(query, ALREADY.format(status=status))
        await _close(query, f"\n\n（{status}，由其他工作人员处理）")
        return
    except LookupError:
        await acknowledge(query, GONE)
        return
    verdict = STATUS_WORDS[decision.account.status]
    await acknowledge(query, verdict)
    await _close(query, f"\n\n<b>{verdict}</b>（{escape(query.from_user.full_name)}）")
    await _announce(context, decision)


async def _close(query: Any, suffix: str) -> None:
    """Show the outcome under the application and remove its buttons."""
    message = query.message
    html = getattr(message, "text_html", None) if message is not None else None
    try:
        if html:
            await query.edit_message_text(html + suffix, parse_mode=ParseMode.HTML)
        else:
            await query.edit_message_reply_markup(None)
    except BadRequest as exc:
        _LOGGER.info("decision message not updated: %s", exc.message)


async def pending_command(update: Update, context: Context) -> None:
    """/pending (staff): the applications awaiting a decision, each with its buttons."""
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    db = context.bot_data.db
    role = role_of(db, user.id, admins(context.bot_data))
    if role not in (Role.STAFF, Role.ADMIN):
        await message.reply_text(STAFF_ONLY)
        return
    city = staff_city(db, user.id) if role is Role.STAFF else None
    items = [
        item for item in pending_for_city(db, city)
        if may_decide_for(db, user.id, item.enterprise, admins(context.bot_data))
    ]
    if not items:
        await message.reply_text(NOTHING_PENDING)
        return
    for item in items[:20]:
        await message.reply_text(
            application_text(item.enterprise, item.account),
            parse_mode=ParseMode.HTML,
            reply_markup=decision_keyboard(item.account.id),
        )
