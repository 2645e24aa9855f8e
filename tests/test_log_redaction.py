"""The token never reaches a log line: messages, arguments, tracebacks, httpx."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bot.log_redaction import LIBRARY_LOGGERS, NOISY_LOGGERS, REDACTED, configure_logging

TOKEN = "987654321:AAH-secret_token-value-0123456789abcdef"


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    stream = io.StringIO()
    configure_logging(TOKEN, stream=stream)
    yield stream
    root.handlers, _ = saved[0], root.setLevel(saved[1])
    for name in (*LIBRARY_LOGGERS, *NOISY_LOGGERS):
        logging.getLogger(name).setLevel(logging.NOTSET)


def test_token_is_redacted_in_message_args_and_traceback(log_stream: io.StringIO) -> None:
    log = logging.getLogger("telegram.ext.Updater")
    log.warning("POST https://api.telegram.org/bot%s/getUpdates failed", TOKEN)
    log.error(f"direct https://api.telegram.org/bot{TOKEN}/getMe")
    try:
        raise RuntimeError(f"connect to /bot{TOKEN}/sendMessage")
    except RuntimeError:
        log.exception("request failed")
    output = log_stream.getvalue()
    assert TOKEN not in output
    assert TOKEN.split(":")[1] not in output
    assert output.count(REDACTED) == 3
    assert "RuntimeError" in output


def test_other_token_shaped_text_is_redacted(log_stream: io.StringIO) -> None:
    logging.getLogger("x").warning("old token 111111:%s", "B" * 35)
    logging.getLogger("x").warning("GET https://api.telegram.org/bot222222:%s/getMe", "C" * 35)
    assert "B" * 35 not in log_stream.getvalue()
    assert "C" * 35 not in log_stream.getvalue(), "also right after 'bot' in a URL"


def test_httpx_request_lines_are_not_logged(log_stream: io.StringIO) -> None:
    assert logging.getLogger("httpx").getEffectiveLevel() == logging.WARNING
    url = f"https://api.telegram.org/bot{TOKEN}/getMe"
    logging.getLogger("httpx").info("HTTP Request: POST %s", url)
    logging.getLogger("bot.test").info("still logging at INFO")
    output = log_stream.getvalue()
    assert "HTTP Request" not in output
    assert "still logging at INFO" in output
