"""Send at a pace Telegram accepts: replies first, the outbox takes what is left.

Telegram accepts about 30 messages a second from a bot overall, 20 a minute in
one group and about one a second in one chat. Every request that names a chat
(``chat_id``: sendMessage, editMessageText, sendDocument, ...) takes one slot of
a shared :class:`SendBudget`, at most ``max_rate`` in any one-second window.
Two kinds of request share it:

* **Replies** — what handlers send to users who are talking to the bot. They take
  a slot first: while a reply waits, the outbox waits. A 429 ``retry_after`` is
  waited out and the request retried (``max_retries``); a request that failed on
  the way (HTTP 5xx, a timeout, a dropped connection) is retried a few times with
  a short back-off, so a hiccup does not cost a user their answer. Telegram has no
  idempotency key, so a reply that timed out *after* Telegram acted on it can come
  twice: for an answer to a question, a rare duplicate beats a lost one.
* **Outbox sends** — what the bot sends on its own (``rate_limit_args=OUTBOX``,
  see :mod:`handlers.delivery.outbox`; the sender takes their slot with
  :meth:`SendBudget.take_outbox` before it marks them "sending"). They take a slot
  only when no reply waits, never more than ``send_rate`` a second, evenly spaced,
  and get *no* automatic
  retries: a retried send after a timeout could be a duplicate, so the outbox
  decides (it marks such a message "uncertain"). A 429 on an outbox send pauses
  the outbox only; the exception goes back to the sender.

Group chats keep Telegram's 20-a-minute limit for both kinds.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Callable, Coroutine
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import BaseRateLimiter

from handlers.delivery.outbox import OUTBOX

_LOGGER = logging.getLogger(__name__)

# Rejections: retrying would get the same answer.
_FINAL = (BadRequest, Forbidden, InvalidToken, Conflict, ChatMigrated)
GROUP_PER_MINUTE = 20

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]
Clock = Callable[[], float]


class SendBudget:
    """At most ``max_rate`` sends in any one-second window; replies before the outbox.

    ``send_rate`` caps the outbox on its own, with sends evenly spaced (one every
    ``1/send_rate`` seconds), and :meth:`pause_outbox` holds only the outbox back
    (after a 429 it was given). ``max_rate <= 0`` turns pacing off.
    """

    WINDOW = 1.0

    def __init__(self, max_rate: float, send_rate: float, *, clock: Clock = time.monotonic):
        self.max_rate = max_rate
        self.send_rate = min(send_rate, max_rate) if max_rate > 0 else send_rate
        self._clock = clock
        self._sent: collections.deque[float] = collections.deque()
        self._replies_waiting = 0
        self._next_outbox = 0.0
        self._outbox_paused_until = 0.0
        self._all_paused_until = 0.0
        self._outbox_lock = asyncio.Lock()

    def _room(self, now: float) -> float:
        """0 when a send may go now, else the seconds until the window has room."""
        while self._sent and now - self._sent[0] >= self.WINDOW:
            self._sent.popleft()
        if len(self._sent) < self.max_rate:
            return 0.0
        return self._sent[0] + self.WINDOW - now

    async def take_reply(self) -> None:
        """Wait for a slot for a reply (ahead of every outbox send)."""
        if self.max_rate <= 0:
            return
        self._replies_waiting += 1
        try:
            while True:
                now = self._clock()
                wait = max(self._all_paused_until - now, self._room(now))
                if wait <= 0:
                    self._sent.append(now)
                    return
                await asyncio.sleep(wait)
        finally:
            self._replies_waiting -= 1

    async def take_outbox(self) -> None:
        """Wait for an outbox slot: evenly spaced at ``send_rate``, only when no reply
        waits and the shared window has room, never while the outbox is paused."""
        async with self._outbox_lock:  # outbox sends leave one at a time, in order
            while True:
                now = self._clock()
                wait = max(
                    self._next_outbox - now,
                    self._outbox_paused_until - now,
                    self._all_paused_until - now,
                    self._room(now) if self.max_rate > 0 else 0.0,
                )
                if wait <= 0 and self._replies_waiting == 0:
                    if self.max_rate > 0:
                        self._sent.append(now)
                    if self.send_rate > 0:
                        # at least one interval after this send: a late send is not made
                        # up by a quicker next one, so no second holds more than send_rate
                        self._next_outbox = now + 1 / self.send_rate
                    return
                await asyncio.sleep(wait if wait > 0 else 1 / max(self.max_rate, 50.0))

    def pause_outbox(self, seconds: float) -> None:
        self._outbox_paused_until = max(self._outbox_paused_until, self._clock() + seconds)

    def pause_all(self, seconds: float) -> None:
        self._all_paused_until = max(self._all_paused_until, self._clock() + seconds)


class PacedRateLimiter(BaseRateLimiter[dict[str, Any]]):
    """python-telegram-bot's rate limiter for lvdong: one :class:`SendBudget` for replies
    and outbox, per-group limits, retries for replies only (see the module docstring)."""

    def __init__(
        self,
        budget: SendBudget,
        *,
        max_retries: int = 3,
        network_retries: int = 3,
        backoff: float = 0.25,
        group_per_minute: int = GROUP_PER_MINUTE,
    ) -> None:
        self.budget = budget
        self.max_retries = max_retries
        self.network_retries = network_retries
        self.backoff = backoff
        self.group_per_minute = group_per_minute
        self._groups: dict[int | str, AsyncLimiter] = {}

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    def _group_limiter(self, chat_id: object) -> AsyncLimiter | None:
        if self.group_per_minute <= 0 or self.budget.max_rate <= 0:
            return None
        if isinstance(chat_id, str) and chat_id.lstrip("-").isdigit():
            chat_id = int(chat_id)
        if not ((isinstance(chat_id, int) and chat_id < 0) or isinstance(chat_id, str)):
            return None
        if len(self._groups) > 10_000:
            self._groups.clear()
        return self._groups.setdefault(chat_id, AsyncLimiter(self.group_per_minute, 60))

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> JSONResult:
        chat_id = data.get("chat_id")
        group = self._group_limiter(chat_id) if chat_id is not None else None
        if rate_limit_args is OUTBOX or (rate_limit_args or {}).get("outbox"):
            return await self._outbox_send(callback, args, kwargs, group)
        return await self._reply(callback, args, kwargs, endpoint, chat_id, group)

    async def _outbox_send(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        group: AsyncLimiter | None,
    ) -> JSONResult:
        """One attempt; its slot was taken by the sender beforehand (``SendBudget.take_outbox``,
        so a delivery is marked "sending" only once it may really go). A 429 pauses the
        outbox and goes back to the sender."""
        if group is not None:
            await group.acquire()
        try:
            return await callback(*args, **kwargs)
        except RetryAfter as exc:
            self.budget.pause_outbox(_seconds(exc))
            raise

    async def _reply(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        chat_id: object,
        group: AsyncLimiter | None,
    ) -> JSONResult:
        limited = 0
        failed = 0
        while True:
            if group is not None:
                await group.acquire()
            if chat_id is not None:
                await self.budget.take_reply()
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if limited >= self.max_retries:
                    raise
                limited += 1
                sleep = _seconds(exc) + 0.1
                _LOGGER.info("%s rate-limited by Telegram; retrying after %.1f s", endpoint, sleep)
                self.budget.pause_all(sleep)
            except _FINAL:
                raise
            except NetworkError as exc:  # includes TimedOut and HTTP 5xx
                if failed >= self.network_retries:
                    raise
                delay = self.backoff * (2**failed)
                failed += 1
                _LOGGER.warning(
                    "%s failed (%s); retry %d/%d in %.2fs",
                    endpoint, exc.message, failed, self.network_retries, delay,
                )
                await asyncio.sleep(delay)


def _seconds(exc: RetryAfter) -> float:
    retry_after = exc.retry_after
    return float(retry_after.total_seconds() if hasattr(retry_after, "total_seconds")
                 else retry_after)
