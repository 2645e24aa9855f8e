"""Telegram users the bot has seen, their roles and the regions they cover.

Everyone starts as ``enterprise``. Roles are granted by an admin; admins listed in
the bot's settings are admins whatever the database says, so a fresh install (or a
mistaken demotion) can never lock the operators out.

Officials and staff work for a *scope*: the whole province, or one or more
regions (cities, 济源示范区, the province-administered counties). A scope is stored
as rows of ``user_regions``; no rows means the whole province.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from sqlite_utils import Database

from storage.clock import from_db, to_db
from storage.db import transaction
from storage.regions import REGIONS, is_region


class Role(StrEnum):
    ENTERPRISE = "enterprise"  # asks questions; reports progress for its own company
    OFFICIAL = "official"  # pushes deadline notices, for a scope
    STAFF = "staff"  # approves registrations, queries and reviews reports, for a scope
    ADMIN = "admin"  # grants roles; may do everything, province-wide


SCOPED_ROLES = frozenset({Role.OFFICIAL, Role.STAFF})


@dataclass(frozen=True)
class Scope:
    """Where a user works: ``regions`` empty means the whole province."""

    regions: frozenset[str] = frozenset()

    @property
    def province(self) -> bool:
        return not self.regions

    def covers(self, region: str | None) -> bool:
        """Whether ``region`` is in this scope (None, "the whole province", only for a
        province-wide scope)."""
        return self.province or (region is not None and region in self.regions)

    def describe(self) -> str:
        """``全省`` or the regions in the registration order, e.g. ``郑州市、洛阳市``."""
        if self.province:
            return "全省"
        return "、".join(r for r in REGIONS if r in self.regions)

    def within(self, other: Scope) -> bool:
        """Whether every region of this scope is covered by ``other``."""
        return other.province or (not self.province and self.regions <= other.regions)


PROVINCE = Scope()


@dataclass(frozen=True)
class User:
    user_id: int
    name: str
    role: Role
    scope: Scope  # meaningful for officials and staff
    first_seen: dt.datetime
    last_seen: dt.datetime
    reachable: bool = True  # False once the user blocked the bot (until they unblock)


def touch_user(db: Database, user_id: int, name: str, now: dt.datetime) -> None:
    """Record that ``user_id`` was seen (creating them as an enterprise user), keeping
    the display name current so staff lists show today's Telegram name. A user who
    writes to the bot can be written to again."""
    stamp = to_db(now)
    db.execute(
        """INSERT INTO users (user_id, name, first_seen, last_seen) VALUES (?, ?, ?, ?)
           ON CONFLICT (user_id) DO UPDATE SET
               name = excluded.name, last_seen = excluded.last_seen,
               reachable = 1,
               reachable_changed_at = CASE WHEN reachable = 0 THEN excluded.last_seen
                                           ELSE reachable_changed_at END""",
        (user_id, name, stamp, stamp),
    )


def scope_of(db: Database, user_id: int) -> Scope:
    """The regions ``user_id`` covers (no rows: the whole province)."""
    return Scope(frozenset(
        row["region"]
        for row in db.query("SELECT region FROM user_regions WHERE user_id = ?", (user_id,))
    ))


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
        scope=scope_of(db, user_id),
        first_seen=from_db(row["first_seen"]),
        last_seen=from_db(row["last_seen"]),
        reachable=bool(row["reachable"]),
    )


def role_of(db: Database, user_id: int, admins: frozenset[int]) -> Role:
    """The effective role: settings admins first, then the stored role, else enterprise."""
    if user_id in admins:
        return Role.ADMIN
    rows = list(db.query("SELECT role FROM users WHERE user_id = ?", (user_id,)))
    return Role(rows[0]["role"]) if rows else Role.ENTERPRISE


def check_regions(role: Role, regions: Iterable[str]) -> frozenset[str]:
    """The regions of a grant, or ValueError: only officials and staff have regions, and
    each must be one of :data:`storage.regions.REGIONS`."""
    if isinstance(regions, str):
        raise TypeError("regions must be a collection of region names, not one string")
    chosen = frozenset(regions)
    if chosen and role not in SCOPED_ROLES:
        raise ValueError(f"only officials and staff cover regions, not {role.value}")
    unknown = sorted(r for r in chosen if not is_region(r))
    if unknown:
        raise ValueError(f"unknown region: {'、'.join(unknown)}")
    return chosen


def grant_role(
    db: Database, user_id: int, role: Role, regions: Iterable[str], now: dt.datetime,
    *, by: int | None = None,
) -> User:
    """Set a user's role and scope (creating the user if not seen yet, so roles can be
    granted ahead). ``regions`` empty: the whole province (officials and staff).

    In the same transaction, the user's open invitations that the new role and scope
    could not make are voided (audited as done by ``by``, else by the user)."""
    from storage.invites import void_beyond  # invites builds on users


    role = Role(role)
    chosen = check_regions(role, regions)
    stamp = to_db(now)
    with transaction(db):
        db.execute(
            """INSERT INTO users (user_id, role, first_seen, last_seen, role_granted_at)
               VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (user_id) DO UPDATE SET
                   role = excluded.role, role_granted_at = excluded.role_granted_at""",
            (user_id, role.value, stamp, stamp, stamp),
        )
        db.execute("DELETE FROM user_regions WHERE user_id = ?", (user_id,))
        for region in sorted(chosen):
            db.execute(
                "INSERT INTO user_regions (user_id, region) VALUES (?, ?)", (user_id, region)
            )
        void_beyond(db, user_id, role, Scope(chosen), by=user_id if by is None else by,
                    now=now)
    user = get_user(db, user_id)
    assert user is not None
    return user


def revoke_role(
    db: Database, user_id: int, now: dt.datetime, *, by: int | None = None
) -> User | None:
    """Back to ``enterprise`` with no regions (their open invitations voided); None if
    the user was never seen."""
    if get_user(db, user_id) is None:
        return None
    return grant_role(db, user_id, Role.ENTERPRISE, (), now, by=by)


def users_with_role(db: Database, role: Role) -> list[int]:
    """User ids stored with ``role`` (settings admins are not in the database)."""
    return [
        row["user_id"]
        for row in db.query(
            "SELECT user_id FROM users WHERE role = ? ORDER BY user_id", (Role(role).value,)
        )
    ]


def users_covering(db: Database, role: Role, region: str) -> list[int]:
    """Users of ``role`` whose scope covers ``region``: those of that region plus the
    province-wide ones. Settings admins are not included; the caller adds them."""
    return [
        row["user_id"]
        for row in db.query(
            """SELECT u.user_id FROM users u
               WHERE u.role = ? AND (
                   NOT EXISTS (SELECT 1 FROM user_regions r WHERE r.user_id = u.user_id)
                   OR EXISTS (SELECT 1 FROM user_regions r
                              WHERE r.user_id = u.user_id AND r.region = ?))
               ORDER BY u.user_id""",
            (Role(role).value, region),
        )
    ]


def scoped_users(db: Database, role: Role) -> dict[int, Scope]:
    """Every user of ``role`` with their scope (for per-scope summaries)."""
    return {user_id: scope_of(db, user_id) for user_id in users_with_role(db, role)}


def set_reachable(db: Database, user_id: int, reachable: bool, now: dt.datetime) -> bool:
    """Record that a user blocked (False) or unblocked (True) the bot; True if it changed.

    Sends to an unreachable user are not attempted; a message from them, or an unblock
    seen as a ``my_chat_member`` update, makes them reachable again."""
    cursor = db.execute(
        """UPDATE users SET reachable = ?, reachable_changed_at = ?
           WHERE user_id = ? AND reachable != ?""",
        (int(reachable), to_db(now), user_id, int(reachable)),
    )
    return cursor.rowcount > 0
