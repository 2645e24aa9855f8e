"""One invitation link per enterprise on the province's list.

``https://t.me/<bot>?start=ent_…`` binds the Telegram account that opens it to that
enterprise, approved (the list is official). The codes must be printable again
(``lvdong invites`` writes the sheet as often as an office asks for it) and yet
never stored: a code is an HMAC of (enterprise, serial) under a key kept in a file
beside the database (``<db>.invite-key``, mode 0600), and the database holds only a
SHA-256 hash of each code. A copy of the database alone cannot be turned into
working links; a lost key file only means the links are issued anew (the rows
remember which key made them).

A code is used once: the first account to open it is bound; later openings are
refused with who used it (to staff). Reissuing gives the enterprise a new serial
and revokes the old code.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlite_utils import Database

from storage import audit
from storage.clock import from_db, to_db
from storage.db import MEMORY, transaction
from storage.enterprises import Enterprise, Status, get_account, get_enterprise

CODE_PREFIX = "ent_"  # deep-link payloads are [A-Za-z0-9_-]{1,64}
_CODE_CHARS = 27  # base64url characters of the HMAC kept: 162 bits
_MEMORY_KEY = secrets.token_bytes(32)  # a private in-memory database's key


class EnterpriseInviteError(Exception):
    """The link cannot bind this account. ``reason``: ``unknown``, ``revoked``,
    ``expired``, ``used`` (``used_by``: who), ``bound_elsewhere`` (``enterprise``: the
    one the user already speaks for)."""

    def __init__(self, reason: str, *, used_by: int | None = None,
                 enterprise: Enterprise | None = None) -> None:
        super().__init__(reason)
        self.reason, self.used_by, self.enterprise = reason, used_by, enterprise


@dataclass(frozen=True)
class InviteKey:
    secret: bytes

    @property
    def key_id(self) -> str:
        return hashlib.sha256(b"lvdong-invite-key:" + self.secret).hexdigest()[:16]

    def code(self, enterprise_id: int, serial: int) -> str:
        mac = hmac.new(self.secret, f"{enterprise_id}:{serial}".encode(), hashlib.sha256)
        return CODE_PREFIX + base64.urlsafe_b64encode(mac.digest()).decode()[:_CODE_CHARS]


def key_path(db_path: str | Path) -> Path | None:
    return None if str(db_path) == MEMORY else Path(f"{db_path}.invite-key")


def load_key(db_path: str | Path) -> InviteKey:
    """The key beside the database, made (0600) on first use."""
    path = key_path(db_path)
    if path is None:
        return InviteKey(_MEMORY_KEY)
    try:
        return InviteKey(bytes.fromhex(path.read_text(encoding="ascii").strip()))
    except FileNotFoundError:
        pass
    secret = secrets.token_bytes(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return InviteKey(bytes.fromhex(path.read_text(encoding="ascii").strip()))
    with os.fdopen(fd, "w", encoding="ascii") as stream:
        stream.write(secret.hex() + "\n")
    return InviteKey(secret)


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode("utf-8")).hexdigest()


def link(username: str, code: str) -> str:
    return f"https://t.me/{username}?start={code}"


@dataclass(frozen=True)
class InviteRow:
    id: int
    enterprise_id: int
    serial: int
    key_id: str
    created_at: dt.datetime
    expires_at: dt.datetime
    used_by: int | None
    used_at: dt.datetime | None
    revoked_at: dt.datetime | None

    def live(self, key: InviteKey, now: dt.datetime) -> bool:
        """Can still be handed out: unused, not revoked, not expired, this key's."""
        return (self.used_by is None and self.revoked_at is None and self.expires_at > now
                and self.key_id == key.key_id)


def _row(row: dict[str, object]) -> InviteRow:
    def when(value: object) -> dt.datetime | None:
        return from_db(str(value)) if value else None

    return InviteRow(int(str(row["id"])), int(str(row["enterprise_id"])), int(str(row["serial"])),
                     str(row["key_id"]), from_db(str(row["created_at"])),
                     from_db(str(row["expires_at"])),
                     int(str(row["used_by"])) if row["used_by"] is not None else None,
                     when(row["used_at"]), when(row["revoked_at"]))


def current(db: Database, enterprise_id: int) -> InviteRow | None:
    """The enterprise's newest invitation (used, revoked or not), or None."""
    rows = list(db.query("SELECT * FROM enterprise_invites WHERE enterprise_id = ? "
                         "ORDER BY serial DESC LIMIT 1", (enterprise_id,)))
    return _row(rows[0]) if rows else None


_INSERT = """INSERT INTO enterprise_invites (enterprise_id, serial, code_hash, key_id,
               created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)"""


def _insert(db: Database, enterprise_id: int, serial: int, *, key: InviteKey, by: int,
            now: dt.datetime, valid_for: dt.timedelta) -> str:
    code = key.code(enterprise_id, serial)
    db.execute(_INSERT, (enterprise_id, serial, _hash(code), key.key_id, by, to_db(now),
                         to_db(now + valid_for)))
    return code


def ensure_invites(db: Database, enterprise_ids: Iterable[int], *, key: InviteKey, by: int,
                   now: dt.datetime, valid_for: dt.timedelta) -> int:
    """Give each enterprise that has not joined a live code (a new one where it has
    none, or only an expired, revoked or unrecoverable one); returns how many were
    issued. Joins the caller's transaction."""
    wanted = set(enterprise_ids)
    if not wanted:
        return 0
    newest: dict[int, tuple[int, str, str, int | None, str | None]] = {}
    for eid, serial, key_id, expires, used_by, revoked in db.execute(
            "SELECT enterprise_id, serial, key_id, expires_at, used_by, revoked_at "
            "FROM enterprise_invites i WHERE serial = (SELECT max(serial) FROM "
            "enterprise_invites WHERE enterprise_id = i.enterprise_id)"):
        if eid in wanted:
            newest[eid] = (serial, key_id, expires, used_by, revoked)
    joined = _joined(db)
    stamp, until = to_db(now), to_db(now + valid_for)
    new: list[tuple[object, ...]] = []
    for eid in sorted(wanted):
        if eid in joined:
            continue
        old = newest.get(eid)
        if old is not None:
            serial, key_id, expires, used_by, revoked = old
            if used_by is None and revoked is None and expires > stamp and key_id == key.key_id:
                continue
            if used_by is None and revoked is None:
                db.execute("UPDATE enterprise_invites SET revoked_at = ? WHERE enterprise_id = ? "
                           "AND serial = ?", (stamp, eid, serial))
        serial = (old[0] if old else 0) + 1
        new.append((eid, serial, _hash(key.code(eid, serial)), key.key_id, by, stamp, until))
    db.conn.executemany(_INSERT, new)
    return len(new)


def _joined(db: Database) -> set[int]:
    return {row[0] for row in db.execute(
        "SELECT DISTINCT enterprise_id FROM accounts WHERE status = 'approved'")}


def reissue(db: Database, enterprise_id: int, *, key: InviteKey, by: int, now: dt.datetime,
            valid_for: dt.timedelta) -> str:
    """A new code for the enterprise; its previous unused one stops working. Audited."""
    with transaction(db):
        old = current(db, enterprise_id)
        if old is not None and old.used_by is None and old.revoked_at is None:
            db.execute("UPDATE enterprise_invites SET revoked_at = ? WHERE id = ?",
                       (to_db(now), old.id))
        serial = (old.serial if old else 0) + 1
        code = _insert(db, enterprise_id, serial, key=key, by=by, now=now, valid_for=valid_for)
        audit.record(db, actor_id=by, action="reissue_enterprise_invite",
                     subject=f"enterprise:{enterprise_id}", now=now, serial=serial)
    return code


def enterprise_of_code(db: Database, code: str) -> int | None:
    """The enterprise an invitation code (any of its codes, used or not) was issued for."""
    row = db.execute("SELECT enterprise_id FROM enterprise_invites WHERE code_hash = ?",
                     (_hash(code.strip()),)).fetchone()
    return int(row[0]) if row else None


def live_code(db: Database, enterprise_id: int, key: InviteKey, now: dt.datetime) -> str | None:
    """The code of the enterprise's live invitation, or None."""
    row = current(db, enterprise_id)
    return key.code(enterprise_id, row.serial) if row and row.live(key, now) else None


@dataclass(frozen=True)
class Bound:
    enterprise: Enterprise
    account_id: int
    again: bool  # the same account opened its own link again


def redeem(db: Database, code: str, *, user_id: int, now: dt.datetime) -> Bound:
    """Bind ``user_id`` to the enterprise of ``code``, approved; EnterpriseInviteError
    if the code is unknown, revoked, expired, used by someone else, or the user already
    speaks for another enterprise. Check and use under one write lock."""
    with transaction(db):
        rows = list(db.query("SELECT * FROM enterprise_invites WHERE code_hash = ?",
                             (_hash(code),)))
        if not rows:
            raise EnterpriseInviteError("unknown")
        invite = _row(rows[0])
        enterprise = get_enterprise(db, invite.enterprise_id)
        assert enterprise is not None  # foreign key
        live = list(db.query(
            "SELECT * FROM accounts WHERE user_id = ? AND status IN ('pending', 'approved')",
            (user_id,)))
        if invite.used_by is not None:
            if invite.used_by == user_id and live and live[0]["enterprise_id"] == enterprise.id:
                return Bound(enterprise, int(live[0]["id"]), again=True)
            raise EnterpriseInviteError("used", used_by=invite.used_by, enterprise=enterprise)
        if invite.revoked_at is not None:
            raise EnterpriseInviteError("revoked", enterprise=enterprise)
        if invite.expires_at <= now:
            raise EnterpriseInviteError("expired", enterprise=enterprise)
        stamp = to_db(now)
        if live and live[0]["enterprise_id"] != enterprise.id:
            other = get_enterprise(db, int(live[0]["enterprise_id"]))
            raise EnterpriseInviteError("bound_elsewhere", enterprise=other)
        if live:  # a pending application of this user for this enterprise: the link vouches
            account_id = int(live[0]["id"])
            db.execute("UPDATE accounts SET status = 'approved', decided_at = ?, decided_by = ? "
                       "WHERE id = ?", (stamp, invite_creator(db, invite.id), account_id))
        else:
            founded = db.execute("SELECT 1 FROM accounts WHERE enterprise_id = ? AND "
                                 "kind = 'founder' AND status != 'rejected'",
                                 (enterprise.id,)).fetchone()
            details = {"name": enterprise.name, "city": enterprise.city,
                       "county": enterprise.county, "industries": list(enterprise.industries)}
            cursor = db.execute(
                """INSERT INTO accounts (user_id, enterprise_id, kind, status, contact_name,
                       phone, created_at, decided_at, decided_by, details)
                   VALUES (?, ?, ?, 'approved', ?, ?, ?, ?, ?, ?)""",
                (user_id, enterprise.id, "claim" if founded else "founder",
                 enterprise.contact_name, enterprise.phone, stamp, stamp,
                 invite_creator(db, invite.id), json.dumps(details, ensure_ascii=False)))
            assert cursor.lastrowid is not None
            account_id = cursor.lastrowid
        if enterprise.status is not Status.APPROVED:
            db.execute("UPDATE enterprises SET status = 'approved', decided_at = ?, "
                       "updated_at = ? WHERE id = ?", (stamp, stamp, enterprise.id))
        db.execute("UPDATE enterprise_invites SET used_by = ?, used_at = ? WHERE id = ?",
                   (user_id, stamp, invite.id))
        audit.record(db, actor_id=user_id, action="redeem_enterprise_invite",
                     subject=f"enterprise:{enterprise.id}", now=now, serial=invite.serial)
        account = get_account(db, account_id)
        assert account is not None
        refreshed = get_enterprise(db, enterprise.id)
        assert refreshed is not None
        return Bound(refreshed, account_id, again=False)


def invite_creator(db: Database, invite_id: int) -> int:
    return int(db.execute("SELECT created_by FROM enterprise_invites WHERE id = ?",
                          (invite_id,)).fetchone()[0])


@dataclass(frozen=True)
class InviteLine:
    """One enterprise of the invitation sheet."""

    enterprise_id: int
    name: str
    credit_code: str
    city: str
    county: str | None
    contact_name: str
    phone: str
    joined: bool
    code: str | None  # None: joined (its code was used)
    expires_at: dt.datetime | None
    used_by: int | None


def invite_lines(db: Database, *, key: InviteKey, now: dt.datetime,
                 regions: frozenset[str] = frozenset(), not_joined: bool = False
                 ) -> Iterator[InviteLine]:
    """The listed enterprises of ``regions`` (empty: all) with their live code, by city
    and id. Call :func:`ensure_invites` first so that every one not joined has one."""
    where, params = ["e.listed_at IS NOT NULL", "e.status != 'rejected'"], list(sorted(regions))
    if regions:
        where.append(f"e.city IN ({','.join('?' * len(regions))})")
    query = f"""
        SELECT e.id, e.name, e.credit_code, e.city, e.county, e.contact_name, e.phone,
               EXISTS (SELECT 1 FROM accounts a WHERE a.enterprise_id = e.id
                       AND a.status = 'approved'),
               i.serial, i.key_id, i.expires_at, i.used_by, i.revoked_at
        FROM enterprises e
        LEFT JOIN enterprise_invites i ON i.enterprise_id = e.id AND i.serial =
            (SELECT max(serial) FROM enterprise_invites WHERE enterprise_id = e.id)
        WHERE {' AND '.join(where)} ORDER BY e.city, e.id"""
    stamp = to_db(now)
    for (eid, name, code, city, county, contact, phone, joined, serial, key_id, expires,
         used_by, revoked) in db.execute(query, params):
        if not_joined and joined:
            continue
        usable = (serial is not None and used_by is None and revoked is None
                  and expires > stamp and key_id == key.key_id)
        yield InviteLine(eid, name, code, city, county, contact, phone, bool(joined),
                         key.code(eid, serial) if usable else None,
                         from_db(expires) if usable else None, used_by)


def listed_ids(db: Database, regions: frozenset[str] = frozenset()) -> list[int]:
    where, params = "listed_at IS NOT NULL AND status != 'rejected'", list(sorted(regions))
    if regions:
        where += f" AND city IN ({','.join('?' * len(regions))})"
    return [row[0] for row in db.execute(f"SELECT id FROM enterprises WHERE {where}", params)]
