"""One user cannot slow the bot for all (issue 14, items 3 and 4): a per-user backlog
limit taken before a global slot, dialog steps included; a fair share of the send
budget per chat; a 429 scoped to the chat it names."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from telegram import CallbackQuery, Chat, Message, Update, User

from bot.sending import SendBudget
from bot.update_order import PerUserUpdateProcessor
from handlers.core.flood import SLOW_DOWN
from knowledge.engine import Engine
from storage import outbox as box
from tests.bot_harness import CONFIDENT_QUESTION, WAIT, running_bot
from tests.dialog_driver import Chat as DialogChat
from tests.dialog_driver import credit_code

FLOODER, OTHER = 7101, 7102


async def _until(predicate: Callable[[], bool]) -> None:
    """Wait (with a deadline) for what the stand-in saw."""
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.01)
    await asyncio.wait_for(poll(), WAIT)


def _update(update_id: int, user_id: int, *, button: bool = False) -> Update:
    user = User(user_id, "u", is_bot=False)
    message = Message(update_id, None, Chat(user_id, "private"), from_user=user, text="x")  # type: ignore[arg-type]
    if button:
        return Update(update_id, callback_query=CallbackQuery(str(update_id), user, "private",
                                                              message=message, data="x:1"))
    return Update(update_id, message=message)


async def test_one_users_backlog_is_bounded_and_never_holds_the_global_slots() -> None:
    processor = PerUserUpdateProcessor(4, backlog=3)
    overflowed: list[tuple[int, bool]] = []
    processor.on_overflow = lambda update, first: overflowed.append(
        (update.update_id, first))  # type: ignore[attr-defined]
    heard: list[int] = []
    processor.listeners.append(lambda u: heard.append(u.update_id))  # type: ignore[attr-defined]
    release = asyncio.Event()
    ran: list[int] = []

    async def flood(n: int) -> None:
        ran.append(n)
        await release.wait()

    tasks = [asyncio.create_task(processor.process_update(_update(n, FLOODER), flood(n)))
             for n in range(1, 41)]
    other_done = asyncio.Event()

    async def other() -> None:
        other_done.set()

    # the flooder's first update runs and blocks; another user is still served at once
    await asyncio.wait_for(processor.process_update(_update(100, OTHER), other()), WAIT)
    assert other_done.is_set()
    assert ran == [1]
    assert overflowed[0] == (4, True) and all(not first for _, first in overflowed[1:])
    assert [n for n, _ in overflowed] == list(range(4, 41)), "dropped, never queued"
    release.set()
    await asyncio.gather(*tasks)
    assert ran == [1, 2, 3], "only the backlog ran, in order"
    assert sorted(heard) == [*range(1, 41), 100], "listeners hear of dropped ones too"
    assert processor.waiting_keys == 0

    # once the backlog drained, a new burst is warned once more
    overflowed.clear()
    release.clear()
    tasks = [asyncio.create_task(processor.process_update(_update(n, FLOODER), flood(n)))
             for n in range(200, 205)]
    await asyncio.wait_for(processor.process_update(_update(300, OTHER), other()), WAIT)
    release.set()
    await asyncio.gather(*tasks)
    assert overflowed == [(203, True), (204, False)]


async def test_one_chat_takes_no_more_than_its_share_of_the_send_budget() -> None:
    now = [100.0]
    budget = SendBudget(max_rate=30, send_rate=25, clock=lambda: now[0])
    share = budget.per_chat
    assert 1 <= share < 30
    for _ in range(share):
        await budget.take_reply(FLOODER)
    held = asyncio.create_task(budget.take_reply(FLOODER))
    for chat in range(20):  # twenty other chats are served in the same second
        await asyncio.wait_for(budget.take_reply(OTHER + chat), WAIT)
    assert not held.done(), "the flooder waits for the next window"
    now[0] += 1.0
    await asyncio.wait_for(held, WAIT)


async def test_a_429_for_one_chat_holds_back_that_chat_alone() -> None:
    now = [100.0]
    budget = SendBudget(max_rate=30, send_rate=25, clock=lambda: now[0])
    budget.rate_limited(FLOODER, 10)
    held = asyncio.create_task(budget.take_reply(FLOODER))
    await asyncio.wait_for(budget.take_reply(OTHER), WAIT)
    await asyncio.wait_for(budget.take_outbox(), WAIT)
    assert budget.held(FLOODER) == 10 and budget.held(OTHER) == 0
    assert not held.done()
    now[0] += 10
    await asyncio.wait_for(held, WAIT)

    budget.rate_limited(None, 5)  # no chat named: Telegram's limit for the whole bot
    assert budget.held(OTHER) == 5
    now[0] += 5
    for chat in (1, 2, 3):  # several chats limited at once: treated as global
        budget.rate_limited(chat, 7)
    assert budget.held(OTHER) == 7


async def test_another_chats_question_is_answered_while_one_chat_is_throttled(
    tmp_path: Path, engine: Engine
) -> None:
    async with running_bot(tmp_path, engine=engine) as bot:
        fault = bot.server.inject("sendMessage", "429", chat_id=FLOODER, retry_after=30)
        throttled = bot.api.send_text(FLOODER, CONFIDENT_QUESTION)
        await _until(lambda: fault.hits == 1)  # the stand-in answered 429, the bot waits
        [reply] = await bot.exchange(OTHER, CONFIDENT_QUESTION)
        assert "依据" in str(reply.params["text"])
        assert not bot.api.sent(FLOODER), "the throttled chat still waits its retry_after"
        budget_clock = bot.budget_clock()

        # the outbox goes on for other chats while one is throttled
        outbox_fault = bot.server.inject("sendMessage", "429", chat_id=7201, retry_after=30)
        box.enqueue(bot.db, box.Message(key="n:1", kind="notice", text="通知 n1"),
                    [7201, 7202, 7203], now=bot.clock())
        bot.app.bot_data.outbox.wake()
        await _until(lambda: bot.server.deliveries("通知 n1").keys() == {7202, 7203})
        assert outbox_fault.hits == 1

        budget_clock.ahead += 30  # the retry_after is over: the throttled chat is answered
        await bot.wait_processed(throttled)
        assert "依据" in str(bot.api.sent(FLOODER)[-1].params["text"])


async def test_a_flood_of_dialog_steps_is_answered_once_with_slow_down(
    tmp_path: Path, engine: Engine
) -> None:
    async with running_bot(tmp_path, engine=engine, user_backlog=8) as bot:
        flooder = DialogChat(bot, FLOODER)
        await flooder.say("/register")
        before = len(bot.api.sent(FLOODER))
        ids = [bot.api.send_text(FLOODER, f"公司{n}") for n in range(100)]  # one getUpdates batch
        [reply] = await bot.exchange(OTHER, CONFIDENT_QUESTION)
        assert "依据" in str(reply.params["text"])
        await bot.wait_processed(*ids)
        replies = [str(c.params["text"]) for c in bot.api.sent(FLOODER)[before:]]
        assert replies.count(SLOW_DOWN) == 1
        assert len(replies) <= 8 + 1, "the rest of the burst was dropped, not answered"
        # the dialog is intact and goes on once the burst is over
        assert "第3步" in await flooder.say(credit_code(FLOODER))
