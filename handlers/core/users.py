"""Remember who talks to the bot (name and last seen), for staff lists and roles.

A write per message would cost more than answering the question, so a user is
written again only when their name changed or ``TOUCH_EVERY`` has passed.
"""

from __future__ import annotations

import datetime as dt

from telegram import Update

from handlers.core.addressing import addressed_to_bot
from handlers.core.context import Context
from storage.users import touch_user

TOUCH_EVERY = dt.timedelta(minutes=5)


async def track_user(update: Update, context: Context) -> None:
    user = update.effective_user
    if user is None or user.is_bot or not addressed_to_bot(update):
        return
    bot_data = context.bot_data
    now = bot_data.now()
    seen = bot_data.users_seen
    name = user.full_name
    last = seen.get(user.id)
    if last is not None and last[0] == name and now - last[1] < TOUCH_EVERY:
        return
    touch_user(bot_data.db, user.id, name, now)
    if len(seen) > 50_000:
        seen.clear()
    seen[user.id] = (name, now)
