"""Flood control: a user sending too fast is asked to slow down; others are unaffected.

Runs in an early group. An update over the user's budget stops there
(``ApplicationHandlerStop``): the first one gets a polite "慢一点", the rest of
that burst is dropped quietly until the bucket refills.

Only what costs an answer counts: questions, and the buttons that ask one (declared
``asks_engine`` in ``handlers.policy``: suggestions, common questions). Dialog steps
and their buttons (toggling industries, paging tasks) and 👍/👎 clicks are cheap and
never throttled by this bucket. A flood of *any* updates — dialog steps included — is
bounded before it takes a global slot by the per-user backlog of
:class:`bot.update_order.PerUserUpdateProcessor`, which calls :func:`answer_overflow`
for each update it drops.
"""

from __future__ import annotations

from collections.abc import Iterable

from telegram import Bot, Update
from telegram.ext import ApplicationHandlerStop

from handlers.core.access import Button
from handlers.core.addressing import addressed_to_bot
from handlers.core.callback_queries import acknowledge
from handlers.core.context import Context
from handlers.core.dialogs import in_dialog
from handlers.core.flood_control import Verdict

SLOW_DOWN = "您发得太快了，请慢一点，稍等几秒再问。🙏"


class FloodCheck:
    """The early-group handler; ``buttons``: the declared ones (those that ask count)."""

    def __init__(self, buttons: Iterable[Button]) -> None:
        self.asking = tuple(f"{b.prefix}:" for b in buttons if b.asks_engine)

    async def __call__(self, update: Update, context: Context) -> None:
        user = update.effective_user
        if user is not None and addressed_to_bot(update) and self._asks(update, context):
            await _check(user.id, update, context)

    def _asks(self, update: Update, context: Context) -> bool:
        """Whether this update will be answered by the engine (what flood control
        protects)."""
        query = update.callback_query
        if query is not None:
            return (query.data or "").startswith(self.asking)
        return not in_dialog(context.user_data)


async def _check(user_id: int, update: Update, context: Context) -> None:
    now = context.bot_data.now().timestamp()
    verdict = context.bot_data.flood.check(user_id, now)
    if verdict is Verdict.ALLOW:
        return
    if verdict is Verdict.WARN:
        if update.callback_query is not None:
            await acknowledge(update.callback_query, SLOW_DOWN)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(SLOW_DOWN)
    elif update.callback_query is not None:
        await acknowledge(update.callback_query)
    raise ApplicationHandlerStop


async def answer_overflow(bot: Bot, update: object, first: bool) -> None:
    """An update dropped because its user's backlog is full: "慢一点" once per burst (in
    a group only when it was addressed to the bot); a button is always acknowledged."""
    if not isinstance(update, Update):
        return
    query = update.callback_query
    if query is not None:
        await acknowledge(query, SLOW_DOWN if first else None)
        return
    chat = update.effective_chat
    if first and chat is not None and addressed_to_bot(update):
        await bot.send_message(chat.id, SLOW_DOWN)
