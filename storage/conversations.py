"""Persisted dialog state, so a restart does not drop users mid-dialog.

Mirrors what python-telegram-bot persists: per-handler conversation states keyed
by a tuple (stored as JSON text), and user_data / chat_data / bot_data /
callback_data as JSON. Every function commits before returning (write-through).

Limitation: values must be JSON-serialisable (dicts, lists, str, int, float, bool,
None). Tuples come back as lists and non-string dict keys as strings, except the
top-level user/chat ids, which are columns. Dialog code should keep its
``context.user_data`` to such simple values.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Hashable, Sequence
from typing import Any

from sqlite_utils import Database

from storage.clock import to_db
from storage.db import transaction

ConversationKey = tuple[int | str, ...]


def to_json(value: object) -> str:
    """Canonical JSON (sorted keys) so equal data gives equal text."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _key_text(key: Sequence[Hashable]) -> str:
    return to_json(list(key))


def _key(text: str) -> ConversationKey:
    return tuple(json.loads(text))


def save_conversation(
    db: Database, name: str, key: Sequence[int | str], state: object | None, now: dt.datetime
) -> None:
    """Store the state of one conversation; ``None`` (conversation ended) deletes it."""
    if state is None:
        db.execute(
            "DELETE FROM conversations WHERE name = ? AND key = ?", (name, _key_text(key))
        )
        return
    db.execute(
        """INSERT INTO conversations (name, key, state, updated_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (name, key) DO UPDATE SET
               state = excluded.state, updated_at = excluded.updated_at""",
        (name, _key_text(key), to_json(state), to_db(now)),
    )


def load_conversations(db: Database, name: str) -> dict[ConversationKey, object]:
    """All stored states of handler ``name``."""
    return {
        _key(row["key"]): json.loads(row["state"])
        for row in db.query("SELECT key, state FROM conversations WHERE name = ?", (name,))
    }


def expire_conversations(
    db: Database, older_than: dt.timedelta, now: dt.datetime, *, name: str | None = None
) -> list[tuple[str, ConversationKey]]:
    """Delete conversations untouched for longer than ``older_than``; return them.

    PTB's ``conversation_timeout`` runs on in-memory jobs that do not survive a
    restart; calling this at start-up (and when loading a handler's states) ends
    abandoned dialogs anyway, and the returned keys let the bot tell those users.
    """
    cutoff = to_db(now - older_than)
    where = "updated_at < ?" + ("" if name is None else " AND name = ?")
    params: tuple[str, ...] = (cutoff,) if name is None else (cutoff, name)
    with transaction(db):
        rows = list(db.query(
            f"SELECT name, key FROM conversations WHERE {where} ORDER BY name, key", params
        ))
        db.execute(f"DELETE FROM conversations WHERE {where}", params)
    return [(row["name"], _key(row["key"])) for row in rows]


# --- user / chat data ----------------------------------------------------------------

_ID_TABLES = {"user_data": "user_id", "chat_data": "chat_id"}


def _id_column(table: str) -> str:
    if table not in _ID_TABLES:
        raise ValueError(f"not a data table: {table}")
    return _ID_TABLES[table]


def save_data(db: Database, table: str, owner_id: int, data: object, now: dt.datetime) -> None:
    """Store one user's or chat's data (``table`` is "user_data" or "chat_data")."""
    column = _id_column(table)
    db.execute(
        f"""INSERT INTO {table} ({column}, data, updated_at) VALUES (?, ?, ?)
            ON CONFLICT ({column}) DO UPDATE SET
                data = excluded.data, updated_at = excluded.updated_at""",
        (owner_id, to_json(data), to_db(now)),
    )


def load_data(db: Database, table: str) -> dict[int, Any]:
    """Every stored user's or chat's data, by id."""
    column = _id_column(table)
    return {
        row[column]: json.loads(row["data"])
        for row in db.query(f"SELECT {column}, data FROM {table}")
    }


def drop_data(db: Database, table: str, owner_id: int) -> None:
    column = _id_column(table)
    db.execute(f"DELETE FROM {table} WHERE {column} = ?", (owner_id,))


# --- bot data / callback data --------------------------------------------------------

SINGLETONS = ("bot_data", "callback_data")


def save_singleton(db: Database, name: str, data: object, now: dt.datetime) -> None:
    """Store bot_data or callback_data (one row each)."""
    if name not in SINGLETONS:
        raise ValueError(f"not a singleton: {name}")
    db.execute(
        """INSERT INTO singletons (name, data, updated_at) VALUES (?, ?, ?)
           ON CONFLICT (name) DO UPDATE SET
               data = excluded.data, updated_at = excluded.updated_at""",
        (name, to_json(data), to_db(now)),
    )


def load_singleton(db: Database, name: str) -> Any | None:
    """The stored bot_data or callback_data, or None if never stored."""
    rows = list(db.query("SELECT data FROM singletons WHERE name = ?", (name,)))
    return json.loads(rows[0]["data"]) if rows else None
