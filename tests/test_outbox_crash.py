"""SIGKILL in the middle of a notice: after a restart every recipient is served, nobody
gets a second copy of a message confirmed as sent, and only the in-flight deliveries
are marked uncertain (at most the sender's concurrency).

The bot runs as a real process (``lvdong run``) against the HTTP Bot API stand-in,
which counts the deliveries each chat received.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import sys
from pathlib import Path

from storage.audiences import Audience, AudienceKind
from storage.db import open_db
from storage.enterprises import approve, register
from storage.notices import create_notice
from tests.botapi_server import BotApiServer
from tests.dialog_driver import credit_code

ROOT = Path(__file__).resolve().parent.parent
RECIPIENTS = 400
CONCURRENCY = 8
TEXT = "请于本周内完成门禁系统建设情况填报。"


def _prepare(path: Path) -> list[int]:
    """400 approved enterprises, each with one user, and a notice queued for all of them."""
    now = dt.datetime.now(dt.UTC)
    db = open_db(path)
    users = []
    with db.conn:
        for n in range(RECIPIENTS):
            user = 800_000 + n
            registration = register(db, user_id=user, name=f"企业{n}", credit_code=credit_code(n),
                                    city="郑州市", county=None, industries=["铸造"],
                                    contact_name="联系人", phone="13800000000", now=now)
            approve(db, account_id=registration.account.id, approver_id=1,
                    admins=frozenset({1}), now=now)
            users.append(user)
    create_notice(db, by=1, audience=Audience(AudienceKind.ALL), regions=(), text=TEXT,
                  html=TEXT, recipients=users, send_at=now, now=now)
    db.conn.close()
    return users


async def _start(server: BotApiServer, path: Path) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": server.token,
        "TELEGRAM_API_BASE_URL": server.base_url,
        "LVDONG_DB": str(path),
        "LVDONG_SEND_RATE": "200",
        "LVDONG_MAX_RATE": "250",
        "LVDONG_OUTBOX_CONCURRENCY": str(CONCURRENCY),
        "PYTHONPATH": str(ROOT),
    }
    for key in ("LVDONG_CONFIG", "LVDONG_WEBHOOK_URL", "LVDONG_KB"):
        env.pop(key, None)
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )


async def test_a_killed_sender_resumes_without_duplicates_or_losses(tmp_path: Path) -> None:
    path = tmp_path / "lvdong.sqlite"
    users = _prepare(path)
    async with BotApiServer() as server:
        server.latency = 0.01  # some requests are always in flight when the kill comes
        first = await _start(server, path)
        try:
            await server.api.wait_for(
                lambda: len(server.deliveries(TEXT)) >= RECIPIENTS // 3, timeout=60)
            first.send_signal(signal.SIGKILL)
            await first.wait()
        finally:
            if first.returncode is None:
                first.kill()
        delivered_before = len(server.deliveries(TEXT))
        assert delivered_before < RECIPIENTS, "killed mid-notice"

        second = await _start(server, path)
        try:
            db = open_db(path)

            def finished() -> bool:
                return db.execute(
                    "SELECT count(*) FROM outbox WHERE status IN ('queued', 'sending')"
                ).fetchone()[0] == 0

            for _ in range(600):
                if finished():
                    break
                await asyncio.sleep(0.1)
            assert finished()
        finally:
            second.send_signal(signal.SIGTERM)
            await asyncio.wait_for(second.wait(), timeout=30)

    status = dict(db.execute("SELECT chat_id, status FROM outbox").fetchall())
    assert set(status) == set(users)
    delivered = server.deliveries(TEXT)
    uncertain = {chat for chat, s in status.items() if s == "uncertain"}
    print(f"delivered before the kill: {delivered_before}, uncertain: {len(uncertain)}")
    assert set(status.values()) <= {"sent", "uncertain"}
    assert len(uncertain) <= CONCURRENCY, "only what was in flight at the kill"
    assert all(count == 1 for count in delivered.values()), "nobody got a second copy"
    assert {c for c, s in status.items() if s == "sent"} <= set(delivered)
    assert set(users) - set(delivered) <= uncertain, "every other recipient got it"
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
