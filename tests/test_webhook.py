"""Webhook mode: refused without a secret; a forged POST without Telegram's secret header
is refused and changes nothing (the probe approved an enterprise this way)."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.cli import main
from bot.local_api import BOT_ID
from handlers.staff.approvals import APPROVE_PREFIX
from tests.bot_process import (
    START_TIMEOUT,
    bot_env,
    enterprise_users,
    free_port,
    running,
    wait_listening,
)
from tests.botapi_server import BotApiServer

ADMIN, APPLICANT = 900, 1001
SECRET = "s3cret-for-the-webhook_test-0123456789"
HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_env(port: int, secret: str | None) -> dict[str, str]:
    env = {
        "LVDONG_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram-hook",
        "LVDONG_WEBHOOK_LISTEN": "127.0.0.1",
        "LVDONG_WEBHOOK_PORT": str(port),
    }
    if secret is not None:
        env["LVDONG_WEBHOOK_SECRET"] = secret
    return env


def approve_click(update_id: int, account_id: int) -> dict[str, Any]:
    """What Telegram would post when the admin presses 批准 under an application."""
    admin = {"id": ADMIN, "is_bot": False, "first_name": "管理员"}
    message = {
        "message_id": 1, "date": 1622534400, "text": "新的企业登记申请",
        "chat": {"id": ADMIN, "type": "private", "first_name": "管理员"},
        "from": {"id": BOT_ID, "is_bot": True, "first_name": "绿动"},
    }
    return {"update_id": update_id, "callback_query": {
        "id": f"forged-{update_id}", "from": admin, "chat_instance": str(ADMIN),
        "message": message, "data": f"{APPROVE_PREFIX}:{account_id}",
    }}


def statuses(db_path: Path) -> list[str]:
    with sqlite3.connect(db_path) as conn:
        return [row[0] for row in conn.execute("SELECT status FROM accounts ORDER BY id")]


def test_webhook_mode_refuses_to_start_without_a_strong_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key in [k for k in os.environ if k.startswith(("LVDONG_", "TELEGRAM_"))]:
        monkeypatch.delenv(key)
    for key, value in bot_env(BotApiServer(), tmp_path / "lvdong.sqlite",
                              **webhook_env(free_port(), None)).items():
        monkeypatch.setenv(key, value)
    for secret, says in ((None, "必须设置 LVDONG_WEBHOOK_SECRET"), ("short", "太短"),
                         ("has spaces and 中文 but is long enough", "只能包含")):
        if secret is not None:
            monkeypatch.setenv("LVDONG_WEBHOOK_SECRET", secret)
        assert main(["run"]) == 2
        err = capsys.readouterr().err
        assert says in err and "secrets.token_urlsafe" in err
        assert "Traceback" not in err
    assert not (tmp_path / "lvdong.sqlite").exists(), "nothing was started"


async def test_forged_post_without_the_secret_header_is_refused_and_changes_nothing(
    tmp_path: Path,
) -> None:
    db_path = tmp_path / "lvdong.sqlite"
    enterprise_users(db_path, [APPLICANT], approved=False)
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram-hook"
    async with BotApiServer() as server, running(server, db_path, **webhook_env(port, SECRET)):
        api = server.api
        await api.wait_for(lambda: bool(api.sent(method="setWebhook")), START_TIMEOUT)
        [registered] = api.sent(method="setWebhook")
        assert registered.params["secret_token"] == SECRET, "Telegram is told the secret"
        await wait_listening(port)
        async with aiohttp.ClientSession() as http:
            for update_id, headers in ((1, {}), (2, {HEADER: "guessed-secret-0123456789"}),
                                       (3, {HEADER: SECRET.upper()})):
                async with http.post(url, json=approve_click(update_id, 1),
                                     headers=headers) as response:
                    assert response.status == 403, await response.text()
            assert statuses(db_path) == ["pending"]

            # the same click with Telegram's header is processed: the refusal was the secret
            async with http.post(url, data=json.dumps(approve_click(4, 1)),
                                 headers={HEADER: SECRET, "Content-Type": "application/json"}
                                 ) as response:
                assert response.status == 200
            await api.wait_for(lambda: bool(api.sent(APPLICANT)), 15)
        assert statuses(db_path) == ["approved"]
        assert "已审核通过" in api.sent(APPLICANT)[0].params["text"]
        # one admin's updates are handled in order: had a forged click got in, it would
        # have been answered (before the real one, which would then find it decided)
        answered = [c.params["callback_query_id"] for c in api.sent(method="answerCallbackQuery")]
        assert answered == ["forged-4"]
