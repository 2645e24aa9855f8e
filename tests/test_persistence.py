"""SqlitePersistence: write-through, and state that survives a restart."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from telegram.ext import Application, PersistenceInput

from bot.persistence import SqlitePersistence
from storage.conversations import expire_conversations, load_conversations, save_conversation
from storage.db import open_db

T0 = dt.datetime(2021, 6, 1, 8, 0, tzinfo=dt.UTC)


class Clock:
    """A settable clock, injected instead of the system time."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def fresh(path: Path, **kwargs: object) -> SqlitePersistence:
    """A new persistence on a new connection: what the bot has after a restart."""
    return SqlitePersistence(open_db(path), clock=Clock(T0), **kwargs)  # type: ignore[arg-type]


def on_disk(path: Path, sql: str) -> list[tuple[object, ...]]:
    """Read with an independent connection: proves the data was committed."""
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


async def test_conversation_is_on_disk_right_after_update_without_flush(tmp_path: Path) -> None:
    path = tmp_path / "lvdong.db"
    persistence = fresh(path)
    await persistence.update_conversation("report", (42, 42), 3)
    assert on_disk(path, "SELECT name, key, state FROM conversations") == [
        ("report", "[42,42]", "3")
    ]


async def test_round_trip_across_a_new_instance(tmp_path: Path) -> None:
    path = tmp_path / "lvdong.db"
    first = fresh(path)
    await first.update_conversation("register", (7, 8), "ASK_CODE")
    await first.update_conversation("register", (9,), 2)
    await first.update_user_data(7, {"draft": {"task": 3, "status": "进行中"}, "n": 1})
    await first.update_chat_data(-100, {"lang": "zh"})
    await first.update_bot_data({"notices_sent": [1, 2]})
    await first.update_callback_data(([("uuid-1", 1622534400.0, {"btn": "yes"})], {"m": "uuid-1"}))
    del first  # no flush: simulate a kill

    second = fresh(path)
    assert await second.get_conversations("register") == {(7, 8): "ASK_CODE", (9,): 2}
    assert await second.get_conversations("other") == {}
    assert await second.get_user_data() == {7: {"draft": {"task": 3, "status": "进行中"}, "n": 1}}
    assert await second.get_chat_data() == {-100: {"lang": "zh"}}
    assert await second.get_bot_data() == {"notices_sent": [1, 2]}
    assert await second.get_callback_data() == (
        [("uuid-1", 1622534400.0, {"btn": "yes"})],
        {"m": "uuid-1"},
    )


async def test_empty_database_gives_empty_data(tmp_path: Path) -> None:
    persistence = fresh(tmp_path / "x.db")
    assert await persistence.get_user_data() == {}
    assert await persistence.get_chat_data() == {}
    assert await persistence.get_bot_data() == {}
    assert await persistence.get_callback_data() is None


async def test_ended_conversation_and_dropped_data_are_removed(tmp_path: Path) -> None:
    path = tmp_path / "lvdong.db"
    persistence = fresh(path)
    await persistence.update_conversation("report", (1, 1), 2)
    await persistence.update_conversation("report", (1, 1), None)
    await persistence.update_user_data(1, {"a": 1})
    await persistence.update_chat_data(1, {"a": 1})
    await persistence.drop_user_data(1)
    await persistence.drop_chat_data(1)
    again = fresh(path)
    assert await again.get_conversations("report") == {}
    assert await again.get_user_data() == {}
    assert await again.get_chat_data() == {}


async def test_unchanged_bot_data_is_not_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "lvdong.db"
    clock = Clock(T0)
    persistence = SqlitePersistence(open_db(path), clock=clock)
    await persistence.update_bot_data({"x": 1})
    clock.now = T0 + dt.timedelta(minutes=1)
    await persistence.update_bot_data({"x": 1})
    assert on_disk(path, "SELECT updated_at FROM singletons") == [
        ("2021-06-01T08:00:00.000000+00:00",)
    ]
    await persistence.update_bot_data({"x": 2})
    assert on_disk(path, "SELECT data FROM singletons") == [('{"x":2}',)]


async def test_abandoned_conversations_expire_on_load(tmp_path: Path) -> None:
    path = tmp_path / "lvdong.db"
    writer = SqlitePersistence(open_db(path), clock=Clock(T0))
    await writer.update_conversation("report", (1, 1), 2)
    writer.clock = Clock(T0 + dt.timedelta(minutes=50))
    await writer.update_conversation("report", (2, 2), 4)

    later = T0 + dt.timedelta(hours=1)
    reader = SqlitePersistence(
        open_db(path), clock=Clock(later), conversation_timeout=dt.timedelta(minutes=30)
    )
    assert await reader.get_conversations("report") == {(2, 2): 4}
    assert reader.expired == [("report", (1, 1))]
    assert load_conversations(open_db(path), "report") == {(2, 2): 4}


def test_expire_conversations_at_start_up(tmp_path: Path) -> None:
    db = open_db(tmp_path / "x.db")
    save_conversation(db, "a", (1,), 1, T0)
    save_conversation(db, "b", (2, "x"), "S", T0)
    save_conversation(db, "b", (3,), 1, T0 + dt.timedelta(hours=2))
    expired = expire_conversations(db, dt.timedelta(hours=1), T0 + dt.timedelta(hours=2))
    assert expired == [("a", (1,)), ("b", (2, "x"))]
    assert expire_conversations(db, dt.timedelta(hours=1), T0 + dt.timedelta(hours=2)) == []
    assert load_conversations(db, "b") == {(3,): 1}


async def test_flush_and_refresh_are_harmless(tmp_path: Path) -> None:
    persistence = fresh(tmp_path / "x.db")
    await persistence.flush()
    data = {"a": 1}
    await persistence.refresh_user_data(1, data)
    await persistence.refresh_chat_data(1, data)
    await persistence.refresh_bot_data(data)
    assert data == {"a": 1}


async def test_works_inside_a_ptb_application(tmp_path: Path) -> None:
    """PTB hands user_data to the persistence in update_persistence; it must land on disk."""
    path = tmp_path / "lvdong.db"
    persistence = SqlitePersistence(
        open_db(path), clock=Clock(T0), store_data=PersistenceInput(callback_data=False)
    )
    app = Application.builder().token("123:TEST").persistence(persistence).build()
    app.user_data[5]["step"] = "ask_phone"
    app.mark_data_for_update_persistence(user_ids=5)
    await app.update_persistence()
    assert await fresh(path).get_user_data() == {5: {"step": "ask_phone"}}


def test_data_must_be_json(tmp_path: Path) -> None:
    db = open_db(tmp_path / "x.db")
    with pytest.raises(TypeError):
        save_conversation(db, "a", (1,), object(), T0)


async def test_unchanged_or_empty_user_data_is_not_rewritten(tmp_path: Path) -> None:
    """PTB hands over every active user's data each interval; only changes cost a commit."""
    path = tmp_path / "lvdong.db"
    clock = Clock(T0)
    persistence = SqlitePersistence(open_db(path), clock=clock)
    await persistence.update_user_data(1, {})
    await persistence.update_chat_data(1, {})
    assert on_disk(path, "SELECT count(*) FROM user_data") == [(0,)]
    await persistence.update_user_data(1, {"register": {"name": "甲"}})
    clock.now = T0 + dt.timedelta(minutes=1)
    await persistence.update_user_data(1, {"register": {"name": "甲"}})
    assert on_disk(path, "SELECT updated_at FROM user_data") == [
        ("2021-06-01T08:00:00.000000+00:00",)
    ]
    await persistence.update_user_data(1, {})  # the draft was dropped: that is a change
    assert on_disk(path, "SELECT data FROM user_data") == [("{}",)]
    restarted = fresh(path)
    assert await restarted.get_user_data() == {1: {}}
    await restarted.update_user_data(1, {})
    assert on_disk(path, "SELECT updated_at FROM user_data") == [
        ("2021-06-01T08:01:00.000000+00:00",)
    ]


async def test_writes_made_together_commit_in_one_transaction(tmp_path: Path) -> None:
    """A dialog's state and its draft reach the disk together (issue 14: a state saved
    without its draft made every later message fail): inside ``write_together``
    nothing is written until the end, then both at once."""
    path = tmp_path / "lvdong.sqlite"
    persistence = fresh(path)
    seen: list[object] = []

    async def step() -> None:
        await persistence.update_user_data(7, {"review": {"report": 1, "_step": "COMMENT"}})
        seen.append(on_disk(path, "SELECT count(*) FROM user_data"))  # killed here?
        await persistence.update_conversation("review", (7, 7), "COMMENT")

    await persistence.write_together(step())
    assert seen == [[(0,)]], "the draft alone was not committed"
    assert on_disk(path, "SELECT count(*) FROM user_data") == [(1,)]
    assert on_disk(path, "SELECT state FROM conversations") == [('"COMMENT"',)]
