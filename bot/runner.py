"""``lvdong run``: the bot on Telegram, by long polling or by webhook."""

from __future__ import annotations

import importlib.util
import logging
import sys
from typing import TextIO
from urllib.parse import urlparse

from telegram import Update
from telegram.error import InvalidToken

from bot.app import build_application
from bot.log_redaction import configure_logging
from bot.settings import Settings

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


def run_bot(settings: Settings, *, err: TextIO | None = None) -> int:
    """Run until SIGINT/SIGTERM; 0 on a clean stop, 2 when not configured, 1 on a bad token."""
    err = err or sys.stderr
    if not settings.has_token:
        print(NO_TOKEN, file=err)
        return 2
    if settings.webhook_url and importlib.util.find_spec("tornado") is None:
        print(NO_WEBHOOK_EXTRA, file=err)
        return 2
    configure_logging(settings.token, stream=err)

    from knowledge.engine import load_engine
    from storage.db import open_db

    engine = load_engine(settings.kb_path)
    db = open_db(settings.db_path)
    application = build_application(settings, engine=engine, db=db)
    try:
        if settings.webhook_url:
            _LOGGER.info(
                "starting webhook on %s:%d", settings.webhook_listen, settings.webhook_port
            )
            application.run_webhook(
                listen=settings.webhook_listen,
                port=settings.webhook_port,
                url_path=urlparse(settings.webhook_url).path.lstrip("/"),
                webhook_url=settings.webhook_url,
                secret_token=settings.webhook_secret or None,
                allowed_updates=Update.ALL_TYPES,
            )
        else:
            _LOGGER.info("starting long polling")
            # run_polling stops cleanly on SIGINT, SIGTERM and SIGABRT (its stop_signals).
            application.run_polling(allowed_updates=Update.ALL_TYPES)
    except InvalidToken:
        print("lvdong: Telegram 不接受这个令牌 (the token was rejected); 请向 @BotFather 核对。",
              file=err)
        return 1
    return 0
