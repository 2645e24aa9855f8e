"""Rejecting a registration: the 驳回 button (or ``/reject 申请编号``) asks for the
reason — one of the common ones as buttons, or typed — then for a confirmation; the
applicant's note carries the reason. Approving stays one click (handlers.staff.approvals)."""

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
from handlers.core.context import Context
from handlers.core.dialog_access import committing
from handlers.core.dialog_shape import Action, Ask, Flow, Go, Next, Screen, Step, Summary, described
from handlers.core.dialogs import END, Dialog, callback_tail, clear_draft, draft, send, small_int
from handlers.core.telegram_html import escape
from handlers.staff.approvals import (
    DECIDED,
    OWN_CASE,
    REJECT_PREFIX,
    STATUS_WORDS,
    decide,
)
from storage.clock import format_local
from storage.enterprises import AlreadyDecided, NotAllowed, OwnCase, get_account, get_enterprise

DIALOG = Dialog(name="reject", command="reject", title="驳回登记", prefix="rj")
NEED = Need(STAFF, Target.ACCOUNT, Relation.NOT_OWN)
REASON = "REASON"
REASONS = ("信用代码与企业不符", "非本企业人员", "信息不完整")
LIMIT = 200
USAGE = "用法：点登记申请下方的“驳回”，或 /reject 申请编号（见 /pending）。"


def may_reject(context: Context, actor: Actor, kept: Mapping[str, Any]) -> str | None:
    """At every step and at the commit: the application in the draft, for this staff."""
    account_id = kept.get("account")
    if not isinstance(account_id, int):
        return None
    return refusal(NEED, actor, context.bot_data.db, account_id, "审批")


def _prompt(context: Context) -> Screen:
    name = draft(context, DIALOG).get("name", "")
    buttons = [[(reason, f"{DIALOG.prefix}:why:{n}")] for n, reason in enumerate(REASONS)]
    return (f"驳回“{escape(name)}”的登记申请。请选择驳回理由，或直接输入（{LIMIT}字以内，"
            "会转告申请人）：", [*buttons, [("取消", f"{DIALOG.prefix}:cancel")]])


def _summary(context: Context) -> str:
    data = draft(context, DIALOG)
    return (f"将驳回“{escape(str(data.get('name', '')))}”的登记申请"
            f"（申请编号 {data.get('account')}）。\n驳回理由：{escape(str(data.get('reason', '')))}"
            "\n申请人会收到这条理由。")


async def start(update: Update, context: Context) -> Go:
    user = update.effective_user
    assert user is not None
    bot_data = context.bot_data
    tail = callback_tail(update, context, REJECT_PREFIX)
    if update.callback_query is not None:
        await acknowledge(update.callback_query)
    words = list(context.args or ())
    account_id = small_int(tail if tail is not None else (words[0] if words else ""), 15)
    if account_id is None:
        await send(update, context, USAGE)
        return END
    reason = refuse_target(actor_of(bot_data, user.id), bot_data.db, NEED, account_id, "审批")
    account = get_account(bot_data.db, account_id) if reason is None else None
    enterprise = get_enterprise(bot_data.db, account.enterprise_id) if account else None
    if account is None or enterprise is None:
        await send(update, context, escape(reason or GONE))
        return END
    if account.decided_by is not None:
        await send(update, context, escape(DECIDED.format(
            who="您" if account.decided_by == user.id else "其他工作人员",
            when=format_local(account.decided_at) if account.decided_at else "",
            status=STATUS_WORDS[account.status])))
        return END
    clear_draft(context, DIALOG)
    data = draft(context, DIALOG)
    data["account"], data["name"] = account.id, enterprise.name
    return None


async def _pressed_reason(update: Update, context: Context, tail: str) -> Go:
    n = small_int(tail, 2)
    if n is None or n >= len(REASONS):
        return Ask(REASON)
    draft(context, DIALOG)["reason"] = REASONS[n]
    return Next()


async def _commit(update: Update, context: Context) -> Go:
    user = update.effective_user
    assert user is not None
    data = draft(context, DIALOG)
    reason = str(data.get("reason", ""))
    try:
        with committing(context, user.id, data) as done:
            decision = decide(context.bot_data, int(data["account"]), user.id, approved=False,
                              reason=reason)
            done(f"驳回登记申请 {data['account']}")
    except OwnCase:
        text = OWN_CASE
    except NotAllowed:
        text = "您无权审批该地区的登记申请。"
    except AlreadyDecided as exc:
        text = DECIDED.format(who="其他工作人员", when=format_local(exc.account.decided_at)
                              if exc.account.decided_at else "",
                              status=STATUS_WORDS[exc.account.status])
    else:
        text = f"已驳回“{decision.enterprise.name}”的登记申请，已把理由告知申请人。"
    clear_draft(context, DIALOG)
    await send(update, context, escape(text))
    return END


FLOW = Flow(DIALOG, start, (
    Step(REASON, _prompt, parse=lambda c, text: described(text, LIMIT, "驳回理由"),
         key="reason", actions=(Action("why", _pressed_reason, tail=True),), edit="驳回理由"),
), summary=Summary(_summary, _commit, label="确认驳回", footer="", toast="正在驳回…"),
    entry_button=REJECT_PREFIX, check=may_reject)
