"""``lvdong run``: the bot on Telegram, by long polling or by webhook.

Exit codes, for a supervisor (systemd's ``RestartPreventExitStatus=2``):

* 0 — stopped by SIGINT/SIGTERM, cleanly;
* 1 — Telegram refused the bot for good while it ran or started: the token was
  rejected (401/404) or another instance polls with the same token (409). Such an
  error ends the process instead of leaving it alive with a dead polling loop.
  Also 1 when Telegram cannot be reached at start-up (a supervisor retries);
* 2 — not configured or cannot start (no token, webhook without a secret, a bad
  knowledge base or database: see ``bot.cli``), each with one paragraph saying why.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import sqlite3
import sys
from dataclasses import dataclass
from typing import Any, TextIO
from urllib.parse import urlparse

from telegram import Update
from telegram.error import Conflict, InvalidToken, NetworkError, TelegramError
from telegram.request import HTTPXRequest

from bot.app import build_application
from bot.doctor import webhook_secret_problem
from bot.log_redaction import REDACTED, configure_logging
from bot.settings import Settings
from handlers.core.context import App

_LOGGER = logging.getLogger(__name__)

NO_TOKEN = """\
lvdong: 没有设置 Telegram 机器人令牌 (TELEGRAM_BOT_TOKEN is not set).

获取令牌 / How to get a token:
  1. 在 Telegram 里打开 @BotFather，发送 /newbot，按提示起名字；
     Open @BotFather in Telegram, send /newbot and follow the prompts.
  2. 把它给您的令牌写进环境变量或配置文件：
     Put the token it gives you in the environment or the config file:
         export TELEGRAM_BOT_TOKEN=123456:ABC...
  3. 再运行 / then run:  lvdong run

不用令牌先试试 / To try the bot without a token, in this terminal:
    lvdong chat
"""
NO_WEBHOOK_EXTRA = (
    "lvdong: LVDONG_WEBHOOK_URL 已设置，但缺少 webhook 依赖 "
    '(pip install "python-telegram-bot[webhooks]"); 或删除该设置改用长轮询 (long polling).'
)
TOKEN_REJECTED = (
    "lvdong: Telegram 不接受这个令牌（{error}）：令牌写错了，或已在 @BotFather 撤销。"
    "请在 @BotFather 发送 /mybots 查看当前令牌，写入 TELEGRAM_BOT_TOKEN 后再启动。"
)
CONFLICT = (
    "lvdong: Telegram 报告冲突（409 {error}）：另一个进程正用同一个令牌收取消息。"
    "一个令牌只能由一个 lvdong 实例使用：请停掉另一个实例（也许在另一台机器上）后再启动。"
)
UNREACHABLE = (
    "lvdong: 启动时连不上 Telegram（{host}: {error}）。请检查网络、代理、防火墙和 "
    "TELEGRAM_API_BASE_URL；网络恢复后再启动（systemd 会自动重启）。"
)

FATAL = (InvalidToken, Conflict)  # answers no retry can change


class FatalApiError(TelegramError):
    """A fatal answer to ``getUpdates``, raised in place of the original error so that
    python-telegram-bot's polling loop keeps going until the runner stops it (an
    ``InvalidToken`` would end the loop silently and leave the process alive)."""


@dataclass
class FatalWatch:
    """Remembers the first fatal Bot API error and stops the running application."""

    application: App | None = None
    error: TelegramError | None = None

    def __call__(self, error: TelegramError) -> None:
        if self.error is not None:
            return  # already stopping: a second stop would cut the orderly shutdown short
        self.error = error
        _LOGGER.critical("Bot API refused the bot for good (%s); stopping", error)
        if self.application is not None:
            self.application.stop_running()

    def message(self) -> str:
        template = CONFLICT if isinstance(self.error, Conflict) else TOKEN_REJECTED
        return template.format(error=self.error)


class WatchedRequest(HTTPXRequest):
    """``HTTPXRequest`` that tells a :class:`FatalWatch` of a fatal answer.

    Any request answered 401 or 404 counts (a revoked or mistyped token: Telegram
    answers 404 to an unknown bot's URL, and shows a revoked token first wherever the
    bot happens to call); for ``getUpdates`` also 409 (another instance polls).
    ``getUpdates`` then raises :class:`FatalApiError`, so that the polling loop
    survives until the runner stops it.
    """

    def __init__(self, watch: FatalWatch, *, polling: bool, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.watch = watch
        self.fatal_codes = {401, 404, 409} if polling else {401, 404}
        self.polling = polling

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        code, payload = await super().do_request(*args, **kwargs)
        if code in self.fatal_codes:
            error = _fatal_error(code, payload)
            self.watch(error)
            if self.polling:
                raise FatalApiError(str(error))
        return code, payload


def _fatal_error(code: int, payload: bytes) -> TelegramError:
    try:
        description = str(json.loads(payload)["description"])
    except (ValueError, KeyError, TypeError):
        description = f"HTTP {code}"
    return Conflict(description) if code == 409 else InvalidToken(description)


SWITCH_INTERVAL = 0.001  # seconds; see run_bot


def run_bot(settings: Settings, *, err: TextIO | None = None) -> int:
    """Run until SIGINT/SIGTERM or a fatal Bot API error; see the module for exit codes.

    A bad knowledge base or database raises ``KBError``/``DatabaseUnusable`` for the
    command line to explain.
    """
    err = err or sys.stderr
    if not settings.has_token:
        print(NO_TOKEN, file=err)
        return 2
    if settings.webhook_url:
        if importlib.util.find_spec("tornado") is None:
            print(NO_WEBHOOK_EXTRA, file=err)
            return 2
        problem = webhook_secret_problem(settings)
        if problem is not None:
            print(f"lvdong: {problem.text}。{problem.fix}", file=err)
            return 2
    configure_logging(settings.token, settings.webhook_secret, level=settings.log_level,
                      fmt=settings.log_format, stream=err)
    # Exports and charts run in a worker thread; with Python's default 5 ms switch interval
    # the event loop waits up to that long at each hand-over of the GIL, which doubled the
    # p95 reply time during an export with no network delay (bench/bench_staff.py); 1 ms
    # brought it back under 1.3x at no measured cost to the export.
    sys.setswitchinterval(SWITCH_INTERVAL)

    from knowledge.engine import load_engine
    from storage.db import open_db, unusable

    engine = load_engine(settings.kb_path)
    db = open_db(settings.db_path)
    watch = FatalWatch()
    application = build_application(
        settings, engine=engine, db=db,
        request=WatchedRequest(watch, polling=False),
        get_updates_request=WatchedRequest(watch, polling=True, connection_pool_size=1),
    )
    watch.application = application
    try:
        _serve(application, settings)
    except FATAL as exc:  # at start-up (getMe), before the application runs
        watch(exc)
    except sqlite3.DatabaseError as exc:  # reading dialog state at start-up
        raise unusable(settings.db_path, exc) from exc
    except NetworkError as exc:  # getMe at start-up; later ones are retried
        host = urlparse(settings.api_base_url).netloc or settings.api_base_url
        print(UNREACHABLE.format(host=host, error=exc), file=err)
        return 1
    if watch.error is not None:
        print(watch.message().replace(settings.token, REDACTED), file=err)
        return 1
    return 0


def _serve(application: App, settings: Settings) -> None:
    if settings.webhook_url:
        _LOGGER.info("starting webhook on %s:%d", settings.webhook_listen, settings.webhook_port)
        application.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=urlparse(settings.webhook_url).path.lstrip("/"),
            webhook_url=settings.webhook_url,
            secret_token=settings.webhook_secret,
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        _LOGGER.info("starting long polling")
        # run_polling stops cleanly on SIGINT, SIGTERM and SIGABRT (its stop_signals).
        application.run_polling(allowed_updates=Update.ALL_TYPES)
