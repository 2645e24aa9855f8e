"""One user's updates in order, different users concurrently."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from telegram import Chat, Message, Update, User

from bot.update_order import PerUserUpdateProcessor


def _update(update_id: int, user_id: int) -> Update:
    user = User(user_id, "u", is_bot=False)
    message = Message(update_id, None, Chat(user_id, "private"), from_user=user, text="x")  # type: ignore[arg-type]
    return Update(update_id, message=message)


async def test_same_user_sequential_other_users_concurrent() -> None:
    processor = PerUserUpdateProcessor(16)
    events: list[str] = []
    release = asyncio.Event()

    async def work(name: str, wait: bool) -> None:
        events.append(f"start {name}")
        if wait:
            await release.wait()
        events.append(f"end {name}")

    tasks = [
        asyncio.create_task(processor.process_update(_update(1, 7), work("a1", True))),
        asyncio.create_task(processor.process_update(_update(2, 7), work("a2", False))),
        asyncio.create_task(processor.process_update(_update(3, 8), work("b1", False))),
    ]
    await asyncio.wait_for(_until(lambda: "end b1" in events), 5)
    for _ in range(20):  # and a2 would have had many turns to start
        await asyncio.sleep(0)
    assert events == ["start a1", "start b1", "end b1"], "b overtook a; a2 waits for a1"
    release.set()
    await asyncio.gather(*tasks)
    assert events[3:] == ["end a1", "start a2", "end a2"]
    assert processor.waiting_keys == 0


async def test_listeners_hear_about_every_update_even_failures() -> None:
    processor = PerUserUpdateProcessor(4)
    heard: list[int] = []
    processor.listeners.append(lambda u: heard.append(u.update_id))  # type: ignore[attr-defined]

    async def fail() -> None:
        raise RuntimeError

    with contextlib.suppress(RuntimeError):
        await processor.process_update(_update(5, 1), fail())
    assert heard == [5]


async def _until(condition: Callable[[], bool]) -> None:
    while not condition():
        await asyncio.sleep(0)
