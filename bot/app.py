"""Build the python-telegram-bot ``Application``: services, pacing, handlers, menus.

The same application runs under ``lvdong run`` (Telegram), ``lvdong chat`` (the
in-process Bot API) and the tests (an HTTP stand-in); only the requests differ.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlite_utils import Database
from telegram import Update
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    PersistenceInput,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.local_api import file_base_url
from bot.persistence import SqlitePersistence
from bot.sending import ResilientRateLimiter
from bot.settings import Settings
from bot.update_order import PerUserUpdateProcessor
from handlers.core import dialogs as dialog_flow
from handlers.core import errors, flood, users
from handlers.core.addressing import MENTIONS_BOT
from handlers.core.context import AnswerEngine, App, BotData, Clock, Context, system_clock
from handlers.core.dialog_expiry import notify_expired
from handlers.core.flood_control import FloodGate
from handlers.core.menus import COMMAND_MENUS, bot_commands, scopes_for
from handlers.enterprise import myreports, register, report
from handlers.public import ask, feedback, start, suggestions
from handlers.public.answering import COMMON_PREFIX, FEEDBACK_PREFIX, SUGGESTION_PREFIX
from handlers.staff import approvals
from storage.users import Role, users_with_role

_LOGGER = logging.getLogger(__name__)

# Handler groups. ORDER MATTERS: python-telegram-bot runs groups in ascending
# order; within a group only the first matching handler runs. A handler raising
# ApplicationHandlerStop ends processing of that update (flood control does).
GROUP_GUARD = -10  # flood control: may stop the update
GROUP_TRACK = -5  # remember the user; never stops anything
GROUP_MAIN = 0  # commands, dialogs, button clicks, questions; catch-alls last
GROUP_PERSIST = 10  # after a dialog step: its new state and draft go to disk at once

# The dialogs, by ConversationHandler name (for the notes on expired dialogs).
DIALOGS = {d.name: d for d in (register.DIALOG, report.DIALOG)}


def register_handlers(
    application: App, dialog_timeout: float | None = None
) -> None:
    """Every handler of the bot, in one place. Add a new feature's handlers here.

    Dialogs (ConversationHandler: /register, /report) go in GROUP_MAIN *before* the
    question catch-alls, so a user in the middle of a dialog has their text handled by
    the dialog, not taken as a question. /start, /help and /ask come first and keep
    working during a dialog; any other command is answered by the dialog ("finish or
    /cancel"). GROUP_PERSIST writes a dialog step to disk before the user's next update.
    """
    application.add_handler(TypeHandler(Update, flood.check_flood), group=GROUP_GUARD)
    application.add_handler(TypeHandler(Update, users.track_user), group=GROUP_TRACK)

    private = filters.ChatType.PRIVATE
    private_text = private & filters.TEXT & ~filters.COMMAND
    group_mention = filters.ChatType.GROUPS & filters.TEXT & ~filters.COMMAND & MENTIONS_BOT
    application.add_handlers(
        [
            CommandHandler("start", start.start),
            CommandHandler("help", start.show_help),
            CommandHandler("ask", ask.ask_command),
            # -- dialogs of other modules go here (before the catch-alls) --
            register.conversation(dialog_timeout),
            report.conversation(dialog_timeout),
            CommandHandler("myreports", myreports.myreports_command, filters=private),
            CallbackQueryHandler(myreports.on_history, pattern=rf"^{myreports.PREFIX}:"),
            CommandHandler("pending", approvals.pending_command, filters=private),
            CallbackQueryHandler(
                approvals.on_decision,
                pattern=rf"^(?:{approvals.APPROVE_PREFIX}|{approvals.REJECT_PREFIX}):",
            ),
            CommandHandler("cancel", dialog_flow.nothing_to_cancel, filters=private),
            CallbackQueryHandler(
                dialog_flow.ended_dialog_button,
                pattern=rf"^(?:{register.PREFIX}|{report.PREFIX}):",
            ),
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
    application.add_handler(
        TypeHandler(Update, dialog_flow.persist_dialog_step), group=GROUP_PERSIST
    )
    application.add_error_handler(errors.on_error)


async def set_command_menus(application: App) -> None:
    """``post_init``: publish the command menus of ``handlers.core.menus`` for every scope."""
    bot_data = application.bot_data
    # Staff granted in the database see the staff menu too (from the next start).
    staff = bot_data.admins | set(users_with_role(bot_data.db, Role.STAFF))
    for menu in COMMAND_MENUS:
        for scope in scopes_for(menu, staff):
            await application.bot.set_my_commands(bot_commands(menu), scope=scope)


async def start_up(application: App) -> None:
    """``post_init``: command menus, then the notes for dialogs that expired while down."""
    await set_command_menus(application)
    persistence = application.persistence
    if isinstance(persistence, SqlitePersistence) and persistence.expired:
        expired, persistence.expired = persistence.expired, []
        sent = await notify_expired(application, expired, DIALOGS)
        _LOGGER.info("%d dialog(s) expired while the bot was down; %d note(s) sent",
                     len(expired), sent)


async def close_services(application: App) -> None:
    """``post_shutdown``: close the database."""
    db: Database | None = getattr(application.bot_data, "db", None)
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
) -> App:
    """The bot, ready to ``run_polling``/``run_webhook`` or to be started by hand.

    ``request``/``get_updates_request`` replace the HTTP client (the in-process Bot
    API, tests); ``rate_limiter`` replaces the default paced limiter (benchmark).
    """
    processor = PerUserUpdateProcessor(settings.max_concurrent_updates)
    builder = (
        ApplicationBuilder()
        .token(settings.token or "0:local")
        .base_url(settings.api_base_url)
        .base_file_url(file_base_url(settings.api_base_url))
        .rate_limiter(rate_limiter or ResilientRateLimiter())
        .concurrent_updates(processor)
        .post_init(start_up)
        .post_shutdown(close_services)
        .context_types(ContextTypes(context=Context, bot_data=BotData))
        .persistence(
            SqlitePersistence(
                db,
                # bot_data holds the engine and the db handle: never persisted.
                store_data=PersistenceInput(bot_data=False, callback_data=False),
                conversation_timeout=dt.timedelta(seconds=settings.dialog_timeout),
                clock=clock,
            )
        )
    )
    if request is not None:
        builder = builder.request(request)
    if get_updates_request is not None:
        builder = builder.get_updates_request(get_updates_request)
    application = builder.build()
    bot_data = application.bot_data
    bot_data.engine = engine
    bot_data.kb = engine.kb
    bot_data.db = db
    bot_data.clock = clock
    bot_data.admins = settings.admins
    bot_data.dialog_timeout = settings.dialog_timeout
    bot_data.flood = FloodGate(settings.flood_burst, settings.flood_per_minute)
    register_handlers(application, settings.dialog_timeout)
    return application


def update_processor(
    application: App,
) -> PerUserUpdateProcessor:
    """The application's update processor (to listen for processed updates)."""
    processor = application.update_processor
    assert isinstance(processor, PerUserUpdateProcessor)
    return processor
