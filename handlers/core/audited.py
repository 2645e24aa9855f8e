"""The audited button: parse its ids, act and record the action in the audit log in one
transaction, and answer the click.

``nc:12`` (cancel notice 12), ``dx:3`` (withdraw deadline 3), ``uu:5`` (forget a
taught question): the access guard has checked role, scope and owner before; what is
left is the same for each, and written once here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from sqlite_utils import Database
from telegram import CallbackQuery, Update

from handlers.core.callback_queries import acknowledge, parse_data
from handlers.core.context import Context
from storage import audit
from storage.db import transaction


@dataclass(frozen=True)
class Done:
    """What an audited action did: the answer to the click and, if anything changed,
    its audit entry (``action`` None: nothing to record)."""

    answer: str
    action: str | None = None
    subject: str = ""
    details: Mapping[str, object] = field(default_factory=dict)


Act = Callable[[Database, list[int], int, dt.datetime], Done]


async def audited_button(
    update: Update, context: Context, prefix: str, parts: int, act: Act
) -> tuple[CallbackQuery, list[int], Done] | None:
    """Run ``act(db, ids, user_id, now)`` for the pressed ``<prefix>:<id>...`` button and
    its audit entry in one transaction, then answer the click; None for a malformed
    button (answered without a word)."""
    query = update.callback_query
    if query is None or query.from_user is None:
        return None
    ids = parse_data(query.data, prefix, parts)
    if ids is None:
        await acknowledge(query)
        return None
    bot_data = context.bot_data
    now, user_id = bot_data.now(), query.from_user.id
    with transaction(bot_data.db):
        done = act(bot_data.db, ids, user_id, now)
        if done.action is not None:
            audit.record(bot_data.db, actor_id=user_id, action=done.action,
                         subject=done.subject, now=now, **done.details)
    await acknowledge(query, done.answer)
    return query, ids, done
