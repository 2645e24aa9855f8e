"""The outbox sender over HTTP: every recipient once; 429, 403, 5xx, timeouts, blocks;
replies before the outbox."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
from pathlib import Path

import pytest

from bot.sending import SendBudget
from handlers.core.telegram_html import to_plain
from storage import outbox as box
from storage.outbox import DeliveryStatus, Message
from storage.users import get_user, touch_user
from tests.bot_harness import CONFIDENT_QUESTION, RunningBot, running_bot

CHATS = A, B, C, D, E, F = 7001, 7002, 7003, 7004, 7005, 7006


def _queue(bot: RunningBot, key: str, chats: list[int]) -> int:
    message_id, _ = box.enqueue(bot.db, Message(key=key, kind="notice", text=f"通知 {key}"),
                                chats, now=bot.clock())
    bot.app.bot_data.outbox.wake()
    return message_id


def _status(bot: RunningBot, message_id: int) -> dict[int, str]:
    return {row["chat_id"]: row["status"] for row in bot.rows(
        "SELECT chat_id, status FROM outbox WHERE message_id = ?", (message_id,))}


async def test_each_fault_is_handled_and_nobody_gets_a_second_copy(tmp_path: Path) -> None:
    async with running_bot(tmp_path, read_timeout=0.5) as bot:
        for chat in CHATS:
            touch_user(bot.db, chat, f"用户{chat}", bot.clock())
        server = bot.server
        budget_clock = bot.budget_clock()
        # A's 429 holds back chat A alone, far longer than any test runs
        server.inject("sendMessage", "429", chat_id=A, retry_after=600)
        server.inject("sendMessage", "403", chat_id=B)
        server.inject("sendMessage", "502", chat_id=C, times=2)
        server.inject("sendMessage", "timeout", chat_id=D, delay=1.5)  # dropped on the way
        server.inject("sendMessage", "slow", chat_id=E, delay=1.5)  # delivered, answer lost
        message_id = _queue(bot, "notice:faults", list(CHATS))
        await bot.outbox_drained()
        status = _status(bot, message_id)
        assert status[F] == "sent"
        assert status[B] == "blocked" and get_user(bot.db, B).reachable is False  # type: ignore[union-attr]
        assert status[D] == status[E] == "uncertain", "handed over, no answer: not re-sent"
        assert status[A] == "queued" and status[C] == "queued", "waiting to retry"
        # a question asked while chat A waits out its 429 (600 s) is answered: a reply
        # to another chat is not held back (exchange's deadline is 8 s)
        [reply] = await bot.exchange(F, CONFIDENT_QUESTION)
        assert "依据" in to_plain(reply.params["text"])
        assert server.deliveries("通知 notice:faults").get(A) is None, "A still waits"
        budget_clock.ahead += 600  # A's 429 is over on the send budget's clock too
        for _ in range(4):  # the fake clock passes the retry_after and the back-offs
            bot.clock.advance(600)
            await bot.outbox_drained()
        status = _status(bot, message_id)
        assert status[A] == "sent" and status[C] == "sent"
        delivered = server.deliveries("通知 notice:faults")
        assert delivered == {A: 1, C: 1, E: 1, F: 1}, "once each; D never arrived, B blocked"


async def test_blocks_and_unblocks_are_tracked_as_they_happen(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        await bot.exchange(A, "你好")
        await bot.wait_processed(bot.api.set_blocked(A, True))
        assert get_user(bot.db, A).reachable is False  # type: ignore[union-attr]
        message_id = _queue(bot, "notice:while-blocked", [A, B])
        await bot.outbox_drained()
        assert _status(bot, message_id) == {A: "blocked", B: "sent"}
        assert A not in bot.server.deliveries("while-blocked"), "no call to a blocked user"
        await bot.wait_processed(bot.api.set_blocked(A, False))
        assert get_user(bot.db, A).reachable is True  # type: ignore[union-attr]
        message_id = _queue(bot, "notice:after-unblock", [A])
        await bot.outbox_drained()
        assert _status(bot, message_id) == {A: "sent"}


async def test_a_scheduled_message_waits_for_its_time(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        box.enqueue(bot.db, Message(key="later", kind="notice", text="稍后"), [A], now=bot.clock(),
                    not_before=bot.clock() + dt.timedelta(hours=1))
        # a message due now, queued after it: once it is delivered, the sender has been
        # through the queue and passed the scheduled one by
        _queue(bot, "now", [B])
        await bot.outbox_drained()
        assert [c.params["text"] for c in bot.api.sent(B)] == ["通知 now"]
        assert not bot.api.sent(A)
        bot.clock.advance(3600)
        await bot.outbox_drained()
        assert [c.params["text"] for c in bot.api.sent(A)] == ["稍后"]


async def test_the_outbox_keeps_its_rate_and_waits_while_replies_wait(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # on a virtual clock that moves only when the budget sleeps: the spacing is exact
    now = [0.0]
    real_sleep = asyncio.sleep

    async def virtual_sleep(seconds: float) -> None:
        now[0] += max(seconds, 0.0)
        await real_sleep(0)

    budget = SendBudget(max_rate=100, send_rate=20, clock=lambda: now[0])
    granted = []
    with monkeypatch.context() as patch:
        patch.setattr(asyncio, "sleep", virtual_sleep)
        for _ in range(11):
            await budget.take_outbox()
            granted.append(now[0])
    gaps = [later - earlier for earlier, later in itertools.pairwise(granted)]
    assert min(gaps) >= 1 / 20 - 1e-9, f"sends at most 20/s, evenly spaced: {gaps}"
    assert granted[-1] - granted[0] == pytest.approx(0.5), "11 sends take ten intervals"

    # while a reply waits for room in the shared window, the outbox waits behind it
    tight = SendBudget(max_rate=2, send_rate=2)
    await tight.take_reply()
    await tight.take_reply()  # the window (2 per second) is now full
    order: list[str] = []

    async def reply() -> None:
        await tight.take_reply()
        order.append("reply")

    async def outbox() -> None:
        await tight.take_outbox()
        order.append("outbox")

    out = asyncio.create_task(outbox())
    await asyncio.sleep(0)  # the outbox task starts and waits for room first
    rep = asyncio.create_task(reply())
    await asyncio.gather(out, rep)
    assert order == ["reply", "outbox"], "a reply goes first even if the outbox waited longer"
    assert DeliveryStatus.SENT in box.FINAL
