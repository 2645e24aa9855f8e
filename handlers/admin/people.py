"""Who is who: /myid (anyone: their own Telegram id, to be granted a role) and /roles
(admins: officials, staff and admins with their scopes and since when)."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode

from handlers.admin.roles import describe_user
from handlers.core.access import ROLE_NAMES
from handlers.core.context import Context
from handlers.core.telegram_html import escape
from storage.clock import format_local
from storage.regions import normalize_region
from storage.users import Role, role_holders

MYID = ("您的 Telegram 用户ID是：<code>{id}</code>\n"
        "如需开通业务处室或工作人员权限，请把这个数字发给管理员。")
ROLES_USAGE = "用法：/roles 或 /roles 郑州（只看负责该地市的人）。"


async def myid_command(update: Update, context: Context) -> None:
    """/myid: the asker's numeric Telegram id."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    await message.reply_text(MYID.format(id=user.id), parse_mode=ParseMode.HTML)


async def roles_command(update: Update, context: Context) -> None:
    """/roles [地市]: every role holder (officials and staff of that city, when given)."""
    message = update.effective_message
    if message is None:
        return
    args = list(context.args or ())
    city = normalize_region(args[0]) if len(args) == 1 else None
    if args and city is None:
        await message.reply_text(ROLES_USAGE)
        return
    bot_data = context.bot_data
    lines = []
    for holder in role_holders(bot_data.db):
        user = holder.user
        if city is not None and user.role is not Role.ADMIN and not user.scope.covers(city):
            continue
        name = f"{escape(user.name)}（ID {user.user_id}）" if user.name else f"ID {user.user_id}"
        when = f"，{format_local(holder.granted_at)} 授予" if holder.granted_at else ""
        lines.append(f"· {name}：{describe_user(user)}{when}")
    stored = {holder.user.user_id for holder in role_holders(bot_data.db)}
    lines += [f"· ID {admin}：{ROLE_NAMES[Role.ADMIN]}（配置文件 LVDONG_ADMINS）"
              for admin in sorted(bot_data.admins) if admin not in stored]
    head = f"<b>角色名单</b>（{escape(city) if city else '全部地市'}，共{len(lines)}人，北京时间）"
    await message.reply_text("\n".join([head, *lines]) if lines else f"{head}\n没有。",
                             parse_mode=ParseMode.HTML)
