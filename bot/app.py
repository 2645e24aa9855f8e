"""Build the python-telegram-bot ``Application``: services, pacing, handlers, menus.

The same application runs under ``lvdong run`` (Telegram), ``lvdong chat`` (the
in-process Bot API) and the tests (an HTTP stand-in); only the requests differ.
What the bot offers, and who may use it, is declared in :mod:`handlers.policy`;
this module only turns that declaration into handlers, in explicit groups.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging

from sqlite_utils import Database
from telegram import Update
from telegram.error import TelegramError
from telegram.ext import (
    ApplicationBuilder,
    BaseRateLimiter,
    CallbackQueryHandler,
    ChatMemberHandler,
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
from bot.sending import PacedRateLimiter, SendBudget
from bot.settings import Settings
from bot.update_order import PerUserUpdateProcessor
from handlers import policy
from handlers.core import dialogs, errors, flood, users
from handlers.core.access import AccessGuard, Command, Where
from handlers.core.addressing import MENTIONS_BOT
from handlers.core.context import AnswerEngine, App, BotData, Clock, Context, system_clock
from handlers.core.dialog_expiry import notify_expired, notify_waiting
from handlers.core.flood_control import FloodGate
from handlers.core.menus import publish_menus
from handlers.delivery import chat_members, reminders
from handlers.delivery.outbox import OutboxSender
from handlers.officials import notices
from handlers.public import ask, start
from handlers.staff.unanswered import learned_questions
from storage import ledger
from storage.dialog_results import start_run, stop_run
from storage.users import Role, users_with_role

_LOGGER = logging.getLogger(__name__)

# Handler groups. ORDER MATTERS: python-telegram-bot runs groups in ascending
# order; within a group only the first matching handler runs. A handler raising
# ApplicationHandlerStop ends processing of that update (flood control and the
# access guard do).
GROUP_FLOOD = -10  # flood control: may stop the update
GROUP_ACCESS = -8  # the access policy: refuses what the declaration does not allow
GROUP_TRACK = -5  # remember the user; never stops anything
GROUP_MAIN = 0  # commands, dialogs, button clicks, questions; catch-alls last
GROUP_PERSIST = 10  # after a dialog step: its new state and draft go to disk at once

DIALOG_NAMES = {entry.dialog.name: entry.dialog for entry in policy.DIALOGS}


def _command_handler(command: Command) -> CommandHandler[Context, object]:
    assert command.callback is not None
    chats: filters.BaseFilter = (
        filters.ChatType.PRIVATE if command.where is Where.PRIVATE else filters.ALL
    )
    if command.payload:
        chats = chats & filters.Regex(rf"^/{command.name}(?:@\w+)?\s+{command.payload}")
    return CommandHandler(command.name, command.callback, filters=chats)


def register_handlers(application: App, dialog_timeout: float | None = None) -> None:
    """Every handler of the bot, from :mod:`handlers.policy`, in explicit groups.

    Dialogs (ConversationHandlers) go in GROUP_MAIN *before* the other commands and the
    question catch-alls, so a user in the middle of a dialog has their text handled by
    the dialog, not taken as a question, and any other command is answered by the
    dialog ("finish or /cancel"); commands declared ``in_dialogs`` (/start, /help,
    /ask) come first and keep working. A dialog's button pressed after it ended gets a
    short note. GROUP_PERSIST writes a dialog step to disk before the user's next update.
    """
    application.add_handler(TypeHandler(Update, flood.FloodCheck(policy.BUTTONS)),
                            group=GROUP_FLOOD)
    application.add_handler(
        TypeHandler(Update, AccessGuard(policy.COMMANDS, policy.BUTTONS)), group=GROUP_ACCESS
    )
    application.add_handler(TypeHandler(Update, users.track_user), group=GROUP_TRACK)

    with_callback = [c for c in policy.COMMANDS if c.callback is not None]
    first = [c for c in with_callback if c.in_dialogs]
    later = [c for c in with_callback if not c.in_dialogs]
    private_text = filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND
    group_mention = filters.ChatType.GROUPS & filters.TEXT & ~filters.COMMAND & MENTIONS_BOT
    application.add_handlers(
        [
            # a command with a payload (/start inv_...) before the same command without
            *(_command_handler(c) for c in sorted(first, key=lambda c: not c.payload)),
            *(entry.handler(dialog_timeout) for entry in policy.DIALOGS),
            *(_command_handler(c) for c in later),
            *(CallbackQueryHandler(b.callback, pattern=rf"^{b.prefix}:")
              for b in policy.BUTTONS if b.callback is not None),
            *(CallbackQueryHandler(dialogs.ended_dialog_button(entry.dialog),
                                   pattern=rf"^{entry.prefix}:") for entry in policy.DIALOGS),
            ChatMemberHandler(chat_members.on_my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER),
            # -- catch-alls: keep last --
            MessageHandler(private_text, ask.on_text),
            MessageHandler(group_mention, ask.on_mention),
            MessageHandler(filters.COMMAND & filters.ChatType.PRIVATE, start.unknown_command),
        ],
        group=GROUP_MAIN,
    )
    application.add_handler(TypeHandler(Update, dialogs.persist_dialog_step), group=GROUP_PERSIST)
    application.add_error_handler(errors.on_error)


def _roles(bot_data: BotData) -> dict[int, Role]:
    """Users with a menu of their own: officials, staff and admins (database and settings)."""
    roles = {user: role for role in (Role.OFFICIAL, Role.STAFF, Role.ADMIN)
             for user in users_with_role(bot_data.db, role)}
    roles.update({admin: Role.ADMIN for admin in bot_data.admins})
    return roles


async def start_up(application: App) -> None:
    """``post_init``: menus, the outbox sender, notes for dialogs that expired while the
    bot was down, and the reminders (a run missed while down is planned now)."""
    bot_data = application.bot_data
    removed = ledger.empty_scratch(ledger.scratch_dir(bot_data.db_path))
    if removed:
        _LOGGER.info("removed %d temporary export file(s) left by an earlier run", removed)
    await publish_menus(application.bot, bot_data.commands, _roles(bot_data))
    await bot_data.outbox.start()
    persistence = application.persistence
    if isinstance(persistence, SqlitePersistence) and persistence.expired:
        expired, persistence.expired = persistence.expired, []
        queued = await notify_expired(application, expired, DIALOG_NAMES)
        _LOGGER.info("%d dialog(s) expired while the bot was down; %d note(s) queued",
                     len(expired), queued)
    bot_data.run_id, crashed = start_run(bot_data.db, bot_data.now())
    if crashed:
        flows = [entry.flow for entry in policy.DIALOGS]
        told = notify_waiting(application, flows, bot_data.run_id,
                              await _chats_with_unconfirmed_updates(application))
        _LOGGER.info("the last run ended without a clean stop; %d waiting dialog(s) told", told)
    reminders.run_reminders(bot_data, bot_data.reminders)
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            reminders.tick, interval=reminders.TICK_SECONDS, first=reminders.TICK_SECONDS,
            name="reminders",
        )


async def _chats_with_unconfirmed_updates(application: App) -> frozenset[int]:
    """Chats whose updates Telegram will hand over again (the crashed run fetched them
    but never confirmed them): a peek at ``getUpdates`` without an offset confirms
    nothing. Empty when it cannot be read (a webhook is set, Telegram is away): then
    every waiting user is told, as before."""
    try:
        updates = await application.bot.get_updates(timeout=0, limit=100)
    except TelegramError as exc:
        _LOGGER.info("could not look at unconfirmed updates (%s)", type(exc).__name__)
        return frozenset()
    return frozenset(u.effective_chat.id for u in updates if u.effective_chat is not None)


async def stop_services(application: App) -> None:
    """``post_stop``: let the outbox finish what is in flight (and record it)."""
    await application.bot_data.outbox.stop()


async def close_services(application: App) -> None:
    """``post_shutdown``: record the clean stop, close the database."""
    db: Database | None = getattr(application.bot_data, "db", None)
    if db is not None:
        if application.bot_data.run_id:
            stop_run(db, application.bot_data.run_id, application.bot_data.now())
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
    rate_limiter: BaseRateLimiter[dict[str, object]] | None = None,
) -> App:
    """The bot, ready to ``run_polling``/``run_webhook`` or to be started by hand.

    ``request``/``get_updates_request`` replace the HTTP client (the in-process Bot
    API, tests); ``rate_limiter`` replaces the paced limiter (benchmark: pacing off).
    """
    budget = SendBudget(settings.max_rate, settings.send_rate)
    processor = PerUserUpdateProcessor(settings.max_concurrent_updates,
                                       backlog=settings.user_backlog)
    builder = (
        ApplicationBuilder()
        .token(settings.token or "0:local")
        .base_url(settings.api_base_url)
        .base_file_url(file_base_url(settings.api_base_url))
        .rate_limiter(rate_limiter or PacedRateLimiter(budget))
        .concurrent_updates(processor)
        .post_init(start_up)
        .post_stop(stop_services)
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
    application: App = builder.build()
    bot_data = application.bot_data
    bot_data.engine = engine
    bot_data.db = db
    bot_data.db_path = settings.db_path
    bot_data.learned = learned_questions(db)
    bot_data.clock = clock
    bot_data.admins = settings.admins
    bot_data.dialog_timeout = settings.dialog_timeout
    bot_data.flood = FloodGate(settings.flood_burst, settings.flood_per_minute)
    bot_data.commands = policy.COMMANDS
    bot_data.reminders = reminders.ReminderSettings(
        settings.reminder_time, settings.reminder_days, settings.reminder_catchup_days
    )
    bot_data.invite_hours = settings.invite_hours
    bot_data.enterprise_invite_days = settings.enterprise_invite_days
    bot_data.outbox = OutboxSender(
        application.bot, db, clock,
        pace=budget.take_outbox if rate_limiter is None else _unpaced,
        held=budget.held,
        concurrency=settings.outbox_concurrency,
        on_progress=functools.partial(notices.show_progress, application),
    )
    processor.on_overflow = lambda update, first: application.create_task(
        flood.answer_overflow(application.bot, update, first), update=update)
    register_handlers(application, settings.dialog_timeout)
    return application


async def _unpaced() -> None:
    """Outbox pacing when a custom rate limiter is given (the benchmark's bare setups)."""


def update_processor(application: App) -> PerUserUpdateProcessor:
    """The application's update processor (to listen for processed updates)."""
    processor = application.update_processor
    assert isinstance(processor, PerUserUpdateProcessor)
    return processor
