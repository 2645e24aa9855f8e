"""Enterprise registration, and the Telegram accounts that speak for an enterprise.

An *enterprise* is identified by its unified social credit code. An *account*
binds one Telegram user to one enterprise and has its own status: the first
account of a new enterprise (the ``founder``) is pending together with it; a later
user who registers the same code creates a pending ``claim`` that staff approve or
reject on its own, so nobody gains access to a company's reports just by knowing
its public code. No account speaks for the company (reports, reads its reports)
before staff approve it: a founder may be a squatter who typed a public code.

Each account keeps what its applicant entered (``details``: name, city, county,
industries). Rejecting a founder therefore does not reject the pending claims on
the same code with it: the oldest claim becomes the founder, and the enterprise
takes that applicant's details and stays pending (the real company, squatted, is
not turned away). Approving an account of a pending enterprise gives the
enterprise that applicant's details, since that is what staff vouched for.

Who decides: staff of the enterprise's region or of the region its credit code was
issued in (the code's division digits; the two differ when a squatter picks another
city, or when a company moved), province-wide staff, and admins.
"""

from __future__ import annotations

import datetime as dt
import json
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from sqlite_utils import Database

from storage.clock import from_db, to_db
from storage.credit_code import check_credit_code
from storage.db import transaction
from storage.qualifiers import set_qualifiers
from storage.regions import is_region, region_of_division
from storage.users import Role, role_of, scope_of


class Status(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Outcome(StrEnum):
    NEW = "new"  # a new enterprise, pending, with this user as founder
    RESUBMITTED = "resubmitted"  # the code was rejected before; the application is renewed
    CLAIM = "claim"  # the code is registered; this user's claim to it awaits approval
    ALREADY_BOUND = "already_bound"  # the user already has a live account; nothing changed


class RegistrationError(Exception):
    """A registration decision could not be made."""


class NotAllowed(RegistrationError, PermissionError):
    """The user may not decide registrations for this enterprise's region."""


class OwnCase(NotAllowed):
    """The decider is the applicant, or speaks for the same enterprise: nobody decides
    on their own case."""


class AlreadyDecided(RegistrationError):
    """Someone already approved or rejected this account (e.g. two staff clicked at once)."""

    def __init__(self, account: Account) -> None:
        super().__init__(f"account {account.id} is already {account.status.value}")
        self.account = account


@dataclass(frozen=True)
class Enterprise:
    id: int
    name: str
    credit_code: str
    city: str
    county: str | None
    industries: tuple[str, ...]
    contact_name: str
    phone: str
    status: Status
    created_at: dt.datetime
    decided_by: int | None

    @property
    def code_region(self) -> str | None:
        """The region the credit code was issued in (None: the province's own authority,
        or outside Henan)."""
        return region_of_division(self.credit_code[2:8])

    @property
    def regions(self) -> tuple[str, ...]:
        """Whose staff decide: the chosen region, and the code's if that differs."""
        code_region = self.code_region
        if code_region is None or code_region == self.city:
            return (self.city,)
        return (self.city, code_region)


@dataclass(frozen=True)
class Details:
    """What an applicant entered about the enterprise."""

    name: str
    city: str
    county: str | None
    industries: tuple[str, ...]


@dataclass(frozen=True)
class Account:
    id: int
    user_id: int
    enterprise_id: int
    kind: str  # "founder" or "claim"
    status: Status
    contact_name: str
    phone: str
    created_at: dt.datetime
    decided_by: int | None
    decided_at: dt.datetime | None = None
    details: Details | None = None  # None for accounts made before details were kept


@dataclass(frozen=True)
class Membership:
    """A user's live binding to an enterprise."""

    enterprise: Enterprise
    account: Account

    @property
    def can_report(self) -> bool:
        """Only approved accounts report and read reports. A pending one, founder or
        claim, could be anyone who knows the company's public code: what it filed would
        stay in the company's append-only record."""
        return self.account.status is Status.APPROVED


@dataclass(frozen=True)
class Registration:
    outcome: Outcome
    enterprise: Enterprise
    account: Account


@dataclass(frozen=True)
class Decision:
    """What a decision changed, so the bot can notify everyone affected."""

    account: Account
    enterprise: Enterprise
    promoted: Account | None = None  # a claim that became the founder (see reject)


# --- reading -------------------------------------------------------------------------


def _industries(db: Database, enterprise_id: int) -> tuple[str, ...]:
    return tuple(
        row["industry"]
        for row in db.query(
            "SELECT industry FROM enterprise_industries WHERE enterprise_id = ? ORDER BY industry",
            (enterprise_id,),
        )
    )


def _enterprise(db: Database, row: dict[str, Any]) -> Enterprise:
    return Enterprise(
        id=row["id"],
        name=row["name"],
        credit_code=row["credit_code"],
        city=row["city"],
        county=row["county"],
        industries=_industries(db, row["id"]),
        contact_name=row["contact_name"],
        phone=row["phone"],
        status=Status(row["status"]),
        created_at=from_db(row["created_at"]),
        decided_by=row["decided_by"],
    )


def _details(text: str | None) -> Details | None:
    if not text:
        return None
    data = json.loads(text)
    return Details(data["name"], data["city"], data.get("county"),
                   tuple(data.get("industries") or ()))


def _account(row: dict[str, Any]) -> Account:
    return Account(
        id=row["id"],
        user_id=row["user_id"],
        enterprise_id=row["enterprise_id"],
        kind=row["kind"],
        status=Status(row["status"]),
        contact_name=row["contact_name"],
        phone=row["phone"],
        created_at=from_db(row["created_at"]),
        decided_by=row["decided_by"],
        decided_at=from_db(row["decided_at"]) if row["decided_at"] else None,
        details=_details(row.get("details")),
    )


def get_enterprise(db: Database, enterprise_id: int) -> Enterprise | None:
    rows = list(db.query("SELECT * FROM enterprises WHERE id = ?", (enterprise_id,)))
    return _enterprise(db, rows[0]) if rows else None


def names_in(db: Database, regions: frozenset[str]) -> dict[int, str]:
    """Id → name of the enterprises not rejected in ``regions`` (empty: everywhere)."""
    where, params = "status != 'rejected'", list(sorted(regions))
    if regions:
        where += f" AND city IN ({','.join('?' * len(regions))})"
    return {int(row[0]): str(row[1])
            for row in db.execute(f"SELECT id, name FROM enterprises WHERE {where}", params)}


# Characters that read alike in a company name: Latin and Cyrillic letters for digits,
# Cyrillic letters for Latin ones, the CJK zero (after NFKC folded full-width forms).
_LOOK_ALIKE = str.maketrans({
    "o": "0", "〇": "0", "о": "0", "l": "1", "і": "1", "ı": "1",
    "а": "a", "е": "e", "с": "c", "р": "p", "х": "x", "у": "y", "к": "k",
})


def name_key(name: str) -> str:
    """What a name looks like, for spotting look-alikes: NFKC (full-width ０ → 0), case
    folded, spaces, punctuation and invisible characters dropped, confusable letters and
    digits made one (O and 0, l and 1)."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    kept = "".join(ch for ch in folded if unicodedata.category(ch)[0] not in "PZCS")
    return kept.translate(_LOOK_ALIKE)


@dataclass(frozen=True)
class LookAlike:
    id: int
    name: str
    city: str
    credit_code: str


def look_alikes(db: Database, enterprise_id: int, name: str) -> list[LookAlike]:
    """Other enterprises (not rejected) whose names look like ``name`` — an exact
    duplicate, or one that differs only in width, case, spacing or confusable
    characters — for staff deciding on an application."""
    key = name_key(name)
    if not key:
        return []
    return [LookAlike(row[0], row[1], row[2], row[3]) for row in db.execute(
        """SELECT id, name, city, credit_code FROM enterprises
           WHERE status != 'rejected' AND id != ? ORDER BY id""", (enterprise_id,))
        if name_key(row[1]) == key]


def find_by_code(db: Database, credit_code: str) -> Enterprise | None:
    """The enterprise registered under a (normalised) credit code."""
    code = check_credit_code(credit_code).code
    rows = list(db.query("SELECT * FROM enterprises WHERE credit_code = ?", (code,)))
    return _enterprise(db, rows[0]) if rows else None


def get_account(db: Database, account_id: int) -> Account | None:
    rows = list(db.query("SELECT * FROM accounts WHERE id = ?", (account_id,)))
    return _account(rows[0]) if rows else None


def _live_account(db: Database, user_id: int) -> Account | None:
    rows = list(db.query(
        "SELECT * FROM accounts WHERE user_id = ? AND status IN ('pending', 'approved')",
        (user_id,),
    ))
    return _account(rows[0]) if rows else None


def enterprise_of_user(db: Database, user_id: int) -> Membership | None:
    """The enterprise a user speaks for (pending or approved), or None."""
    account = _live_account(db, user_id)
    if account is None:
        return None
    enterprise = get_enterprise(db, account.enterprise_id)
    assert enterprise is not None  # foreign key
    return Membership(enterprise, account)


def accounts_of(db: Database, enterprise_id: int) -> list[Account]:
    """All accounts ever bound to an enterprise, oldest first."""
    return [
        _account(row)
        for row in db.query(
            "SELECT * FROM accounts WHERE enterprise_id = ? ORDER BY id", (enterprise_id,)
        )
    ]


@dataclass(frozen=True)
class PendingItem:
    """One account awaiting a decision, with the enterprise it is for."""

    account: Account
    enterprise: Enterprise

    @property
    def is_new_enterprise(self) -> bool:
        return self.account.kind == "founder"


def pending_for_city(db: Database, city: str | None) -> list[PendingItem]:
    """Accounts awaiting approval in ``city`` (None: the whole province), oldest first;
    a city's list includes enterprises whose credit code was issued there."""
    accounts = [_account(row) for row in
                db.query("SELECT * FROM accounts WHERE status = 'pending' ORDER BY id")]
    enterprises: dict[int, Enterprise] = {}
    items = []
    for account in accounts:
        enterprise = enterprises.get(account.enterprise_id) or get_enterprise(
            db, account.enterprise_id)
        assert enterprise is not None  # foreign key
        enterprises[enterprise.id] = enterprise
        if city is None or city in enterprise.regions:
            items.append(PendingItem(account, enterprise))
    return items


# --- registering ---------------------------------------------------------------------


def _clean_industries(industries: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(i.strip() for i in industries if i.strip()))


def _validate(credit_code: str, city: str, name: str) -> str:
    """Defensive re-check of what the dialog validated; returns the normalised code."""
    result = check_credit_code(credit_code)
    if not result.ok:
        raise ValueError(result.error)
    if not is_region(city):
        raise ValueError(f"unknown region: {city}")
    if not name.strip():
        raise ValueError("enterprise name is empty")
    return result.code


def register(
    db: Database,
    *,
    user_id: int,
    name: str,
    credit_code: str,
    city: str,
    county: str | None,
    industries: Sequence[str],
    contact_name: str,
    phone: str,
    now: dt.datetime,
    qualifiers: Mapping[str, str] | None = None,
) -> Registration:
    """Register ``user_id`` for the enterprise with ``credit_code``, atomically.

    ``qualifiers``: the applicant's answers to the plan's qualifiers (key → yes / no /
    unknown). A new or resubmitted enterprise takes them; a claim keeps them with the
    claim's details for staff, never over what the enterprise already has.

    * unknown code → new pending enterprise and pending founder account;
    * code previously rejected → the enterprise is updated with these details and
      set pending again, with this user as founder;
    * code registered (pending or approved) → a pending claim for this user;
    * user already bound (pending or approved) → nothing changes.

    The lookup and the insert happen under one write lock, so two users sending the
    same new code at the same moment yield one enterprise and one claim.
    """
    code = _validate(credit_code, city, name)
    stamp = to_db(now)
    with transaction(db):
        existing_account = _live_account(db, user_id)
        if existing_account is not None:
            enterprise = get_enterprise(db, existing_account.enterprise_id)
            assert enterprise is not None
            return Registration(Outcome.ALREADY_BOUND, enterprise, existing_account)
        rows = list(db.query("SELECT id, status FROM enterprises WHERE credit_code = ?", (code,)))
        details = (name.strip(), city, county, contact_name.strip(), phone)
        if not rows:
            cursor = db.execute(
                """INSERT INTO enterprises (name, city, county, contact_name, phone,
                       credit_code, status, created_at, updated_at)
                   VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)""",
                (*details, code, stamp, stamp),
            )
            assert cursor.lastrowid is not None
            enterprise_id, outcome, kind = cursor.lastrowid, Outcome.NEW, "founder"
            _set_industries(db, enterprise_id, industries)
        elif rows[0]["status"] == Status.REJECTED:
            enterprise_id, outcome, kind = rows[0]["id"], Outcome.RESUBMITTED, "founder"
            db.execute(
                """UPDATE enterprises SET name = ?, city = ?, county = ?, contact_name = ?,
                       phone = ?, status = 'pending', updated_at = ?,
                       decided_at = NULL, decided_by = NULL
                   WHERE id = ?""",
                (*details, stamp, enterprise_id),
            )
            _set_industries(db, enterprise_id, industries)
        else:
            enterprise_id, outcome, kind = rows[0]["id"], Outcome.CLAIM, "claim"
        if kind == "founder" and qualifiers:
            set_qualifiers(db, enterprise_id, qualifiers, actor_id=None, now=now)
        entered = {"name": name.strip(), "city": city, "county": county,
                   "industries": _clean_industries(industries),
                   **({"qualifiers": dict(qualifiers)} if qualifiers else {})}
        cursor = db.execute(
            """INSERT INTO accounts (user_id, enterprise_id, kind, status, contact_name, phone,
                   created_at, details)
               VALUES (?, ?, ?, 'pending', ?, ?, ?, ?)""",
            (user_id, enterprise_id, kind, contact_name.strip(), phone, stamp,
             json.dumps(entered, ensure_ascii=False)),
        )
        assert cursor.lastrowid is not None
        account = get_account(db, cursor.lastrowid)
        enterprise = get_enterprise(db, enterprise_id)
        assert account is not None and enterprise is not None
        return Registration(outcome, enterprise, account)


def _set_industries(db: Database, enterprise_id: int, industries: Iterable[str]) -> None:
    db.execute("DELETE FROM enterprise_industries WHERE enterprise_id = ?", (enterprise_id,))
    for industry in _clean_industries(industries):
        db.execute(
            "INSERT INTO enterprise_industries (enterprise_id, industry) VALUES (?, ?)",
            (enterprise_id, industry),
        )


# --- deciding ------------------------------------------------------------------------


def may_decide_for(
    db: Database, user_id: int, enterprise: Enterprise, admins: frozenset[int]
) -> bool:
    """Whether ``user_id`` may decide on ``enterprise``'s accounts: for one of its regions."""
    return any(may_decide(db, user_id, region, admins) for region in enterprise.regions)


def may_decide(db: Database, user_id: int, city: str, admins: frozenset[int]) -> bool:
    """Whether ``user_id`` may approve or reject registrations in ``city``: admins,
    and staff whose scope covers it."""
    role = role_of(db, user_id, admins)
    if role is Role.ADMIN:
        return True
    return role is Role.STAFF and scope_of(db, user_id).covers(city)


def speaks_for(db: Database, user_id: int, enterprise_id: int) -> bool:
    """Whether ``user_id`` has a live (pending or approved) account on the enterprise."""
    return bool(db.execute(
        """SELECT 1 FROM accounts WHERE user_id = ? AND enterprise_id = ?
           AND status IN ('pending', 'approved')""",
        (user_id, enterprise_id),
    ).fetchone())


def _pending_account(
    db: Database, account_id: int, decider_id: int, admins: frozenset[int]
) -> tuple[Account, Enterprise]:
    account = get_account(db, account_id)
    if account is None:
        raise LookupError(f"no account {account_id}")
    enterprise = get_enterprise(db, account.enterprise_id)
    assert enterprise is not None
    if account.user_id == decider_id or speaks_for(db, decider_id, enterprise.id):
        raise OwnCase(f"user {decider_id} may not decide on their own enterprise's case")
    if not may_decide_for(db, decider_id, enterprise, admins):
        raise NotAllowed(f"user {decider_id} may not decide for {enterprise.city}")
    if account.status is not Status.PENDING:
        raise AlreadyDecided(account)
    return account, enterprise


def _set_account(db: Database, account_id: int, status: Status, by: int, stamp: str) -> None:
    db.execute(
        "UPDATE accounts SET status = ?, decided_at = ?, decided_by = ? WHERE id = ?",
        (status.value, stamp, by, account_id),
    )


def _set_enterprise(db: Database, enterprise_id: int, status: Status, by: int, stamp: str) -> None:
    db.execute(
        """UPDATE enterprises SET status = ?, decided_at = ?, decided_by = ?, updated_at = ?
           WHERE id = ?""",
        (status.value, stamp, by, stamp, enterprise_id),
    )


def _take_details(db: Database, account: Account, stamp: str) -> None:
    """The enterprise takes what ``account``'s applicant entered (and their contact)."""
    details = account.details
    if details is None:
        return
    db.execute(
        """UPDATE enterprises SET name = ?, city = ?, county = ?, contact_name = ?, phone = ?,
               updated_at = ? WHERE id = ?""",
        (details.name, details.city, details.county, account.contact_name, account.phone,
         stamp, account.enterprise_id),
    )
    _set_industries(db, account.enterprise_id, details.industries)


def approve(
    db: Database, *, account_id: int, approver_id: int, admins: frozenset[int], now: dt.datetime
) -> Decision:
    """Approve a pending account. Approving any account of a pending enterprise also
    approves the enterprise, with that applicant's details: the approver has vouched
    for the company as this applicant described it."""
    stamp = to_db(now)
    with transaction(db):
        account, enterprise = _pending_account(db, account_id, approver_id, admins)
        _set_account(db, account.id, Status.APPROVED, approver_id, stamp)
        if enterprise.status is not Status.APPROVED:
            _take_details(db, account, stamp)
            _set_enterprise(db, enterprise.id, Status.APPROVED, approver_id, stamp)
        return _decision(db, account.id, enterprise.id)


def reject(
    db: Database, *, account_id: int, approver_id: int, admins: frozenset[int], now: dt.datetime
) -> Decision:
    """Reject a pending account, and only that account.

    Rejecting the founder of a pending enterprise used to reject the pending claims
    with it, which let a squatter's rejection turn the real company away. Now the
    oldest pending claim becomes the founder: the enterprise takes that applicant's
    details and stays pending for staff to decide (``Decision.promoted``). With no
    claim left, the enterprise is rejected (its code may be registered afresh).
    """
    stamp = to_db(now)
    with transaction(db):
        account, enterprise = _pending_account(db, account_id, approver_id, admins)
        _set_account(db, account.id, Status.REJECTED, approver_id, stamp)
        promoted: int | None = None
        if account.kind == "founder" and enterprise.status is Status.PENDING:
            claims = [
                row["id"]
                for row in db.query(
                    """SELECT id FROM accounts WHERE enterprise_id = ? AND status = 'pending'
                       ORDER BY id LIMIT 1""",
                    (enterprise.id,),
                )
            ]
            if claims:
                promoted = claims[0]
                db.execute("UPDATE accounts SET kind = 'founder' WHERE id = ?", (promoted,))
                heir = get_account(db, promoted)
                assert heir is not None
                _take_details(db, heir, stamp)
            else:
                _set_enterprise(db, enterprise.id, Status.REJECTED, approver_id, stamp)
        decision = _decision(db, account.id, enterprise.id)
        heir = get_account(db, promoted) if promoted is not None else None
        return replace(decision, promoted=heir)


def _decision(db: Database, account_id: int, enterprise_id: int) -> Decision:
    account = get_account(db, account_id)
    enterprise = get_enterprise(db, enterprise_id)
    assert account is not None and enterprise is not None
    return Decision(account, enterprise)
