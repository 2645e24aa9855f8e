"""Build the python-telegram-bot ``Application``: services, pacing, handlers, menus.

The same application runs under ``lvdong run`` (Telegram), ``lvdong chat`` (the
in-process Bot API) and the tests (an HTTP stand-in); only the requests differ.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlite_utils import Database
from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.sending import ResilientRateLimiter
from bot.settings import Settings
from bot.update_order import PerUserUpdateProcessor
from handlers import ask, errors, feedback, flood, services, start, suggestions, users
from handlers.addressing import MENTIONS_BOT
from handlers.answering import COMMON_PREFIX, FEEDBACK_PREFIX, SUGGESTION_PREFIX
from handlers.flood_control import FloodGate
from handlers.menus import COMMAND_MENUS, bot_commands, scopes_for
from handlers.services import AnswerEngine, Clock, SuggestionMemory, system_clock

_LOGGER = logging.getLogger(__name__)

# Handler groups. ORDER MATTERS: python-telegram-bot runs groups in ascending
# order; within a group only the first matching handler runs. A handler raising
# ApplicationHandlerStop ends processing of that update (flood control does).
GROUP_GUARD = -10  # flood control: may stop the update
GROUP_TRACK = -5  # remember the user; never stops anything
GROUP_MAIN = 0  # commands, dialogs, button clicks, questions; catch-alls last


def register_handlers(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Every handler of the bot, in one place. Add a new feature's handlers here.

    Dialogs (ConversationHandler: /register, /report, /myreports) go in GROUP_MAIN
    *before* the question catch-alls, so a user in the middle of a dialog has their
    text handled by the dialog, not taken as a question.
    """
    application.add_handler(TypeHandler(Update, flood.check_flood), group=GROUP_GUARD)
    application.add_handler(TypeHandler(Update, users.track_user), group=GROUP_TRACK)

    private_text = filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND
    group_mention = filters.ChatType.GROUPS & filters.TEXT & ~filters.COMMAND & MENTIONS_BOT
    application.add_handlers(
        [
            CommandHandler("start", start.start),
            CommandHandler("help", start.show_help),
            CommandHandler("ask", ask.ask_command),
            # -- dialogs of other modules go here (before the catch-alls) --
            CallbackQueryHandler(start.common_question, pattern=rf"^{COMMON_PREFIX}:"),
            CallbackQueryHandler(suggestions.on_suggestion, pattern=rf"^{SUGGESTION_PREFIX}:"),
            CallbackQueryHandler(feedback.on_feedback, pattern=rf"^{FEEDBACK_PREFIX}:"),
            # -- catch-alls: keep last --
            MessageHandler(private_text, ask.on_text),
            MessageHandler(group_mention, ask.on_mention),
            MessageHandler(filters.COMMAND & filters.ChatType.PRIVATE, start.unknown_command),
        ],
        group=GROUP_MAIN,
    )
    application.add_error_handler(errors.on_error)


async def set_command_menus(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """``post_init``: publish the command menus of ``handlers.menus`` for every scope."""
    settings: Settings = application.bot_data[services.SETTINGS]
    for menu in COMMAND_MENUS:
        for scope in scopes_for(menu, settings.admins):
            await application.bot.set_my_commands(bot_commands(menu), scope=scope)


async def close_services(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """``post_shutdown``: close the database."""
    db: Database | None = application.bot_data.get(services.DB)
    if db is not None:
        db.conn.close()
        _LOGGER.info("database closed")


def build_application(
    settings: Settings,
    *,
    engine: AnswerEngine,
    db: Database,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    clock: Clock = system_clock,
    rate_limiter: ResilientRateLimiter | None = None,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """The bot, ready to ``run_polling``/``run_webhook`` or to be started by hand.

    ``request``/``get_updates_request`` replace the HTTP client (the in-process Bot
    API, tests); ``rate_limiter`` replaces the default paced limiter (benchmark).
    """
    processor = PerUserUpdateProcessor(settings.max_concurrent_updates)
    builder = (
        ApplicationBuilder()
        .token(settings.token or "0:local")
        .base_url(settings.api_base_url)
        .rate_limiter(rate_limiter or ResilientRateLimiter())
        .concurrent_updates(processor)
        .post_init(set_command_menus)
        .post_shutdown(close_services)
    )
    if request is not None:
        builder = builder.request(request)
    if get_updates_request is not None:
        builder = builder.get_updates_request(get_updates_request)
    application = builder.build()
    application.bot_data.update(
        {
            services.SETTINGS: settings,
            services.ENGINE: engine,
            services.DB: db,
            services.CLOCK: clock,
            services.FLOOD: FloodGate(settings.flood_burst, settings.flood_per_minute),
            services.SUGGESTIONS: SuggestionMemory(),
        }
    )
    register_handlers(application)
    return application


def update_processor(
    application: Application[Any, Any, Any, Any, Any, Any],
) -> PerUserUpdateProcessor:
    """The application's update processor (to listen for processed updates)."""
    processor = application.update_processor
    assert isinstance(processor, PerUserUpdateProcessor)
    return processor
