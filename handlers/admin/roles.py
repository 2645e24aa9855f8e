"""Admins manage roles in chat: /grant, /revoke, /invite (single-use links), /invites
(open ones, withdrawn with a button), /audit.

``/grant 123456789 staff 郑州 洛阳`` gives a role and a scope (no cities: the whole
province); ``/revoke 123456789`` makes the user an ordinary user again;
``/invite official 郑州`` makes a single-use link valid for ``LVDONG_INVITE_HOURS``;
``/start inv_…`` (the link) redeems it. Every change is audited, and the user's
command menu follows their new role at once. Revoking or narrowing a maker voids their
open invitations beyond the new role and scope (storage.users.grant_role).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from handlers.core.access import MAX_ID_DIGITS, ROLE_NAMES
from handlers.core.callback_queries import acknowledge, parse_data
from handlers.core.context import Context
from handlers.core.dialogs import small_int
from handlers.core.menus import update_menu
from handlers.core.telegram_html import escape
from storage import audit
from storage.clock import format_local
from storage.db import transaction
from storage.invites import InviteError, create_invite, open_invites, redeem, withdraw
from storage.regions import normalize_region
from storage.users import Role, Scope, User, grant_role, revoke_role

_LOGGER = logging.getLogger(__name__)

ROLE_WORDS = {
    "enterprise": Role.ENTERPRISE, "企业": Role.ENTERPRISE,
    "official": Role.OFFICIAL, "处室": Role.OFFICIAL, "官员": Role.OFFICIAL,
    "staff": Role.STAFF, "工作人员": Role.STAFF,
    "admin": Role.ADMIN, "管理员": Role.ADMIN,
}
GRANT_USAGE = (
    "用法：/grant 用户ID 角色 [地市…]\n"
    "角色：official（处室）、staff（工作人员）、admin（管理员）、enterprise（企业）；"
    "不写地市即全省。\n例：/grant 123456789 staff 郑州 洛阳"
)
REVOKE_USAGE = "用法：/revoke 用户ID（该用户恢复为普通企业用户）"
INVITE_USAGE = "用法：/invite 角色 [地市…]，例：/invite official 郑州"
INVITE_REFUSED = {
    "unknown": "这个邀请链接无效。",
    "used": "这个邀请链接已经被使用过了，每个链接只能用一次。",
    "expired": "这个邀请链接已过期，请向管理员重新索取。",
    "withdrawn": "这个邀请链接已失效（已被撤回，或签发它的管理员已无此权限），请向管理员重新索取。",
}
WITHDRAW_PREFIX = "invx"  # invx:<invite id>
INVITES_SHOWN = 30
AUDIT_SHOWN = 20
AUDIT_MAX = 40  # about 100 characters each: one message


def parse_grant(args: Sequence[str]) -> tuple[Role, frozenset[str]] | str:
    """``["staff", "郑州", "洛阳"]`` → (role, regions), or what is wrong."""
    if not args:
        return "缺少角色。"
    role = ROLE_WORDS.get(args[0].lower())
    if role is None:
        return f"不认识的角色“{args[0][:20]}”。"
    regions = set()
    for word in args[1:]:
        region = normalize_region(word)
        if region is None:
            return f"不认识的地市“{word[:20]}”（例如 郑州、济源示范区、巩义市）。"
        regions.add(region)
    if regions and role not in (Role.OFFICIAL, Role.STAFF):
        return "只有处室（official）和工作人员（staff）有负责的地市。"
    return role, frozenset(regions)


def describe_user(user: User) -> str:
    scope = f"（{user.scope.describe()}）" if user.role in (Role.OFFICIAL, Role.STAFF) else ""
    return f"{ROLE_NAMES[user.role]}{scope}"


async def _reply(update: Update, text: str) -> None:
    if update.effective_message is not None:
        await update.effective_message.reply_text(text)


async def grant_command(update: Update, context: Context) -> None:
    """/grant 用户ID 角色 [地市…]"""
    admin = update.effective_user
    args = list(context.args or ())
    if admin is None:
        return
    target = small_int(args[0], MAX_ID_DIGITS) if args else None
    if target is None:
        await _reply(update, GRANT_USAGE)
        return
    parsed = parse_grant(args[1:])
    if isinstance(parsed, str):
        await _reply(update, f"{parsed}\n{GRANT_USAGE}")
        return
    role, regions = parsed
    if target == admin.id:
        await _reply(update, "不能修改自己的角色，请由其他管理员操作。")
        return
    bot_data = context.bot_data
    now = bot_data.now()
    with transaction(bot_data.db):
        user = grant_role(bot_data.db, target, role, regions, now, by=admin.id)
        audit.record(bot_data.db, actor_id=admin.id, action="grant", subject=f"user:{target}",
                     now=now, role=role.value, regions=sorted(regions))
    await update_menu(context.bot, bot_data.commands, target, role)
    await _reply(update, f"已将用户 {target} 设为{describe_user(user)}。")


async def revoke_command(update: Update, context: Context) -> None:
    """/revoke 用户ID"""
    admin = update.effective_user
    args = list(context.args or ())
    if admin is None:
        return
    target = small_int(args[0], MAX_ID_DIGITS) if len(args) == 1 else None
    if target is None:
        await _reply(update, REVOKE_USAGE)
        return
    bot_data = context.bot_data
    if target in bot_data.admins:
        await _reply(update, "该用户是配置文件（LVDONG_ADMINS）中的管理员，需在配置中移除。")
        return
    now = bot_data.now()
    with transaction(bot_data.db):
        user = revoke_role(bot_data.db, target, now, by=admin.id)
        if user is not None:
            audit.record(bot_data.db, actor_id=admin.id, action="revoke",
                         subject=f"user:{target}", now=now)
    if user is None:
        await _reply(update, f"没有见过用户 {target}。")
        return
    await update_menu(context.bot, bot_data.commands, target, Role.ENTERPRISE)
    await _reply(update, f"已撤销用户 {target} 的角色，现为普通企业用户。")


async def invite_command(update: Update, context: Context) -> None:
    """/invite 角色 [地市…]: a single-use link that gives the role on first use."""
    admin = update.effective_user
    if admin is None:
        return
    parsed = parse_grant(list(context.args or ()))
    if isinstance(parsed, str):
        await _reply(update, f"{parsed}\n{INVITE_USAGE}")
        return
    role, regions = parsed
    bot_data = context.bot_data
    now = bot_data.now()
    with transaction(bot_data.db):
        code, invite = create_invite(bot_data.db, role=role, regions=regions, by=admin.id,
                                     now=now, valid_for=dt.timedelta(hours=bot_data.invite_hours))
        audit.record(bot_data.db, actor_id=admin.id, action="invite",
                     subject=f"invite:{invite.id}", now=now, role=role.value,
                     regions=sorted(regions))
    scope = f"（{Scope(regions).describe()}）" if role in (Role.OFFICIAL, Role.STAFF) else ""
    link = f"https://t.me/{context.bot.username}?start={code}"
    await _reply(update, (
        f"邀请链接（{ROLE_NAMES[role]}{scope}，仅可使用一次，"
        f"{format_local(invite.expires_at)} 前有效）：\n{link}\n"
        "请只发给被邀请的人；本链接不会再次显示。"
    ))


async def start_with_invite(update: Update, context: Context) -> None:
    """``/start inv_…``: redeem an invitation."""
    user = update.effective_user
    args = list(context.args or ())
    if user is None or not args:
        return
    bot_data = context.bot_data
    now = bot_data.now()
    try:
        with transaction(bot_data.db):
            invite, granted = redeem(bot_data.db, args[0][:100], user_id=user.id, now=now,
                                     admins=bot_data.admins)
            audit.record(bot_data.db, actor_id=user.id, action="redeem_invite",
                         subject=f"invite:{invite.id}", now=now, role=invite.role.value,
                         invited_by=invite.created_by)
    except InviteError as exc:
        _LOGGER.info("invitation refused for user %s: %s", user.id, exc.reason)
        await _reply(update, INVITE_REFUSED[exc.reason])
        return
    await update_menu(context.bot, bot_data.commands, user.id, granted.role)
    await _reply(update, f"欢迎！您已成为{describe_user(granted)}。发送 /help 查看可用的功能。")


def _scope_text(role: Role, scope: Scope) -> str:
    return f"（{scope.describe()}）" if role in (Role.OFFICIAL, Role.STAFF) else ""


async def invites_command(update: Update, context: Context) -> None:
    """/invites: the open invitations (maker, role, scope, expiry), each with 撤回."""
    bot_data = context.bot_data
    invites = open_invites(bot_data.db, bot_data.now())
    if not invites:
        await _reply(update, "没有未使用的邀请链接。")
        return
    lines = [f"未使用的邀请链接（{len(invites)}个）："]
    buttons = []
    for invite in invites[:INVITES_SHOWN]:
        lines.append(
            f"#{invite.id} {ROLE_NAMES[invite.role]}{_scope_text(invite.role, invite.scope)}，"
            f"用户{invite.created_by} 生成，有效至 {format_local(invite.expires_at)}")
        buttons.append(InlineKeyboardButton(f"撤回 #{invite.id}",
                                            callback_data=f"{WITHDRAW_PREFIX}:{invite.id}"))
    if len(invites) > INVITES_SHOWN:
        lines.append(f"……另有 {len(invites) - INVITES_SHOWN} 个未显示，"
                     "撤回上面的后再发送 /invites。")
    if update.effective_message is not None:
        await update.effective_message.reply_text(
            "\n".join(lines),
            reply_markup=InlineKeyboardMarkup([buttons[i:i + 3]
                                               for i in range(0, len(buttons), 3)]))


async def on_withdraw(update: Update, context: Context) -> None:
    """``invx:<id>``: withdraw an open invitation (admins only, by the policy); audited."""
    query = update.callback_query
    if query is None:
        return
    parsed = parse_data(query.data, WITHDRAW_PREFIX, 1)
    if parsed is None:
        await acknowledge(query)
        return
    bot_data = context.bot_data
    now = bot_data.now()
    with transaction(bot_data.db):
        invite = withdraw(bot_data.db, parsed[0], by=query.from_user.id, now=now)
    if invite is None:
        await acknowledge(query, f"邀请 #{parsed[0]} 已失效或已使用，无需撤回。")
        return
    await acknowledge(query)
    await context.bot.send_message(
        query.from_user.id,
        f"已撤回邀请 #{invite.id}（{ROLE_NAMES[invite.role]}"
        f"{_scope_text(invite.role, invite.scope)}），该链接从此无效。")


async def clock_command(update: Update, context: Context) -> None:
    """/clock [确认]: the reminders' clock; ``确认`` accepts the current time after a jump
    (see handlers.delivery.reminders)."""
    from handlers.delivery.reminders import clock_problem  # delivery builds on core
    from storage.reminders import clock_mark, set_clock_mark

    admin = update.effective_user
    if admin is None:
        return
    bot_data = context.bot_data
    now, last = bot_data.now(), clock_mark(bot_data.db)
    if [word for word in context.args or () if word in ("确认", "confirm")]:
        with transaction(bot_data.db):
            set_clock_mark(bot_data.db, now)
            audit.record(bot_data.db, actor_id=admin.id, action="clock_confirm",
                         subject="clock:reminders", now=now,
                         before=format_local(last) if last else None)
        bot_data.clock_warned = None
        await _reply(update, f"已确认当前时间 {format_local(now)}，截止提醒照此继续。")
        return
    shown = format_local(last) if last else "尚未运行"
    problem = clock_problem(last, now, started=bot_data.clock_ticked)
    state = {"back": "时钟跳变（调回了过去）", "ahead": "时钟跳变（向前跳了）"}.get(
        problem or "", "正常")
    tail = "截止提醒已暂停；若当前时间正确，请发送 /clock 确认。" if problem else ""
    await _reply(update, f"提醒时钟：上次 {shown}，现在 {format_local(now)}，{state}。{tail}")


ACTIONS = {
    "grant": "授予角色", "revoke": "撤销角色", "invite": "生成邀请", "redeem_invite": "使用邀请",
    "invite_withdraw": "撤回邀请", "invite_void": "作废邀请", "clock_confirm": "确认时钟",
    "approve": "批准登记", "reject": "驳回登记", "notify": "发送通知",
    "cancel_notice": "取消通知", "resend_uncertain": "重发未确认",
    "deadline_add": "新增截止日期", "deadline_cancel": "撤销截止日期",
    "review": "审核报告", "learn": "关联问题", "unlearn": "删除关联",
}


async def audit_command(update: Update, context: Context) -> None:
    """/audit [条数]: the latest privileged actions, newest first."""
    args = list(context.args or ())
    asked = small_int(args[0], 3) if args else None
    limit = AUDIT_SHOWN if asked is None else min(asked, AUDIT_MAX)
    entries = audit.latest(context.bot_data.db, max(limit, 1))
    if not entries:
        await _reply(update, "审计日志为空。")
        return
    lines = [f"最近{len(entries)}条操作记录（新的在前）："]
    for entry in entries:
        detail = "，".join(f"{k}={v}" for k, v in entry.detail.items() if v not in ([], None, ""))
        action = ACTIONS.get(entry.action, entry.action)
        lines.append(f"{format_local(entry.at)} 用户{entry.actor_id} {action} {entry.subject}"
                     + (f"（{detail}）" if detail else ""))
    if update.effective_message is not None:
        await update.effective_message.reply_text(escape("\n".join(lines)), parse_mode="HTML")
