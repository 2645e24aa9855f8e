"""Send at a pace Telegram accepts: replies first, the outbox takes what is left.

Telegram accepts about 30 messages a second from a bot overall, 20 a minute in
one group and about one a second in one chat. Every request that names a chat
(``chat_id``: sendMessage, editMessageText, sendDocument, ...) takes one slot of
a shared :class:`SendBudget`, at most ``max_rate`` in any one-second window.
Two kinds of request share it:

* **Replies** — what handlers send to users who are talking to the bot. They take
  a slot first: while a reply waits, the outbox waits. A 429 ``retry_after`` holds
  back that chat alone (:meth:`SendBudget.rate_limited`) and the request is retried
  after it (``max_retries``); a request that failed on
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
  decides (it marks such a message "uncertain"). A 429 on an outbox send holds back
  that chat (the sender queues its messages for later) while the outbox goes on for
  the others; the exception goes back to the sender.

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
    ``1/send_rate`` seconds), and :meth:`pause_outbox` holds only the outbox back.
    ``max_rate <= 0`` turns pacing off.

    Fairness: one chat's replies take at most :attr:`per_chat` slots of a window
    (``chat_share`` of ``max_rate``), so a user whose every message is answered cannot
    crowd the others out of the budget. A 429 is scoped (:meth:`rate_limited`): it holds
    back the chat it names — its replies and its outbox messages — and nothing else,
    unless it named no chat or several chats were limited at once, which is Telegram
    limiting the whole bot.
    """

    WINDOW = 1.0
    GLOBAL_AFTER = 3  # chats limited within one window: a limit on the whole bot

    def __init__(self, max_rate: float, send_rate: float, *, clock: Clock = time.monotonic,
                 chat_share: float = 0.2):
        self.max_rate = max_rate
        self.send_rate = min(send_rate, max_rate) if max_rate > 0 else send_rate
        self.per_chat = max(1, int(max_rate * chat_share))
        self._clock = clock
        self._sent: collections.deque[float] = collections.deque()
        self._chat_sent: dict[object, collections.deque[float]] = {}
        self._replies_waiting = 0
        self._next_outbox = 0.0
        self._outbox_paused_until = 0.0
        self._all_paused_until = 0.0
        self._chat_paused_until: dict[object, float] = {}
        self._limited: collections.deque[tuple[float, object]] = collections.deque()
        self._outbox_lock = asyncio.Lock()

    def _room(self, now: float) -> float:
        """0 when a send may go now, else the seconds until the window has room."""
        while self._sent and now - self._sent[0] >= self.WINDOW:
            self._sent.popleft()
        if len(self._sent) < self.max_rate:
            return 0.0
        return self._sent[0] + self.WINDOW - now

    def _chat_room(self, chat: object, now: float) -> float:
        """0 when ``chat`` has not used its share of the window, else the seconds until."""
        sent = self._chat_sent.get(chat)
        if sent is None:
            return 0.0
        while sent and now - sent[0] >= self.WINDOW:
            sent.popleft()
        if not sent:
            del self._chat_sent[chat]
            return 0.0
        if len(sent) < self.per_chat:
            return 0.0
        return sent[0] + self.WINDOW - now

    def held(self, chat: object) -> float:
        """Seconds for which a 429 holds ``chat`` back (0: not held)."""
        now = self._clock()
        until = max(self._all_paused_until, self._chat_paused_until.get(chat, 0.0))
        return max(0.0, until - now)

    async def take_reply(self, chat: object = None) -> None:
        """Wait for a slot for a reply to ``chat`` (ahead of every outbox send, except
        while the chat itself is held back by a 429 or has used its share)."""
        if self.max_rate <= 0:
            return
        waiting = False
        try:
            while True:
                now = self._clock()
                own = max(self.held(chat),
                          self._chat_room(chat, now) if chat is not None else 0.0)
                if own > 0:  # the chat's own limit: the others, outbox included, go on
                    if waiting:
                        waiting, self._replies_waiting = False, self._replies_waiting - 1
                    await asyncio.sleep(min(own, self.WINDOW / 2))  # re-read the clock often
                    continue
                room = self._room(now)
                if room <= 0:
                    self._sent.append(now)
                    if chat is not None:
                        self._chat_sent.setdefault(chat, collections.deque()).append(now)
                    return
                if not waiting:
                    waiting, self._replies_waiting = True, self._replies_waiting + 1
                await asyncio.sleep(room)
        finally:
            if waiting:
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

    def rate_limited(self, chat: object, seconds: float) -> None:
        """Telegram answered 429 with ``retry_after=seconds`` to a request for ``chat``
        (None: a request naming no chat). Holds back that chat alone, or everything when
        no chat was named or :attr:`GLOBAL_AFTER` chats were limited in one window."""
        now = self._clock()
        if chat is None:
            self.pause_all(seconds)
            return
        self._chat_paused_until[chat] = max(self._chat_paused_until.get(chat, 0.0),
                                            now + seconds)
        self._limited.append((now, chat))
        while self._limited and now - self._limited[0][0] >= self.WINDOW:
            self._limited.popleft()
        if len({c for _, c in self._limited}) >= self.GLOBAL_AFTER:
            _LOGGER.info("429 for %d chats at once: holding back every send",
                         self.GLOBAL_AFTER)
            self.pause_all(seconds)
        if len(self._chat_paused_until) > 10_000:
            self._chat_paused_until = {c: t for c, t in self._chat_paused_until.items()
                                       if t > now}


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
            return await self._outbox_send(callback, args, kwargs, chat_id, group)
        return await self._reply(callback, args, kwargs, endpoint, chat_id, group)

    async def _outbox_send(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        chat_id: object,
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
            if chat_id is None:
                self.budget.pause_outbox(_seconds(exc))
            else:  # that chat alone waits; the outbox goes on for the others
                self.budget.rate_limited(_chat_key(chat_id), _seconds(exc))
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
                await self.budget.take_reply(_chat_key(chat_id))
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if limited >= self.max_retries:
                    raise
                limited += 1
                sleep = _seconds(exc) + 0.1
                _LOGGER.info("%s rate-limited by Telegram; retrying after %.1f s", endpoint, sleep)
                self.budget.rate_limited(_chat_key(chat_id), sleep)
                if chat_id is None:
                    await asyncio.sleep(sleep)  # no slot to wait in: wait here
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


def _chat_key(chat_id: object) -> object:
    """One key per chat whether Telegram's chat id came as a number or a string."""
    if isinstance(chat_id, str) and chat_id.lstrip("-").isdigit():
        return int(chat_id)
    return chat_id


def _seconds(exc: RetryAfter) -> float:
    retry_after = exc.retry_after
    return float(retry_after.total_seconds() if hasattr(retry_after, "total_seconds")
                 else retry_after)
