"""Staff and the enterprises' invitation links: under an enterprise's card, its link
(or who used it and when) and 重新发放 (``ri:<enterprise>``), which revokes the old code.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.constants import ParseMode

from handlers.core.callback_queries import acknowledge
from handlers.core.context import BotData, Context
from handlers.core.dialogs import keyboard, small_int
from handlers.core.telegram_html import escape
from handlers.enterprise.invitation import valid_for
from storage.clock import format_local
from storage.enterprise_invites import current, link, live_code, load_key, reissue
from storage.enterprises import Enterprise, get_enterprise
from storage.roster import differences_of

REISSUE_PREFIX = "ri"  # ri:<enterprise id>


def invitation_block(bot_data: BotData, enterprise: Enterprise, username: str | None
                     ) -> tuple[str, InlineKeyboardMarkup | None] | None:
    """For staff, under an enterprise's card: how the imported list differs from its
    registration (a code registered through the bot, then listed), and its invitation
    (link, or who used it and when) with 重新发放; None when it has neither."""
    lines = [f"名单与登记不一致（未覆盖登记）：{escape(d.label)} 登记为“{escape(d.registered)}”，"
             f"名单为“{escape(d.listed)}”" for d in differences_of(bot_data.db, enterprise.id)]
    invite = current(bot_data.db, enterprise.id)
    if invite is None:
        return ("\n".join(lines), None) if lines else None
    code = live_code(bot_data.db, enterprise.id, load_key(bot_data.db_path), bot_data.now())
    if invite.used_by is not None:
        lines.append(f"邀请链接：已由用户 {invite.used_by} 于 "
                     f"{format_local(invite.used_at) if invite.used_at else ''} 使用（已加入）。")
    elif code is not None and username:
        lines.append(f"邀请链接（未加入，{format_local(invite.expires_at)[:10]} 前有效）：\n"
                     f"{escape(link(username, code))}")
    else:
        lines.append("邀请链接：已失效（过期或已作废），可重新发放。")
    markup = keyboard([[("🔁 重新发放邀请链接", f"{REISSUE_PREFIX}:{enterprise.id}")]])
    return "\n".join(lines), markup


async def on_reissue(update: Update, context: Context) -> None:
    """``ri:<enterprise>``: the access policy checked role and scope already."""
    query = update.callback_query
    if query is None or update.effective_user is None:
        return
    parts = (query.data or "").split(":")
    enterprise_id = small_int(parts[1], 15) if len(parts) > 1 else None
    bot_data = context.bot_data
    enterprise = get_enterprise(bot_data.db, enterprise_id) if enterprise_id else None
    await acknowledge(query)
    if enterprise is None or query.message is None:
        return
    code = reissue(bot_data.db, enterprise.id, key=load_key(bot_data.db_path),
                   by=update.effective_user.id, now=bot_data.now(), valid_for=valid_for(bot_data))
    await context.bot.send_message(
        query.message.chat.id,
        f"已为“{escape(enterprise.name)}”重新发放邀请链接，原链接已作废：\n"
        f"{escape(link(context.bot.username, code))}", parse_mode=ParseMode.HTML)
