"""Remember who talks to the bot (name and last seen), for staff lists and roles."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from bot import services
from bot.addressing import addressed_to_bot
from storage.users import touch_user


async def track_user(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    if user is None or user.is_bot or not addressed_to_bot(update):
        return
    bot_data = context.bot_data
    touch_user(services.db(bot_data), user.id, user.full_name, services.now(bot_data))
