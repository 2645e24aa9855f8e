"""``lvdong run`` as a real process against the HTTP Bot API stand-in.

For what only a process shows: exit codes, SIGKILL, a webhook server. The test
plays the users through the stand-in (``server.api``) and waits for the bot's
replies by their text, with deadlines, never fixed sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import socket
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from bot.local_api import LocalBotApi
from storage.db import open_db
from storage.enterprises import approve, register
from tests.bot_harness import MINI_KB, TEST_PACE
from tests.botapi_server import BotApiServer
from tests.dialog_driver import credit_code, texts

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT = 30.0  # a cold start imports python-telegram-bot and loads the KB
REPLY_TIMEOUT = 15.0
T0 = dt.datetime(2021, 6, 1, 8, 0, tzinfo=dt.UTC)


def bot_env(server: BotApiServer, db_path: Path, **overrides: str) -> dict[str, str]:
    """The environment of ``lvdong run`` against ``server``, with ``db_path``."""
    env = {
        key: value for key, value in os.environ.items()
        if not key.startswith(("LVDONG_", "TELEGRAM_"))
    }
    env.update({
        "TELEGRAM_BOT_TOKEN": server.token,
        "TELEGRAM_API_BASE_URL": server.base_url,
        "LVDONG_DB": str(db_path),
        "LVDONG_KB": str(MINI_KB),
        "LVDONG_ADMINS": "900",
        "LVDONG_FLOOD_BURST": "1000",
        **{f"LVDONG_{key.upper()}": f"{value:g}" for key, value in TEST_PACE.items()},
        "PYTHONPATH": str(ROOT),
    })
    env.update(overrides)
    return env


async def start(env: dict[str, str], *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *(args or ("run",)), cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )


async def finish(proc: asyncio.subprocess.Process, timeout: float = 20.0) -> tuple[int, str]:
    """Wait for the process to exit; its exit code and stderr."""
    _, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, err.decode()


@contextlib.asynccontextmanager
async def running(
    server: BotApiServer, db_path: Path, **overrides: str
) -> AsyncIterator[asyncio.subprocess.Process]:
    """``lvdong run`` until the block ends (then SIGKILL if it is still alive)."""
    api = server.api
    api.reopen()
    menus_before = len(api.sent(method="setMyCommands"))
    proc = await start(bot_env(server, db_path, **overrides))
    try:
        await api.wait_for(
            lambda: len(api.sent(method="setMyCommands")) > menus_before, START_TIMEOUT
        )
        yield proc
    finally:
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


def kill(proc: asyncio.subprocess.Process) -> None:
    """SIGKILL: no shutdown, no flush, no checkpoint."""
    if proc.returncode is None:
        proc.kill()


async def eventually(predicate: Callable[[], bool], timeout: float = REPLY_TIMEOUT) -> None:
    """Until ``predicate()`` holds, checked every 20 ms: for what the stand-in does not
    see happen (a commit in the bot's database)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise TimeoutError("condition not reached in time")
        await asyncio.sleep(0.02)


async def wait_listening(port: int, timeout: float = START_TIMEOUT) -> None:
    """Until something accepts connections on 127.0.0.1:``port``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.05)
            continue
        writer.close()
        await writer.wait_closed()
        return


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def enterprise_users(
    db_path: Path, user_ids: range | list[int], *, approved: bool = True
) -> None:
    """Bind each user to an enterprise of their own, straight in the database; approved
    by default (a pending account cannot report)."""
    db = open_db(db_path)
    try:
        for user_id in user_ids:
            registration = register(
                db, user_id=user_id, name=f"测试企业{user_id}", credit_code=credit_code(user_id),
                city="郑州市", county=None, industries=["化工"], contact_name="张三",
                phone="13812345678", now=T0)
            if approved:
                approve(db, account_id=registration.account.id, approver_id=0,
                        admins=frozenset({0}), now=T0)
    finally:
        db.conn.close()


@dataclass
class ProcessChat:
    """One user talking to a bot process through the stand-in."""

    api: LocalBotApi
    user_id: int

    async def say(self, text: str, expect: str) -> str:
        """Send ``text``; wait until the bot shows this user ``expect``; what it showed."""
        before = len(self.api.calls)
        self.api.send_text(self.user_id, text)
        return await self.wait(before, expect)

    async def press(self, data: str, expect: str) -> str:
        """Press a button with callback ``data`` on the newest bot message."""
        before = len(self.api.calls)
        self.api.click(self.user_id, self.user_id, self.newest_message(), data)
        return await self.wait(before, expect)

    def newest_message(self) -> int:
        return max(
            mid for (cid, mid), msg in self.api.messages.items()
            if cid == self.user_id and msg.get("from", {}).get("id") == self.api.bot_id
        )

    def shown(self, since: int = 0) -> list[str]:
        return texts(self.api.calls[since:], self.user_id)

    async def wait(self, since: int, expect: str, timeout: float = REPLY_TIMEOUT) -> str:
        await self.api.wait_for(
            lambda: any(expect in text for text in self.shown(since)), timeout
        )
        return "\n".join(self.shown(since))
