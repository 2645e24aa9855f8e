"""Send at a pace Telegram accepts, and ride out the network's bad moments.

``AIORateLimiter`` keeps the bot under Telegram's flood limits (30 messages a
second overall, 20 a minute per group) and, with ``max_retries``, waits out a
429 ``retry_after``. On top of it this limiter retries a request that failed on
the way (HTTP 5xx, a timeout, a dropped connection) a few times with a short
back-off, so a hiccup does not cost a user their answer.

The trade-off: Telegram has no idempotency key, so a request that timed out
*after* Telegram acted on it would be sent twice. For a Q&A bot a rare duplicate
answer is better than a lost one. Requests Telegram rejected (400/403/409...)
are never retried.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import BadRequest, ChatMigrated, Conflict, Forbidden, InvalidToken, NetworkError
from telegram.ext import AIORateLimiter

_LOGGER = logging.getLogger(__name__)

# Rejections: retrying would get the same answer.
_FINAL = (BadRequest, Forbidden, InvalidToken, Conflict, ChatMigrated)

JSONResult = bool | dict[str, Any] | list[dict[str, Any]]


class ResilientRateLimiter(AIORateLimiter):
    """``AIORateLimiter`` plus retries of transient network failures.

    ``paced=False`` turns the pacing off (the 429 and network retries stay): for
    the benchmark, to compare like with like against a bot without a limiter.
    """

    def __init__(
        self,
        *,
        paced: bool = True,
        max_retries: int = 3,
        network_retries: int = 3,
        backoff: float = 0.25,
    ) -> None:
        if paced:
            super().__init__(max_retries=max_retries)
        else:
            super().__init__(
                overall_max_rate=0, group_max_rate=0, max_retries=max_retries
            )
        self.network_retries = network_retries
        self.backoff = backoff

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSONResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSONResult:
        attempt = 0
        while True:
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except _FINAL:
                raise
            except NetworkError as exc:  # includes TimedOut and HTTP 5xx
                if attempt >= self.network_retries:
                    raise
                delay = self.backoff * (2**attempt)
                attempt += 1
                _LOGGER.warning(
                    "%s failed (%s); retry %d/%d in %.2fs",
                    endpoint, exc.message, attempt, self.network_retries, delay,
                )
                await asyncio.sleep(delay)
