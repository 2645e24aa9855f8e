"""``lvdong run``: no token → guidance and exit 2; with a token it polls and stops on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from bot.cli import main
from tests.bot_harness import CONFIDENT_QUESTION, MINI_KB
from tests.botapi_server import BotApiServer

ROOT = Path(__file__).resolve().parent.parent


def test_run_without_token_explains_and_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    for key in ("TELEGRAM_BOT_TOKEN", "LVDONG_CONFIG", "LVDONG_WEBHOOK_URL"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("LVDONG_DB", str(tmp_path / "x.sqlite"))
    assert main(["run"]) == 2
    err = capsys.readouterr().err
    assert "@BotFather" in err and "/newbot" in err
    assert "TELEGRAM_BOT_TOKEN" in err
    assert "lvdong chat" in err
    assert not (tmp_path / "x.sqlite").exists(), "nothing is started without a token"


async def test_run_polls_answers_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    async with BotApiServer() as server:
        env = {
            **os.environ,
            "TELEGRAM_BOT_TOKEN": server.token,
            "TELEGRAM_API_BASE_URL": server.base_url,
            "LVDONG_DB": str(tmp_path / "lvdong.sqlite"),
            "LVDONG_KB": str(MINI_KB),
            "PYTHONPATH": str(ROOT),
        }
        env.pop("LVDONG_CONFIG", None)
        env.pop("LVDONG_WEBHOOK_URL", None)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", cwd=ROOT, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        try:
            api = server.api
            await api.wait_for(lambda: bool(api.sent(method="setMyCommands")), timeout=30)
            api.send_text(1001, CONFIDENT_QUESTION)
            await api.wait_for(lambda: bool(api.sent(1001)), timeout=15)
            proc.send_signal(signal.SIGTERM)
            rc = await asyncio.wait_for(proc.wait(), timeout=15)
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        assert proc.stderr is not None
        err = (await proc.stderr.read()).decode()
        assert rc == 0, err
        assert "database closed" in err, "post_shutdown ran"
        assert server.token not in err and server.token.split(":")[1] not in err
