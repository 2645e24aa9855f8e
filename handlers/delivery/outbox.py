"""The outbox sender: delivers what the bot sends on its own, once, at a pace Telegram accepts.

Everything the bot says without being asked — notices, reminders, approval
results, review notes, dialog-expiry notes — is first written to the outbox
(:mod:`storage.outbox`) by whoever decided to say it, inside their transaction;
then :meth:`OutboxSender.wake` is called. This sender, a background task started
with the application (never awaited inside a handler), works through the queue:

1. takes an outbox slot (``pace``: evenly spaced at ``LVDONG_SEND_RATE``, only when
   no reply to a user is waiting — see :mod:`bot.sending`);
2. marks the delivery ``sending`` and commits, *then* calls the Bot API once, with
   no automatic retry (``rate_limit_args=OUTBOX``);
3. records the outcome: ``sent``; ``blocked`` (403: the user blocked the bot, who is
   then skipped until they come back); ``failed`` (another rejection); back to
   ``queued`` later (429 ``retry_after``; a connection that failed before sending;
   other network errors, with back-off, up to ``max_attempts``); or ``uncertain``
   (the request went out and no answer came back: a read or write timeout).

At start-up, deliveries a crash left ``sending`` become ``uncertain`` (see
:func:`storage.outbox.recover`): at most ``concurrency`` of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import httpx
from sqlite_utils import Database
from telegram import InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut
from telegram.ext import ExtBot

from storage import outbox as store
from storage.outbox import Delivery, DeliveryStatus
from storage.users import set_reachable

_LOGGER = logging.getLogger(__name__)

# ``rate_limit_args`` of outbox sends: the rate limiter gives them no automatic retries
# (the sender decides) and lets a 429 pause the outbox alone.
OUTBOX: dict[str, Any] = {"outbox": True}

Clock = Callable[[], dt.datetime]
Pace = Callable[[], Awaitable[None]]
Held = Callable[[int], float]
ProgressHook = Callable[[set[int]], Awaitable[None]]


async def _no_pace() -> None:
    return None


def _never_held(chat_id: int) -> float:
    return 0.0


def never_sent(error: BaseException) -> bool:
    """Whether a failed request certainly never reached Telegram (safe to send again):
    no connection, or no free connection, before the timeout."""
    cause = error.__cause__
    return isinstance(cause, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout))


class OutboxSender:
    """Sends queued deliveries in the background; see the module docstring."""

    def __init__(
        self,
        bot: ExtBot[Any],
        db: Database,
        clock: Clock,
        *,
        pace: Pace = _no_pace,
        held: Held = _never_held,
        concurrency: int = 8,
        max_attempts: int = 5,
        backoff: float = 2.0,
        idle_poll: float = 5.0,
        progress_every: float = 3.0,
        on_progress: ProgressHook | None = None,
    ) -> None:
        self.bot = bot
        self.db = db
        self.clock = clock
        self.pace = pace
        self.held = held  # seconds a 429 still holds a chat back (bot.sending.SendBudget)
        self.concurrency = max(1, concurrency)
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.idle_poll = idle_poll
        self.progress_every = progress_every
        self.on_progress = on_progress
        self.recovered = 0  # deliveries found ``sending`` at start-up, now uncertain
        self._wake = asyncio.Event()
        self._slot_free = asyncio.Event()
        self._inflight: dict[int, asyncio.Task[None]] = {}
        self._touched_notices: set[int] = set()
        self._task: asyncio.Task[None] | None = None
        self._progress_task: asyncio.Task[None] | None = None
        self._stopping = False

    # -- life cycle -----------------------------------------------------------------

    async def start(self) -> None:
        self.recovered = store.recover(self.db, self.clock())
        if self.recovered:
            _LOGGER.warning("%d outbox deliveries were in flight at the last stop; "
                            "marked uncertain", self.recovered)
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="outbox-sender")
        if self.on_progress is not None:
            self._progress_task = asyncio.create_task(self._report(), name="outbox-progress")

    async def stop(self) -> None:
        """Stop taking new deliveries; let those in flight finish (their outcome is
        recorded), then flush the last progress."""
        self._stopping = True
        self.wake()
        if self._task is not None:
            await self._task
            self._task = None
        if self._inflight:
            await asyncio.gather(*self._inflight.values(), return_exceptions=True)
        if self._progress_task is not None:
            self._progress_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._progress_task
            self._progress_task = None
        await self._flush_progress()

    def wake(self) -> None:
        """Something was queued: look at the outbox now rather than at the next poll."""
        self._wake.set()

    @property
    def busy(self) -> bool:
        return bool(self._inflight)

    def queue(
        self,
        message: store.Message,
        chat_ids: Iterable[int],
        *,
        priority: int = store.Priority.PERSONAL,
        not_before: dt.datetime | None = None,
    ) -> int:
        """Queue ``message`` for ``chat_ids`` (joining an open transaction) and wake the
        sender; returns how many deliveries were added (0 if all were queued before)."""
        _, added = store.enqueue(self.db, message, chat_ids, now=self.clock(),
                                 not_before=not_before, priority=priority)
        if added:
            self.wake()
        return added

    # -- the loop -------------------------------------------------------------------

    async def _run(self) -> None:
        while not self._stopping:
            try:
                started = self._fill()
            except Exception:  # a database error must not kill the sender for good
                _LOGGER.exception("outbox: could not read the queue; retrying")
                started = 0
            if self._stopping:
                break
            if started == 0:
                await self._idle()
            elif len(self._inflight) >= self.concurrency:
                self._slot_free.clear()
                await self._slot_free.wait()

    def _fill(self) -> int:
        free = self.concurrency - len(self._inflight)
        if free <= 0:
            return 0
        now = self.clock()
        batch = store.due(self.db, now, free, skip=list(self._inflight))
        for delivery in batch:
            if delivery.reachable:
                self._inflight[delivery.id] = asyncio.create_task(self._deliver(delivery))
            else:  # known to have blocked the bot: no call, no place in the pace
                store.block(self.db, delivery.id, now)
        return len(batch)

    async def _idle(self) -> None:
        """Wait for a wake-up, a free slot, or the next scheduled delivery."""
        self._wake.clear()
        self._slot_free.clear()
        timeout = self.idle_poll
        upcoming = store.next_due(self.db)
        if upcoming is not None:
            timeout = min(timeout, max(0.05, (upcoming - self.clock()).total_seconds()))
        waits = [asyncio.create_task(self._wake.wait()),
                 asyncio.create_task(self._slot_free.wait())]
        try:
            await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()

    # -- one delivery ---------------------------------------------------------------

    async def _deliver(self, delivery: Delivery) -> None:
        try:
            wait = self.held(delivery.chat_id)
            if wait > 0:  # that chat is rate-limited: later, without a call or an attempt
                now = self.clock()
                store.retry_later(self.db, delivery.id, now + dt.timedelta(seconds=wait), now,
                                  "429 retry_after (chat held back)")
                return
            await self.pace()
            await self._send(delivery)
        except Exception:
            _LOGGER.exception("outbox: delivery %s could not be processed", delivery.id)
        finally:
            self._inflight.pop(delivery.id, None)
            if delivery.notice_id is not None:
                self._touched_notices.add(delivery.notice_id)
            self._slot_free.set()

    async def _send(self, delivery: Delivery) -> None:
        db, now = self.db, self.clock()
        if not store.mark_sending(db, delivery.id, now):
            return  # cancelled or already handled meanwhile
        markup = (InlineKeyboardMarkup.de_json(json.loads(delivery.markup), self.bot)
                  if delivery.markup else None)
        try:
            sent = await self.bot.send_message(
                delivery.chat_id, delivery.text, parse_mode=ParseMode.HTML,
                reply_markup=markup, rate_limit_args=OUTBOX,
            )
        except RetryAfter as exc:
            wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, dt.timedelta) else float(wait)
            store.retry_later(db, delivery.id, self.clock() + dt.timedelta(seconds=seconds),
                              self.clock(), "429 retry_after")
        except Forbidden as exc:
            store.finish(db, delivery.id, DeliveryStatus.BLOCKED, self.clock(), error=exc.message)
            set_reachable(db, delivery.chat_id, False, self.clock())
        except BadRequest as exc:
            store.finish(db, delivery.id, DeliveryStatus.FAILED, self.clock(), error=exc.message)
        except TimedOut as exc:
            if never_sent(exc):
                self._later(delivery, exc)
            else:
                store.finish(db, delivery.id, DeliveryStatus.UNCERTAIN, self.clock(),
                             error="timed out after the request was sent")
        except NetworkError as exc:  # 5xx, a dropped connection
            self._later(delivery, exc)
        except Exception as exc:  # unknown: the request may have gone out
            store.finish(db, delivery.id, DeliveryStatus.UNCERTAIN, self.clock(),
                         error=type(exc).__name__)
            raise
        else:
            store.finish(db, delivery.id, DeliveryStatus.SENT, self.clock(),
                         sent_message_id=sent.message_id)

    def _later(self, delivery: Delivery, error: NetworkError) -> None:
        attempts = delivery.attempts + 1
        now = self.clock()
        if attempts >= self.max_attempts:
            store.finish(self.db, delivery.id, DeliveryStatus.FAILED, now,
                         error=f"gave up after {attempts} attempts: {error.message}")
            return
        delay = self.backoff * (2 ** (attempts - 1))
        store.retry_later(self.db, delivery.id, now + dt.timedelta(seconds=delay), now,
                          error.message)

    # -- progress of notices --------------------------------------------------------

    async def _report(self) -> None:
        while True:
            await asyncio.sleep(self.progress_every)
            await self._flush_progress()

    async def _flush_progress(self) -> None:
        if self.on_progress is None or not self._touched_notices:
            return
        touched, self._touched_notices = self._touched_notices, set()
        try:
            await self.on_progress(touched)
        except Exception:
            _LOGGER.exception("outbox: progress of notices %s not shown", sorted(touched))

