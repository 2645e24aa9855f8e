"""Logging for the bot: levels, text or JSON lines, and no secret or user text in any line.

* The token (and the webhook secret) never appear: httpx logs each request URL at
  INFO, and Bot API URLs contain the token (``https://api.telegram.org/bot<TOKEN>/getUpdates``).
  The httpx logger is set to WARNING, and a filter on the handler replaces the given
  secrets (and anything shaped like a bot token) in messages, arguments and tracebacks.
* User text stays out: lvdong's handlers log ids and field names only (see
  ``handlers.core.errors``), and python-telegram-bot's own loggers are kept at INFO or
  above even when ``LVDONG_LOG_LEVEL=DEBUG``, because at DEBUG they print whole updates.
* A Bot API error (a 502, a timeout, a rejected token) is an event, not a bug: it is
  logged as one line, without the library's traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
from typing import TextIO

from telegram.error import TelegramError

REDACTED = "<TOKEN>"
# no \b before the digits: in a Bot API URL the token follows "bot" (".../bot123:AA…")
_TOKEN_SHAPE = re.compile(r"(?<![0-9])\d{5,}:[A-Za-z0-9_-]{30,}")
NOISY_LOGGERS = ("httpx", "httpcore", "apscheduler")  # WARNING and above only
LIBRARY_LOGGERS = ("telegram",)  # INFO and above only: their DEBUG lines hold whole updates


class TokenRedactor(logging.Filter):
    """Replace the given secrets, and any bot-token-shaped text, in log records."""

    def __init__(self, secrets: tuple[str, ...] | list[str] = ()) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s and len(s) >= 4)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return _TOKEN_SHAPE.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = self.redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            error = record.exc_info[1]
            if isinstance(error, TelegramError):
                record.exc_text = f"{type(error).__name__}: {error}"
            else:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(
    *secrets: str,
    level: str | int = logging.INFO,
    fmt: str = "text",
    stream: TextIO | None = None,
) -> TokenRedactor:
    """Log to ``stream`` (stderr) at ``level`` as ``fmt`` ("text" or "json"), with the
    ``secrets`` redacted; the chatty libraries are kept quiet."""
    numeric = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    redactor = TokenRedactor(list(secrets))
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(redactor)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(numeric)
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(max(numeric, logging.INFO))
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(max(numeric, logging.WARNING))
    return redactor
