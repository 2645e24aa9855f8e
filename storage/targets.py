"""What a button names, looked up for the access check: where it is and who owns it.

Each function takes the id in a button's data and returns a :class:`TargetInfo`, or
None when the object no longer exists. ``handlers.core.access`` maps its target kinds
to these; the scope and own-case rules themselves live there.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlite_utils import Database

from storage.calendar import deadline_regions
from storage.enterprises import get_account, get_enterprise
from storage.notices import get_notice


@dataclass(frozen=True)
class TargetInfo:
    """Where a target is (for the scope check) and who owns it (for the own-case check)."""

    region: str | None  # None: no single region (the whole province)
    owners: frozenset[int] = field(default_factory=frozenset)
    regions: frozenset[str] | None = None  # all must be in scope (a deadline's, a notice's)
    any_of: frozenset[str] | None = None  # one of them in scope is enough (an application's)


def _enterprise_users(db: Database, enterprise_id: int) -> frozenset[int]:
    """The users who speak for an enterprise (a live account: pending or approved)."""
    return frozenset(int(row[0]) for row in db.execute(
        "SELECT user_id FROM accounts WHERE enterprise_id = ? AND status IN "
        "('pending', 'approved')", (enterprise_id,)))


def account(db: Database, key: int) -> TargetInfo | None:
    """An application is decided by staff of its city or of the region its credit code
    was issued in (a mismatch goes to both: see ``Enterprise.regions``)."""
    applied = get_account(db, key)
    company = get_enterprise(db, applied.enterprise_id) if applied is not None else None
    if applied is None or company is None:
        return None
    owners = frozenset({applied.user_id}) | _enterprise_users(db, company.id)
    return TargetInfo(company.city, owners, any_of=frozenset(company.regions))


def enterprise(db: Database, key: int) -> TargetInfo | None:
    row = db.execute("SELECT city FROM enterprises WHERE id = ?", (key,)).fetchone()
    return TargetInfo(row[0], _enterprise_users(db, key)) if row else None


def report(db: Database, key: int) -> TargetInfo | None:
    row = db.execute(
        "SELECT e.city, e.id, r.user_id FROM reports r JOIN enterprises e "
        "ON e.id = r.enterprise_id WHERE r.id = ?", (key,)).fetchone()
    if row is None:
        return None
    return TargetInfo(row[0], frozenset({int(row[2])}) | _enterprise_users(db, int(row[1])))


def notice(db: Database, key: int) -> TargetInfo | None:
    sent = get_notice(db, key)
    if sent is None:
        return None
    return TargetInfo(None, frozenset({sent.created_by}), regions=sent.regions)


def question(db: Database, key: int) -> TargetInfo | None:
    row = db.execute("SELECT user_id FROM questions WHERE id = ?", (key,)).fetchone()
    return TargetInfo(None, frozenset({int(row[0])})) if row else None


def deadline(db: Database, key: int) -> TargetInfo | None:
    row = db.execute("SELECT created_by FROM deadlines WHERE id = ?", (key,)).fetchone()
    if row is None:
        return None
    regions = deadline_regions(db, key) or frozenset()
    return TargetInfo(None, frozenset({int(row[0])}), regions=regions)
