"""Telegram users the bot has seen, and their roles.

Everyone starts as ``enterprise``. Roles are granted by an admin; admins listed in
the bot's settings are admins whatever the database says, so a fresh install (or a
mistaken demotion) can never lock the operators out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from sqlite_utils import Database

from storage.clock import from_db, to_db
from storage.regions import is_region


class Role(StrEnum):
    ENTERPRISE = "enterprise"  # reports progress for its own company
    OFFICIAL = "official"  # pushes deadline notices
    STAFF = "staff"  # approves registrations and queries reports, for a city or the province
    ADMIN = "admin"  # grants roles; can do everything staff can, province-wide


@dataclass(frozen=True)
class User:
    user_id: int
    name: str
    role: Role
    city: str | None  # staff only: None means the whole province
    first_seen: dt.datetime
    last_seen: dt.datetime


def touch_user(db: Database, user_id: int, name: str, now: dt.datetime) -> None:
    """Record that ``user_id`` was seen (creating them as an enterprise user), keeping
    the display name current so staff lists show today's Telegram name."""
    stamp = to_db(now)
    db.execute(
        """INSERT INTO users (user_id, name, first_seen, last_seen) VALUES (?, ?, ?, ?)
           ON CONFLICT (user_id) DO UPDATE SET
               name = excluded.name, last_seen = excluded.last_seen""",
        (user_id, name, stamp, stamp),
    )


def get_user(db: Database, user_id: int) -> User | None:
    """The stored user, or None if never seen."""
    rows = list(db.query("SELECT * FROM users WHERE user_id = ?", (user_id,)))
    if not rows:
        return None
    row = rows[0]
    return User(
        user_id=row["user_id"],
        name=row["name"],
        role=Role(row["role"]),
        city=row["city"],
        first_seen=from_db(row["first_seen"]),
        last_seen=from_db(row["last_seen"]),
    )


def role_of(db: Database, user_id: int, admins: frozenset[int]) -> Role:
    """The effective role: settings admins first, then the stored role, else enterprise."""
    if user_id in admins:
        return Role.ADMIN
    user = get_user(db, user_id)
    return user.role if user is not None else Role.ENTERPRISE


def staff_city(db: Database, user_id: int) -> str | None:
    """The region a staff member covers (None: whole province, or not staff)."""
    user = get_user(db, user_id)
    return user.city if user is not None and user.role is Role.STAFF else None


def grant_role(db: Database, user_id: int, role: Role, city: str | None, now: dt.datetime) -> None:
    """Set a user's role (creating the user if not seen yet, so roles can be granted ahead).

    ``city`` is only meaningful for staff; giving it for another role is a mistake
    we refuse rather than silently drop.
    """
    role = Role(role)
    if city is not None and role is not Role.STAFF:
        raise ValueError(f"only staff have a city, not {role.value}")
    if city is not None and not is_region(city):
        raise ValueError(f"unknown region: {city}")
    stamp = to_db(now)
    db.execute(
        """INSERT INTO users (user_id, role, city, first_seen, last_seen, role_granted_at)
           VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (user_id) DO UPDATE SET
               role = excluded.role, city = excluded.city,
               role_granted_at = excluded.role_granted_at""",
        (user_id, role.value, city, stamp, stamp, stamp),
    )


def users_with_role(db: Database, role: Role) -> list[int]:
    """User ids stored with ``role`` (settings admins are not in the database)."""
    return [
        row["user_id"]
        for row in db.query(
            "SELECT user_id FROM users WHERE role = ? ORDER BY user_id", (Role(role).value,)
        )
    ]


def staff_for_city(db: Database, city: str) -> list[int]:
    """Staff who may approve registrations in ``city``: that city's staff plus
    province-wide staff. Settings admins are not included; the caller adds them."""
    return [
        row["user_id"]
        for row in db.query(
            """SELECT user_id FROM users
               WHERE role = 'staff' AND (city = ? OR city IS NULL) ORDER BY user_id""",
            (city,),
        )
    ]
