"""Single-use, expiring invitations that give a role (and scope) on first use.

An admin makes one; the bot shows a ``t.me/<bot>?start=<code>`` link once. Only a
SHA-256 hash of the code is stored, so a copy of the database cannot be turned into
working links. Redeeming is atomic: of two people using the same link at once,
exactly one gets the role.

An invitation lives only as long as its maker could make it: when the maker is revoked
or narrowed, their open invitations beyond the new role and scope are voided (in the
same transaction, audited), and redeeming checks the maker's role *now* once more (a
settings admin taken out of ``LVDONG_ADMINS`` has no row to change). Admins list and
withdraw open invitations with ``/invites``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from storage import audit
from storage.clock import from_db, to_db
from storage.db import transaction
from storage.users import Role, Scope, User, check_regions, grant_role, role_of, scope_of

CODE_PREFIX = "inv_"  # deep-link payloads are [A-Za-z0-9_-]{1,64}


class InviteError(Exception):
    """The invitation cannot be used; ``reason`` is one of ``unknown``, ``used``,
    ``expired``, ``withdrawn`` (by an admin, or its maker lost the right to make it)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Invite:
    id: int
    role: Role
    scope: Scope
    created_by: int
    expires_at: dt.datetime
    used_by: int | None
    created_at: dt.datetime | None = None


def may_make(maker_role: Role, maker_scope: Scope, role: Role, scope: Scope) -> bool:
    """Whether a maker of ``maker_role`` and ``maker_scope`` may (still) give ``role`` over
    ``scope``: an admin anything; an official or staff member only their own role within
    their own scope (only admins invite today, so for them: nothing)."""
    if maker_role is Role.ADMIN:
        return True
    return maker_role is role and role in (Role.OFFICIAL, Role.STAFF) and scope.within(
        maker_scope)


def _invite(row: dict[str, Any]) -> Invite:
    return Invite(row["id"], Role(row["role"]), Scope(frozenset(json.loads(row["regions"]))),
                  row["created_by"], from_db(row["expires_at"]), row["used_by"],
                  from_db(row["created_at"]))


def open_invites(db: Database, now: dt.datetime) -> list[Invite]:
    """Invitations not used, withdrawn nor expired, oldest first."""
    return [_invite(row) for row in db.query(
        """SELECT * FROM invites WHERE used_by IS NULL AND voided_at IS NULL
           AND expires_at > ? ORDER BY id""", (to_db(now),))]


def withdraw(db: Database, invite_id: int, *, by: int, now: dt.datetime,
             reason: str = "withdrawn") -> Invite | None:
    """Void an open invitation (audited, in the caller's transaction); None if it is not
    open (unknown, used, expired or already withdrawn)."""
    rows = list(db.query(
        """SELECT * FROM invites WHERE id = ? AND used_by IS NULL AND voided_at IS NULL
           AND expires_at > ?""", (invite_id, to_db(now))))
    if not rows:
        return None
    db.execute("UPDATE invites SET voided_at = ?, voided_by = ?, void_reason = ? WHERE id = ?",
               (to_db(now), by, reason, invite_id))
    invite = _invite(rows[0])
    audit.record(db, actor_id=by, action="invite_withdraw" if reason == "withdrawn"
                 else "invite_void", subject=f"invite:{invite_id}", now=now, reason=reason,
                 role=invite.role.value, maker=invite.created_by)
    return invite


def void_beyond(db: Database, maker_id: int, role: Role, scope: Scope, *, by: int,
                now: dt.datetime) -> list[int]:
    """Void ``maker_id``'s open invitations that a maker of ``role`` and ``scope`` may not
    make (their role was just changed); the ids voided."""
    voided = []
    for invite in open_invites(db, now):
        if invite.created_by == maker_id and not may_make(role, scope, invite.role,
                                                          invite.scope):
            withdraw(db, invite.id, by=by, now=now, reason="maker_changed")
            voided.append(invite.id)
    return voided


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def create_invite(
    db: Database,
    *,
    role: Role,
    regions: Iterable[str],
    by: int,
    now: dt.datetime,
    valid_for: dt.timedelta,
) -> tuple[str, Invite]:
    """A new invitation; returns (code, invite). The code is not stored — show it now."""
    chosen = check_regions(Role(role), regions)
    code = CODE_PREFIX + secrets.token_urlsafe(24)
    cursor = db.execute(
        """INSERT INTO invites (code_hash, role, regions, created_by, created_at, expires_at)
           VALUES (?, ?, ?, ?, ?, ?)""",
        (_hash(code), Role(role).value, json.dumps(sorted(chosen), ensure_ascii=False), by,
         to_db(now), to_db(now + valid_for)),
    )
    assert cursor.lastrowid is not None
    return code, Invite(cursor.lastrowid, Role(role), Scope(chosen), by, now + valid_for, None)


def redeem(
    db: Database, code: str, *, user_id: int, now: dt.datetime, admins: frozenset[int]
) -> tuple[Invite, User]:
    """Use an invitation: the user gets its role and scope. InviteError if it is unknown,
    used, expired or withdrawn — also when its maker (``admins``: the settings admins)
    may no longer make it. The checks and the use happen under one write lock."""
    with transaction(db):
        rows = list(db.query("SELECT * FROM invites WHERE code_hash = ?", (_hash(code),)))
        if not rows:
            raise InviteError("unknown")
        row = rows[0]
        if row["used_by"] is not None:
            raise InviteError("used")
        if row["voided_at"] is not None:
            raise InviteError("withdrawn")
        if from_db(row["expires_at"]) <= now:
            raise InviteError("expired")
        maker = row["created_by"]
        invite = _invite(row)
        if not may_make(role_of(db, maker, admins), scope_of(db, maker), invite.role,
                        invite.scope):
            raise InviteError("withdrawn")
        db.execute(
            "UPDATE invites SET used_by = ?, used_at = ? WHERE id = ? AND used_by IS NULL",
            (user_id, to_db(now), row["id"]),
        )
        user = grant_role(db, user_id, invite.role, invite.scope.regions, now, by=user_id)
    return Invite(invite.id, invite.role, invite.scope, maker, invite.expires_at, user_id,
                  invite.created_at), user
