"""``/start ent_…``: an enterprise opens the invitation link of its company.

The account is bound to that enterprise, approved (the list is official), and greeted
by the company's name with the tasks that concern it. A used, reissued, expired or
unknown code says so; a second person of the same company is told to ask through
/register (its claim path: staff decide). Staff see the link, or who used it, on the
enterprise's card (``handlers.staff.invitations``).
"""

from __future__ import annotations

import datetime as dt
import logging

from telegram import Update
from telegram.constants import ParseMode

from handlers.core.context import BotData, Context
from handlers.core.plan import tasks_of
from handlers.core.telegram_html import escape
from storage.enterprise_invites import (
    EnterpriseInviteError,
    redeem,
)
from storage.enterprises import Enterprise

_LOGGER = logging.getLogger(__name__)

REFUSED = {
    "unknown": "这个邀请链接无效。请核对链接是否完整；也可以发送 /register 登记企业。",
    "revoked": "这个邀请链接已作废（已重新发放新的链接）。请使用最新收到的链接，或联系主管部门。",
    "expired": "这个邀请链接已过期。请联系主管部门重新发放。",
    "used": ("这个邀请链接已经被使用过了，每个链接只能绑定一个账号。"
             "如您也是“{name}”的人员，请发送 /register 申请绑定，由工作人员核实。"),
    "bound_elsewhere": "您的账号已绑定企业“{name}”，一个账号只能绑定一家企业。",
}
TASKS_SHOWN = 12


def valid_for(bot_data: BotData) -> dt.timedelta:
    return dt.timedelta(days=getattr(bot_data, "enterprise_invite_days", 90.0))


def welcome(bot_data: BotData, enterprise: Enterprise, *, again: bool) -> str:
    tasks = tasks_of(bot_data, enterprise)
    head = (f"您的账号已绑定“{escape(enterprise.name)}”。" if again else
            f"<b>欢迎，{escape(enterprise.name)}！</b>\n您的账号已绑定本企业（{escape(enterprise.city)}），"
            "无需再登记，可以直接填报进展。")
    lines = [head, "", f"<b>与贵企业相关的任务</b>（共{len(tasks)}项）："]
    for task in tasks[:TASKS_SHOWN]:
        lines.append(f"• 任务{task.number} {escape(task.title)}")
    if len(tasks) > TASKS_SHOWN:
        lines.append(f"……另有{len(tasks) - TASKS_SHOWN}项。")
    lines += ["", "发送 /report 填报进展，/deadlines 查看截止日期，/myreports 查看已报内容；"
              "有问题直接发文字提问。"]
    return "\n".join(lines)


async def start_with_enterprise_invite(update: Update, context: Context) -> None:
    """``/start ent_…``"""
    user, message = update.effective_user, update.effective_message
    args = list(context.args or ())
    if user is None or message is None or not args:
        return
    bot_data = context.bot_data
    try:
        bound = redeem(bot_data.db, args[0][:100], user_id=user.id, now=bot_data.now())
    except EnterpriseInviteError as exc:
        _LOGGER.info("enterprise invitation refused for user %s: %s", user.id, exc.reason)
        name = exc.enterprise.name if exc.enterprise is not None else ""
        await message.reply_text(REFUSED[exc.reason].format(name=name))
        return
    await message.reply_text(welcome(bot_data, bound.enterprise, again=bound.again),
                             parse_mode=ParseMode.HTML)
