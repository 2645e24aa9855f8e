"""Remember who talks to the bot (name and last seen), for staff lists and roles.

A write per message would cost more than answering the question, so a user is
written again only when their name changed or ``TOUCH_EVERY`` has passed.
"""

from __future__ import annotations

import datetime as dt

from telegram import Update
from telegram.ext import ContextTypes

from handlers.core import services
from handlers.core.addressing import addressed_to_bot
from storage.users import touch_user

TOUCH_EVERY = dt.timedelta(minutes=5)
SEEN = "users_seen"  # bot_data key: user id -> (name, when last written)


async def track_user(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    if user is None or user.is_bot or not addressed_to_bot(update):
        return
    bot_data = context.bot_data
    now = services.now(bot_data)
    seen: dict[int, tuple[str, dt.datetime]] = bot_data.setdefault(SEEN, {})
    name = user.full_name
    last = seen.get(user.id)
    if last is not None and last[0] == name and now - last[1] < TOUCH_EVERY:
        return
    touch_user(services.db(bot_data), user.id, name, now)
    if len(seen) > 50_000:
        seen.clear()
    seen[user.id] = (name, now)
