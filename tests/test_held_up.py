"""What held up in the reliability probe, kept as tests: forged decision and history
buttons refused, simultaneous decisions decided exactly once, no busy loops while
Telegram fails."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path

from sqlite_utils import Database

from storage.db import open_db
from storage.enterprises import AlreadyDecided, approve, register
from storage.outbox import Message
from storage.users import Role, grant_role
from tests.bot_harness import CONFIDENT_QUESTION, FakeClock, running_bot
from tests.dialog_driver import Chat, credit_code, register_approved, report

ADMIN = 900
APPLICANTS = range(4001, 4016)  # 15 applications
DECIDERS = (ADMIN, 30, 31, 32)  # the admin and three province-wide staff


async def test_fifteen_applications_clicked_by_four_at_once_are_decided_once_each(
    tmp_path: Path,
) -> None:
    db = open_db(tmp_path / "lvdong.sqlite")
    accounts = []
    for user in APPLICANTS:
        accounts.append(register(
            db, user_id=user, name=f"企业{user}", credit_code=credit_code(user), city="郑州市",
            county=None, industries=["化工"], contact_name="甲", phone="13800000000",
            now=FakeClock().now).account.id)
    for staff in DECIDERS[1:]:
        grant_role(db, staff, Role.STAFF, (), FakeClock().now)
    db.conn.close()
    # each decider clicks 15 buttons within milliseconds: room for all of them in the
    # per-user backlog (by default a burst beyond 8 is dropped with one 慢一点)
    async with running_bot(tmp_path, user_backlog=len(APPLICANTS)) as bot:
        await bot.exchange(ADMIN, "/help")  # a message of the bot's to hang the clicks on
        for decider in DECIDERS[1:]:
            await bot.exchange(decider, "/help")
        clicks = [bot.api.click(decider, decider, bot.last_message_id(decider),
                                f"{'apy' if (account + decider) % 2 else 'apn'}:{account}")
                  for account in accounts for decider in DECIDERS]
        await bot.wait_processed(*clicks, timeout=30)
        await bot.outbox_drained()
        decided = bot.rows("SELECT subject, count(*) AS n FROM audit_log "
                           "WHERE action IN ('approve', 'reject') GROUP BY subject")
        assert len(decided) == 15 and all(row["n"] == 1 for row in decided)
        assert bot.rows("SELECT count(*) AS n FROM accounts WHERE status = 'pending'") == [
            {"n": 0}]
        told = [call.params["chat_id"] for call in bot.api.sent()
                if "审核" in str(call.params.get("text")) and call.params["chat_id"] in APPLICANTS]
        assert sorted(told) == sorted(APPLICANTS), "each applicant is told once"


def test_storage_decides_once_under_threads(tmp_path: Path) -> None:
    path = tmp_path / "lvdong.sqlite"
    db = open_db(path)
    account = register(db, user_id=5001, name="甲企业", credit_code=credit_code(5001),
                       city="郑州市", county=None, industries=["化工"], contact_name="甲",
                       phone="13800000000", now=FakeClock().now).account.id
    db.conn.close()
    outcomes: list[str] = []
    start = threading.Barrier(15)

    def decide(n: int) -> None:
        own = Database(open_db(path).conn)
        start.wait()
        try:
            approve(own, account_id=account, approver_id=ADMIN, admins=frozenset({ADMIN}),
                    now=FakeClock().now)
            outcomes.append("decided")
        except AlreadyDecided:
            outcomes.append("already")
        finally:
            own.conn.close()

    threads = [threading.Thread(target=decide, args=(n,)) for n in range(15)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["already"] * 14 + ["decided"]


async def test_forged_history_buttons_show_nothing_of_another_enterprise(
    tmp_path: Path,
) -> None:
    async with running_bot(tmp_path, flood_burst=1000) as bot:
        owner, stranger, other = Chat(bot, 6001), Chat(bot, 6002), Chat(bot, 6003)
        await register_approved(owner, code=credit_code(61))
        await report(owner, task=1, description="甲企业的秘密进展")
        await register_approved(other, code=credit_code(63))
        for who in (stranger, other):
            await bot.exchange(who.user_id, "/help")
            calls = await bot.click(who.user_id, who.user_id, bot.last_message_id(who.user_id),
                                    "mr:1")
            shown = " ".join(str(c.params.get("text", "")) for c in calls)
            assert "甲企业的秘密进展" not in shown, who.user_id


async def test_no_busy_loop_while_telegram_fails(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        await bot.exchange(7001, CONFIDENT_QUESTION)
        server = bot.server
        server.inject("getUpdates", "502", times=10_000)
        server.inject("sendMessage", "502", times=10_000)
        before = len(server.requests)
        bot.app.bot_data.outbox.queue(Message(key="probe", kind="notice", text="通知"), [7001])

        def polls() -> int:
            return server.requests[before:].count("getUpdates")

        await _until(lambda: polls() >= 1)
        first = time.monotonic()
        await _until(lambda: polls() >= 2)
        # python-telegram-bot backs off polling (1 s, then 1.5 s ...): failed polls are a
        # second or more apart, never a busy loop (a lower bound: a slow machine only adds)
        assert time.monotonic() - first >= 0.9
        # the outbox waits for its retry time (the fake clock does not move)
        assert server.requests[before:].count("sendMessage") == 1, "one attempt, then it waits"
        server.faults.clear()
        bot.clock.advance(60)
        bot.app.bot_data.outbox.wake()
        await bot.outbox_drained(timeout=30)
        assert server.deliveries("通知") == {7001: 1}, "delivered once after the failures"
        assert server.requests[before:].count("sendMessage") == 2, "and tried only twice"


async def _until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Wait until ``condition()`` holds (checked every 10 ms); TimeoutError if not."""
    async def check() -> None:
        while not condition():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(check(), timeout)
