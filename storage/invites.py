"""Single-use, expiring invitations that give a role (and scope) on first use.

An admin makes one; the bot shows a ``t.me/<bot>?start=<code>`` link once. Only a
SHA-256 hash of the code is stored, so a copy of the database cannot be turned into
working links. Redeeming is atomic: of two people using the same link at once,
exactly one gets the role.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass

from sqlite_utils import Database

from storage.clock import from_db, to_db
from storage.db import transaction
from storage.users import Role, Scope, User, check_regions, grant_role

CODE_PREFIX = "inv_"  # deep-link payloads are [A-Za-z0-9_-]{1,64}


class InviteError(Exception):
    """The invitation cannot be used; ``reason`` is one of ``unknown``, ``used``, ``expired``."""

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


def redeem(db: Database, code: str, *, user_id: int, now: dt.datetime) -> tuple[Invite, User]:
    """Use an invitation: the user gets its role and scope. InviteError if it is unknown,
    used or expired. The check and the use happen under one write lock."""
    with transaction(db):
        rows = list(db.query("SELECT * FROM invites WHERE code_hash = ?", (_hash(code),)))
        if not rows:
            raise InviteError("unknown")
        row = rows[0]
        if row["used_by"] is not None:
            raise InviteError("used")
        if from_db(row["expires_at"]) <= now:
            raise InviteError("expired")
        db.execute(
            "UPDATE invites SET used_by = ?, used_at = ? WHERE id = ? AND used_by IS NULL",
            (user_id, to_db(now), row["id"]),
        )
        regions = frozenset(json.loads(row["regions"]))
        user = grant_role(db, user_id, Role(row["role"]), regions, now)
    invite = Invite(row["id"], Role(row["role"]), Scope(regions), row["created_by"],
                    from_db(row["expires_at"]), user_id)
    return invite, user
