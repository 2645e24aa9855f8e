"""What every dialog (/register, /report) shares: drafts, prompts, cancel, timeouts, durability.

A dialog keeps what the user entered so far in ``context.user_data[<dialog name>]``
as JSON-able simple values (``SqlitePersistence`` stores JSON). Each step either
moves on, or answers a wrong input with what is wrong plus the same prompt again,
leaving the draft untouched.

Typed button labels: a user who types the exact label of a button on the current
prompt ("跳过", "完成", "确认提交", a city) gets what pressing it does, at every step of
every dialog. :func:`conversation_handler` arranges it once: before a state's text
handler runs, the typed text is compared with the labels of that state's prompt, and
a match runs the state's button handler for that button's data (steps read the
pressed data through :func:`pressed`, never from the callback query directly).

Durability: PTB sets the conversation's new state only *after* a step's callback
returns, so a step cannot persist its own new state. Instead every step marks its
update (:func:`dialog_step`), and :func:`persist_dialog_step`, registered in a later
handler group, writes user data and conversation states to SQLite before the
per-user update processor lets that user's next update in.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import re
import unicodedata
import warnings
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from handlers.core.access import Need
from handlers.core.callback_queries import acknowledge
from handlers.core.context import BotData, Context
from handlers.core.dialog_access import (
    AccessLost,
    AlreadyDone,
    DialogAccess,
    ObjectCheck,
    already_done_text,
    ended_text,
)
from handlers.core.telegram_html import escape
from storage.outbox import Message
from storage.users import Scope

_LOGGER = logging.getLogger(__name__)

END = ConversationHandler.END
STAMP = "_touched_at"  # draft key: when the user last moved the dialog (UTC ISO)
STEP = "_step"  # draft key: the state the dialog waits in (to show its prompt again)

Step = Callable[[Update, Context], Coroutine[Any, Any, object]]
Prompt = Callable[[Context, str], tuple[str, InlineKeyboardMarkup | None]]


@dataclass(frozen=True)
class Dialog:
    """A dialog's identity: its ConversationHandler name, command and what users call it."""

    name: str  # ConversationHandler name and user_data key, e.g. "register"
    command: str  # e.g. "register"
    title: str  # e.g. "企业登记"
    prefix: str  # its buttons' callback data start with ``prefix:``, e.g. "rg"

    @property
    def cancelled(self) -> str:
        return f"已取消{self.title}，填写的内容没有保存。需要时可重新发送 /{self.command}。"

    @property
    def ended(self) -> str:
        return f"这一步已经结束了。需要时请重新发送 /{self.command}。"

    @property
    def timed_out(self) -> str:
        return (
            f"由于长时间没有操作，{self.title}已自动结束，填写的内容没有保存。"
            f"需要时请重新发送 /{self.command}。"
        )

    @property
    def lost(self) -> str:
        return (f"{self.title}填写的内容已丢失（可能由于服务重启），请重新发送 /{self.command}，"
                "抱歉给您带来不便。")

    @property
    def busy(self) -> str:
        return f"您正在进行{self.title}。请按提示继续，或发送 /cancel 取消。"


@contextlib.contextmanager
def per_user_dialogs() -> Iterator[None]:
    """Build a ConversationHandler keyed by chat and user (``per_message=False``) on
    purpose: a dialog's buttons and typed answers belong to one conversation, so PTB's
    warning that button clicks are not tracked per message does not apply."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*per_message=False", category=PTBUserWarning)
        yield


# --- drafts --------------------------------------------------------------------------


def draft(context: Context, dialog: Dialog) -> dict[str, Any]:
    """The dialog's draft in user_data (created empty if missing)."""
    user_data = context.user_data
    assert user_data is not None, "dialogs run per user"
    value = user_data.get(dialog.name)
    if not isinstance(value, dict):
        value = user_data[dialog.name] = {}
    return value


def in_dialog(user_data: Mapping[str, Any] | None) -> bool:
    """Whether the user is in the middle of some dialog (a draft waiting at a step)."""
    return any(isinstance(v, dict) and STEP in v for v in (user_data or {}).values())


def clear_draft(context: Context, dialog: Dialog) -> None:
    if context.user_data is not None:
        context.user_data.pop(dialog.name, None)


def start_scoped(context: Context, dialog: Dialog, scope: Scope) -> None:
    """A fresh draft that keeps the user's scope (admins: the province) for the steps
    of the dialog; the access guard still checks the role on every step."""
    clear_draft(context, dialog)
    draft(context, dialog)["scope"] = sorted(scope.regions)


def draft_scope(context: Context, dialog: Dialog) -> Scope:
    """The scope :func:`start_scoped` kept."""
    return Scope(frozenset(draft(context, dialog).get("scope") or ()))


def dialog_timeout(bot_data: BotData) -> dt.timedelta | None:
    seconds = bot_data.dialog_timeout
    return dt.timedelta(seconds=float(seconds)) if seconds else None


def _stale(context: Context, dialog: Dialog) -> bool:
    """A dialog restored after a restart has no timeout job; check its age on use."""
    timeout = dialog_timeout(context.bot_data)
    stamp = draft(context, dialog).get(STAMP)
    if timeout is None or not isinstance(stamp, str):
        return False
    return context.bot_data.now() - dt.datetime.fromisoformat(stamp) > timeout


def _lost(context: Context, dialog: Dialog) -> bool:
    """A state without its draft (restored from a database written before state and
    draft were saved together): the dialog cannot go on."""
    kept = (context.user_data or {}).get(dialog.name)
    return not isinstance(kept, dict) or STEP not in kept


def dialog_step(dialog: Dialog, *, entry: bool = False) -> Callable[[Step], Step]:
    """Wrap a step: refuse a stale restored dialog, stamp the draft, mark for persistence."""

    def wrap(step: Step) -> Step:
        @functools.wraps(step)
        async def run(update: Update, context: Context) -> object:
            if not entry and _stale(context, dialog):
                return await end_with(update, context, dialog, dialog.timed_out)
            state = await step(update, context)
            if context.user_data is not None and dialog.name in context.user_data:
                current = draft(context, dialog)
                current[STAMP] = context.bot_data.now().isoformat()
                if isinstance(state, str):
                    current[STEP] = state
            mark_touched(update, context)
            return state

        return run

    return wrap


async def end_with(update: Update, context: Context, dialog: Dialog, text: str) -> object:
    """End ``dialog`` with ``text`` (HTML): the button pressed answered, the draft dropped."""
    await close_buttons(update)
    clear_draft(context, dialog)
    await send(update, context, text)
    mark_touched(update, context)
    return END


def mark_touched(update: Update, context: Context) -> None:
    context.bot_data.touched.add(update.update_id)


async def persist_dialog_step(update: Update, context: Context) -> None:
    """Later handler group: put a dialog step's new state and draft on disk now.

    The state and the draft are committed in one transaction (``write_together`` of
    ``bot.persistence``), so a kill cannot leave one without the other. Cost measured
    at about 0.8 ms per step (when they were two small commits, synchronous=FULL on
    ext4), against a Bot API round trip of tens of milliseconds; only dialog updates
    pay it, questions do not.
    """
    touched = context.bot_data.touched
    if update.update_id not in touched:
        return
    touched.discard(update.update_id)
    application = context.application
    if application.persistence is None:
        return
    if update.effective_user is not None:
        application.mark_data_for_update_persistence(user_ids=update.effective_user.id)
    together = getattr(application.persistence, "write_together", None)
    if together is None:
        await application.update_persistence()
    else:  # the state and the draft in one transaction (bot.persistence)
        await together(application.update_persistence())


# --- talking -------------------------------------------------------------------------


def keyboard(rows: Sequence[Sequence[tuple[str, str]]]) -> InlineKeyboardMarkup | None:
    """Inline keyboard from rows of (text, callback data); None when there are no rows."""
    rows = [row for row in rows if row]
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in rows]
    )


def check_mark(label: str, chosen: bool) -> str:
    """A multi-select option's label: ✅ in front when chosen (ignored when the label is
    typed, see :func:`label_key`)."""
    return f"✅ {label}" if chosen else label


def in_rows(buttons: Sequence[tuple[str, str]], per_row: int) -> list[list[tuple[str, str]]]:
    return [list(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row)]


async def send(
    update: Update,
    context: Context,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
) -> None:
    """Send an HTML message to the update's chat (escape user text before calling)."""
    chat = update.effective_chat
    if chat is None:
        return
    await context.bot.send_message(
        chat.id, text, parse_mode=ParseMode.HTML, reply_markup=markup
    )


async def close_buttons(update: Update, text: str | None = None) -> None:
    """A button was pressed: acknowledge it and remove that message's keyboard, so an
    old prompt cannot be answered twice."""
    query = update.callback_query
    if query is None:
        return
    await acknowledge(query, text)
    if query.message is not None and getattr(query.message, "reply_markup", None):
        try:
            await query.edit_message_reply_markup(None)
        except BadRequest as exc:
            _LOGGER.info("dialog buttons not removed: %s", exc.message)


async def show_prompt(
    update: Update,
    context: Context,
    prompt: Prompt,
    state: str,
    error: str | None = None,
    *,
    note: str | None = None,
) -> str:
    """Send the prompt of ``state`` (after ``error`` or a ``note``, if any: plain text,
    escaped here) and wait in ``state``."""
    text, markup = prompt(context, state)
    if note:
        text = f"ℹ️ {escape(note)}\n\n{text}"
    if error:
        text = f"⚠️ {escape(error)}\n\n{text}"
    await send(update, context, text, markup)
    return state


def text_of(update: Update) -> str:
    message = update.effective_message
    return (message.text or "") if message is not None else ""


def pressed(update: Update, context: Context) -> str | None:
    """The data of the button this update pressed: clicked, or its label typed."""
    query = update.callback_query
    if query is not None:
        return query.data
    return context.typed_button


def callback_tail(update: Update, context: Context, prefix: str) -> str | None:
    """``"rg:city:3"`` with prefix ``"rg:city"`` → ``"3"``; None if not that button."""
    data = pressed(update, context)
    if not data or not data.startswith(prefix + ":"):
        return None
    return data[len(prefix) + 1 :]


def small_int(text: str, digits: int = 6) -> int | None:
    """A short run of ASCII digits as an int, else None (callback data can be forged:
    ``"፩".isdigit()`` is true and ``int`` refuses 5000 digits)."""
    if text.isascii() and text.isdigit() and len(text) <= digits:
        return int(text)
    return None


def label_key(text: str) -> str:
    """What counts when typed text is compared with a button label: width (NFKC), spaces,
    the ✅ of a chosen item and the arrows of paging buttons do not."""
    folded = unicodedata.normalize("NFKC", text).replace("✅", "")
    return "".join(ch for ch in folded if not ch.isspace() and ch not in "‹›«»")


def typed_button(text: str, markup: InlineKeyboardMarkup | None) -> str | None:
    """The callback data of the button of ``markup`` whose label ``text`` is."""
    key = label_key(text)
    if not key or markup is None:
        return None
    for row in markup.inline_keyboard:
        for button in row:
            if button.callback_data is not None and label_key(button.text) == key:
                return str(button.callback_data)
    return None


# --- handlers every dialog has -------------------------------------------------------


def cancel_handler(dialog: Dialog) -> Step:
    async def cancel(update: Update, context: Context) -> object:
        await close_buttons(update)
        clear_draft(context, dialog)
        await send(update, context, dialog.cancelled)
        mark_touched(update, context)
        return END

    cancel.__name__ = f"cancel_{dialog.name}"
    return cancel


def expiry_note(dialog: Dialog, chat_id: int, stamp: str) -> Message:
    """The outbox message telling a user their dialog was closed (``stamp``: when)."""
    return Message(key=f"expiry:{dialog.name}:{chat_id}:{stamp}", kind="expiry",
                   text=dialog.timed_out)


def timeout_handler(dialog: Dialog) -> Step:
    """Runs in the ConversationHandler's TIMEOUT state with the dialog's last update: the
    bot speaks on its own here, so the note goes through the outbox."""

    async def timed_out(update: Update, context: Context) -> object:
        clear_draft(context, dialog)
        chat = update.effective_chat
        if chat is not None:
            context.bot_data.outbox.queue(
                expiry_note(dialog, chat.id, context.bot_data.now().isoformat()), [chat.id]
            )
        if update.effective_user is not None:
            context.application.mark_data_for_update_persistence(
                user_ids=update.effective_user.id
            )
        return END

    timed_out.__name__ = f"timeout_{dialog.name}"
    return timed_out


def busy_handler(dialog: Dialog, prompt: Prompt) -> Step:
    """Another command, or a button of an old prompt, while the dialog waits for input:
    say so and show the current step's prompt again (the state does not change)."""

    async def busy(update: Update, context: Context) -> object:
        if update.callback_query is not None:
            await acknowledge(update.callback_query, "这个按钮已过期，请按最新的提示操作。")
        else:
            await send(update, context, dialog.busy)
        step = draft(context, dialog).get(STEP)
        if isinstance(step, str):
            await show_prompt(update, context, prompt, step)
        return None

    busy.__name__ = f"busy_{dialog.name}"
    return busy


Handlers = list[BaseHandler[Update, Any, Any]]


def _typed_labels(
    state: str, step: Step, buttons: Sequence[CallbackQueryHandler[Any, Any]], prompt: Prompt
) -> Step:
    """``step`` (a state's message handler), except that a typed label of one of the
    state's prompt buttons runs that button's handler instead."""

    async def run(update: Update, context: Context) -> object:
        data = typed_button(text_of(update), prompt(context, state)[1])
        if data is not None:
            for handler in buttons:
                if isinstance(handler.pattern, re.Pattern) and handler.pattern.match(data):
                    context.typed_button = data
                    return await handler.callback(update, context)
        return await step(update, context)

    run.__name__ = f"typed_{getattr(step, '__name__', 'step')}"
    return run


def _guarded(dialog: Dialog, step: Step, *, entry: bool = False) -> Step:
    """``step``, run only while the user may still use ``dialog`` (role and scope now,
    see :mod:`handlers.core.dialog_access`); otherwise, or when the step's commit finds
    the right gone (:class:`AccessLost`) or its result already committed
    (:class:`AlreadyDone`), or the draft of a restored state is missing, the dialog
    ends with a message and its draft is dropped."""

    async def run(update: Update, context: Context) -> object:
        access: DialogAccess | None = context.dialog_access
        user = update.effective_user
        kept = (context.user_data or {}).get(dialog.name)
        if not entry and _lost(context, dialog):
            return await end_with(update, context, dialog, dialog.lost)
        try:
            if access is not None and user is not None:
                access.enforce(context, user.id, kept if isinstance(kept, dict) else {})
            return await step(update, context)
        except AccessLost as lost:
            text = ended_text(lost.reason, dialog.title, dialog.command)
        except AlreadyDone as done:  # a confirm replayed after a crash
            text = already_done_text(done.subject)
        return await end_with(update, context, dialog, escape(text))

    run.__name__ = f"guarded_{getattr(step, '__name__', 'step')}"
    return run


def _with_access(access: DialogAccess, step: Step) -> Step:
    """Tell the steps (and :func:`~handlers.core.dialog_access.committing`) what the
    dialog needs, for this update."""

    async def run(update: Update, context: Context) -> object:
        context.dialog_access = access
        return await step(update, context)

    run.__name__ = getattr(step, "__name__", "step")
    return run


def _wrapped(
    dialog: Dialog, access: DialogAccess, handler: BaseHandler[Update, Any, Any],
    *, entry: bool = False,
) -> BaseHandler[Update, Any, Any]:
    step = _with_access(access, _guarded(dialog, handler.callback, entry=entry))
    if isinstance(handler, CallbackQueryHandler):
        return CallbackQueryHandler(step, pattern=handler.pattern, block=handler.block)
    if isinstance(handler, MessageHandler):
        return MessageHandler(handler.filters, step, block=handler.block)
    if isinstance(handler, CommandHandler):
        return CommandHandler(handler.commands, step, filters=handler.filters,
                              block=handler.block)
    raise TypeError(f"unexpected dialog handler {handler!r}")


def _with_typed_labels(
    states: Mapping[object, Handlers], cancel: CallbackQueryHandler[Any, Any], prompt: Prompt
) -> dict[object, Handlers]:
    """Every state's message handlers, wrapped by :func:`_typed_labels`."""
    wrapped: dict[object, Handlers] = {}
    for state, handlers in states.items():
        buttons = [h for h in handlers if isinstance(h, CallbackQueryHandler)] + [cancel]
        wrapped[state] = [
            MessageHandler(h.filters, _typed_labels(str(state), h.callback, buttons, prompt),
                           block=h.block)
            if isinstance(h, MessageHandler) else h
            for h in handlers
        ]
    return wrapped


def conversation_handler(
    dialog: Dialog,
    *,
    states: Mapping[object, Handlers],
    entry: Step,
    prompt: Prompt,
    timeout: float | None,
    need: Need,
    check: ObjectCheck | None = None,
    entry_button: str = "",
) -> ConversationHandler[Any]:
    """The ConversationHandler every dialog is: started by its command in private chats
    (and by buttons whose data start with ``entry_button:``, if given), persisted under
    its name, closed with a note on timeout; /cancel and the 取消 button end it, and any
    other command or stray button shows the current step again. A button's label typed
    at its step presses it (see the module's docstring). Every update of every step is
    checked against ``need`` (declared in ``handlers.policy``) and ``check`` now."""
    prefix = dialog.prefix
    access = DialogAccess(dialog.command, need, check)
    cancel = cancel_handler(dialog)
    busy = busy_handler(dialog, prompt)
    cancel_button = CallbackQueryHandler(cancel, pattern=rf"^{prefix}:cancel$")
    typed = _with_typed_labels(states, cancel_button, prompt)
    with per_user_dialogs():
        return ConversationHandler(
            entry_points=[
                _wrapped(dialog, access, handler, entry=True) for handler in (
                    CommandHandler(dialog.command, entry, filters=filters.ChatType.PRIVATE),
                    *([CallbackQueryHandler(entry, pattern=rf"^{entry_button}:")]
                      if entry_button else []),
                )
            ],
            states={
                **{state: [_wrapped(dialog, access, h) for h in handlers]
                   for state, handlers in typed.items()},
                ConversationHandler.TIMEOUT: [TypeHandler(Update, timeout_handler(dialog))],
            },
            fallbacks=[
                CommandHandler("cancel", cancel),
                cancel_button,
                _wrapped(dialog, access, MessageHandler(filters.COMMAND | ~filters.TEXT, busy)),
                _wrapped(dialog, access, CallbackQueryHandler(busy, pattern=rf"^{prefix}:")),
            ],
            name=dialog.name,
            persistent=True,
            conversation_timeout=timeout,
        )


def forget_drafts(user_data: Mapping[int, Any], user_id: int, names: Sequence[str]) -> bool:
    """Drop dialog drafts of ``user_id`` (a dialog that expired while the bot was down)."""
    data = user_data.get(user_id)
    if not isinstance(data, dict):
        return False
    return any([data.pop(name, None) is not None for name in names])


NOTHING_TO_CANCEL = "当前没有进行中的操作。可以发送 /register 登记企业，或 /report 填报进展。"


async def nothing_to_cancel(update: Update, context: Context) -> None:
    """/cancel outside any dialog."""
    if update.effective_message is not None:
        await update.effective_message.reply_text(NOTHING_TO_CANCEL)


def ended_dialog_button(dialog: Dialog) -> Step:
    """The answer to ``dialog``'s button pressed after that dialog ended (done,
    cancelled, timed out): a short note naming the command that starts it again."""

    async def ended(update: Update, context: Context) -> object:
        if update.callback_query is not None:
            await acknowledge(update.callback_query, dialog.ended)
        return None

    return ended
