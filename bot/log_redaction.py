"""Logging for the bot, with the token kept out of every line.

httpx logs each request URL at INFO, and Bot API URLs contain the token
(``https://api.telegram.org/bot<TOKEN>/getUpdates``). The httpx logger is set
to WARNING, and a filter on every root handler replaces the token (and anything
shaped like a bot token) in messages, arguments and tracebacks.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from typing import TextIO

REDACTED = "<TOKEN>"
_TOKEN_SHAPE = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}")
NOISY_LOGGERS = ("httpx", "httpcore", "apscheduler")


class TokenRedactor(logging.Filter):
    """Replace the given secrets, and any bot-token-shaped text, in log records."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
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
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def configure_logging(
    token: str, *, level: int = logging.INFO, stream: TextIO | None = None
) -> TokenRedactor:
    """Log to ``stream`` (stderr) with the token redacted; quiet the chatty libraries."""
    redactor = TokenRedactor([token])
    root = logging.getLogger()
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    root.handlers = [handler]
    root.setLevel(level)
    for existing in root.handlers:
        existing.addFilter(redactor)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    return redactor
