"""Run an application inside an existing event loop, the way ``run_polling`` does.

``run_polling`` owns the loop and the signals, which is right for ``lvdong run``.
The terminal chat, the tests and the benchmark already have a loop, so they use
:func:`polling`, which keeps ``run_polling``'s order: initialize, post_init,
start polling, start, ... stop polling, stop, post_stop, shutdown, post_shutdown.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from telegram.ext import Application


@contextlib.asynccontextmanager
async def polling(
    application: Application[Any, Any, Any, Any, Any, Any],
    *,
    poll_timeout: float = 1.0,
    poll_interval: float = 0.0,
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    await application.initialize()
    try:
        if application.post_init:
            await application.post_init(application)
        assert application.updater is not None
        await application.updater.start_polling(
            poll_interval=poll_interval, timeout=int(poll_timeout) or 1
        )
        await application.start()
        try:
            yield application
        finally:
            if application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()
            if application.post_stop:
                await application.post_stop(application)
    finally:
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)
