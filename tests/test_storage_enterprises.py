"""Registration, claims and decisions."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlite_utils import Database

from storage.credit_code import check_character, org_check_character
from storage.db import open_db
from storage.enterprises import (
    AlreadyDecided,
    NotAllowed,
    Outcome,
    Status,
    accounts_of,
    approve,
    enterprise_of_user,
    find_by_code,
    may_decide,
    may_decide_for,
    pending_for_city,
    register,
    reject,
)
from storage.users import Role, grant_role

T0 = dt.datetime(2021, 6, 1, 8, 0, tzinfo=dt.UTC)
ADMINS = frozenset({1})
ZZ_STAFF, LY_STAFF, PROVINCE_STAFF, OFFICIAL = 20, 21, 22, 23


def code(n: int, division: str = "410100") -> str:
    body = f"{n:08d}"
    first17 = "91" + division + body + org_check_character(body)
    return first17 + check_character(first17)


@pytest.fixture
def db(tmp_path: Path) -> Database:
    db = open_db(tmp_path / "lvdong.db")
    grant_role(db, ZZ_STAFF, Role.STAFF, ["郑州市"], T0)
    grant_role(db, LY_STAFF, Role.STAFF, ["洛阳市"], T0)
    grant_role(db, PROVINCE_STAFF, Role.STAFF, (), T0)
    grant_role(db, OFFICIAL, Role.OFFICIAL, (), T0)
    return db


def sign_up(db: Database, user_id: int, n: int = 1, **changes: Any) -> Any:
    fields: dict[str, Any] = {
        "user_id": user_id,
        "name": "郑州某钢铁有限公司",
        "credit_code": code(n),
        "city": "郑州市",
        "county": "中牟县",
        "industries": ["钢铁", "焦化", "钢铁"],
        "contact_name": "王经理",
        "phone": "13812345678",
        "now": T0,
    }
    fields.update(changes)
    return register(db, **fields)


def test_new_enterprise_is_pending_with_founder(db: Database) -> None:
    reg = sign_up(db, 100)
    assert reg.outcome is Outcome.NEW
    assert reg.enterprise.status is Status.PENDING
    assert reg.enterprise.industries == ("焦化", "钢铁")  # de-duplicated, child table
    assert (reg.account.kind, reg.account.status) == ("founder", Status.PENDING)
    membership = enterprise_of_user(db, 100)
    assert membership is not None and membership.enterprise.id == reg.enterprise.id
    assert not membership.can_report, "not before approval: a founder may be a squatter"
    assert reg.account.details is not None and reg.account.details.county == "中牟县"


def test_register_normalises_the_code(db: Database) -> None:
    reg = sign_up(db, 100, credit_code=" " + code(1).lower() + " ")
    assert reg.enterprise.credit_code == code(1)
    assert find_by_code(db, code(1).lower()) == reg.enterprise


def test_register_refuses_invalid_code_and_region(db: Database) -> None:
    good = code(1)
    wrong_check = good[:17] + ("1" if good[17] == "0" else "0")
    with pytest.raises(ValueError):
        sign_up(db, 100, credit_code=wrong_check)
    with pytest.raises(ValueError):
        sign_up(db, 100, city="北京市")
    assert db.execute("SELECT count(*) FROM enterprises").fetchone() == (0,)


def test_second_account_claiming_same_code_is_a_pending_claim(db: Database) -> None:
    first = sign_up(db, 100)
    second = sign_up(db, 101, name="别的名字", contact_name="赵会计", phone="0371-12345678")
    assert second.outcome is Outcome.CLAIM
    assert second.enterprise.id == first.enterprise.id
    assert second.enterprise.name == "郑州某钢铁有限公司"  # a claim does not rewrite it
    assert (second.account.kind, second.account.status) == ("claim", Status.PENDING)
    assert second.account.phone == "0371-12345678"
    assert second.account.details.name == "别的名字", "what the claimant entered is kept"
    membership = enterprise_of_user(db, 101)
    assert membership is not None and not membership.can_report
    assert db.execute("SELECT count(*) FROM enterprises").fetchone() == (1,)


def test_user_already_bound_changes_nothing(db: Database) -> None:
    first = sign_up(db, 100)
    again = sign_up(db, 100, n=2)
    assert again.outcome is Outcome.ALREADY_BOUND
    assert again.enterprise.id == first.enterprise.id
    assert db.execute("SELECT count(*) FROM enterprises").fetchone() == (1,)


def test_pending_for_city_and_province(db: Database) -> None:
    zz = sign_up(db, 100)
    ly = sign_up(db, 200, n=2, city="洛阳市", credit_code=code(2, "410305"))
    claim = sign_up(db, 101)
    assert [p.account.id for p in pending_for_city(db, "郑州市")] == [
        zz.account.id,
        claim.account.id,
    ]
    assert [p.account.id for p in pending_for_city(db, "洛阳市")] == [ly.account.id]
    everything = pending_for_city(db, None)
    assert len(everything) == 3 and everything[0].is_new_enterprise
    assert not everything[2].is_new_enterprise


def test_who_may_decide(db: Database) -> None:
    assert may_decide(db, ZZ_STAFF, "郑州市", ADMINS)
    assert not may_decide(db, ZZ_STAFF, "洛阳市", ADMINS)
    assert may_decide(db, PROVINCE_STAFF, "滑县", ADMINS)
    assert may_decide(db, 1, "洛阳市", ADMINS)  # settings admin
    assert not may_decide(db, OFFICIAL, "郑州市", ADMINS)
    assert not may_decide(db, 100, "郑州市", ADMINS)


def test_approve_founder_approves_enterprise(db: Database) -> None:
    reg = sign_up(db, 100)
    later = T0 + dt.timedelta(days=1)
    decision = approve(
        db, account_id=reg.account.id, approver_id=ZZ_STAFF, admins=ADMINS, now=later
    )
    assert decision.account.status is Status.APPROVED
    assert decision.enterprise.status is Status.APPROVED
    assert decision.enterprise.decided_by == ZZ_STAFF
    assert pending_for_city(db, "郑州市") == []


def test_staff_of_another_city_may_not_approve(db: Database) -> None:
    reg = sign_up(db, 100)
    with pytest.raises(NotAllowed):
        approve(db, account_id=reg.account.id, approver_id=LY_STAFF, admins=ADMINS, now=T0)
    membership = enterprise_of_user(db, 100)
    assert membership is not None and membership.account.status is Status.PENDING


def test_deciding_twice_raises_already_decided(db: Database) -> None:
    reg = sign_up(db, 100)
    approve(db, account_id=reg.account.id, approver_id=ZZ_STAFF, admins=ADMINS, now=T0)
    with pytest.raises(AlreadyDecided) as caught:
        reject(db, account_id=reg.account.id, approver_id=PROVINCE_STAFF, admins=ADMINS, now=T0)
    assert caught.value.account.decided_by == ZZ_STAFF


def test_claim_approved_after_enterprise(db: Database) -> None:
    reg = sign_up(db, 100)
    claim = sign_up(db, 101)
    approve(db, account_id=reg.account.id, approver_id=ZZ_STAFF, admins=ADMINS, now=T0)
    decision = approve(db, account_id=claim.account.id, approver_id=1, admins=ADMINS, now=T0)
    assert decision.account.status is Status.APPROVED
    membership = enterprise_of_user(db, 101)
    assert membership is not None and membership.can_report


def test_claim_rejected_leaves_enterprise_alone(db: Database) -> None:
    reg = sign_up(db, 100)
    approve(db, account_id=reg.account.id, approver_id=ZZ_STAFF, admins=ADMINS, now=T0)
    claim = sign_up(db, 101)
    decision = reject(db, account_id=claim.account.id, approver_id=ZZ_STAFF, admins=ADMINS, now=T0)
    assert decision.account.status is Status.REJECTED
    assert decision.enterprise.status is Status.APPROVED
    assert enterprise_of_user(db, 101) is None
    assert enterprise_of_user(db, 100) is not None


def test_rejecting_a_squatting_founder_keeps_the_real_company_pending(db: Database) -> None:
    """The squatter registered a Zhengzhou code as 洛阳市; the real company claimed it.
    Rejecting the squatter must not turn the real company away: its claim becomes the
    founder and the enterprise takes its details."""
    squatter = sign_up(db, 100, name="冒名公司", city="洛阳市", county="涧西区")
    real = sign_up(db, 101, name="郑州某钢铁有限公司", county="中牟县", industries=["钢铁"],
                   contact_name="真联系人", phone="0371-12345678")
    other = sign_up(db, 102, name="另一个申请")
    decision = reject(db, account_id=squatter.account.id, approver_id=ZZ_STAFF, admins=ADMINS,
                      now=T0)
    assert decision.account.status is Status.REJECTED
    rejected = [a.id for a in accounts_of(db, decision.enterprise.id)
                if a.status is Status.REJECTED]
    assert rejected == [squatter.account.id], "that account only"
    assert decision.promoted is not None and decision.promoted.id == real.account.id
    assert (decision.promoted.kind, decision.promoted.status) == ("founder", Status.PENDING)
    enterprise = decision.enterprise
    assert enterprise.status is Status.PENDING
    assert (enterprise.name, enterprise.city, enterprise.county) == (
        "郑州某钢铁有限公司", "郑州市", "中牟县")
    assert (enterprise.contact_name, enterprise.phone) == ("真联系人", "0371-12345678")
    assert enterprise.industries == ("钢铁",)
    statuses = {a.user_id: (a.kind, a.status) for a in accounts_of(db, enterprise.id)}
    assert statuses[102] == ("claim", Status.PENDING), "the other claim is untouched"
    assert enterprise_of_user(db, 100) is None
    approve(db, account_id=real.account.id, approver_id=ZZ_STAFF, admins=ADMINS, now=T0)
    membership = enterprise_of_user(db, 101)
    assert membership is not None and membership.can_report
    assert other.account.id in {p.account.id for p in pending_for_city(db, "郑州市")}


def test_rejecting_the_only_founder_rejects_the_enterprise(db: Database) -> None:
    reg = sign_up(db, 100)
    decision = reject(db, account_id=reg.account.id, approver_id=ZZ_STAFF, admins=ADMINS, now=T0)
    assert decision.enterprise.status is Status.REJECTED and decision.promoted is None
    assert enterprise_of_user(db, 100) is None


def test_approving_a_claim_of_a_pending_enterprise_takes_its_details(db: Database) -> None:
    sign_up(db, 100, name="冒名公司", city="洛阳市", county="涧西区")
    real = sign_up(db, 101, name="郑州某钢铁有限公司", county="中牟县")
    decision = approve(db, account_id=real.account.id, approver_id=ZZ_STAFF, admins=ADMINS,
                       now=T0)
    assert decision.enterprise.status is Status.APPROVED
    assert (decision.enterprise.name, decision.enterprise.city) == ("郑州某钢铁有限公司", "郑州市")


def test_the_code_region_decides_too(db: Database) -> None:
    """A Zhengzhou code registered as 洛阳市 reaches Zhengzhou's staff as well."""
    reg = sign_up(db, 100, city="洛阳市", county="涧西区", credit_code=code(5, "410105"))
    assert reg.enterprise.code_region == "郑州市"
    assert reg.enterprise.regions == ("洛阳市", "郑州市")
    assert may_decide_for(db, ZZ_STAFF, reg.enterprise, ADMINS)
    assert may_decide_for(db, LY_STAFF, reg.enterprise, ADMINS)
    assert [p.account.id for p in pending_for_city(db, "郑州市")] == [reg.account.id]
    assert [p.account.id for p in pending_for_city(db, "洛阳市")] == [reg.account.id]
    matching = sign_up(db, 200, n=6, city="洛阳市", credit_code=code(6, "410305"))
    assert matching.enterprise.regions == ("洛阳市",)
    assert not may_decide_for(db, ZZ_STAFF, matching.enterprise, ADMINS)
    direct = sign_up(db, 300, n=7, city="巩义市", credit_code=code(7, "410181"))
    assert direct.enterprise.regions == ("巩义市",)
    provincial = sign_up(db, 400, n=8, city="郑州市", credit_code=code(8, "410000"))
    assert provincial.enterprise.regions == ("郑州市",)


def test_rejected_code_can_be_registered_again(db: Database) -> None:
    reg = sign_up(db, 100)
    reject(db, account_id=reg.account.id, approver_id=ZZ_STAFF, admins=ADMINS, now=T0)
    again = sign_up(db, 100, name="郑州某钢铁股份有限公司", industries=["钢铁"])
    assert again.outcome is Outcome.RESUBMITTED
    assert again.enterprise.id == reg.enterprise.id
    assert again.enterprise.status is Status.PENDING
    assert again.enterprise.name == "郑州某钢铁股份有限公司"
    assert again.enterprise.industries == ("钢铁",)
    assert again.enterprise.decided_by is None
    assert len(accounts_of(db, reg.enterprise.id)) == 2


def test_simultaneous_registrations_of_one_code_give_one_enterprise(tmp_path: Path) -> None:
    path = tmp_path / "race.db"
    open_db(path).close()
    outcomes: list[Outcome] = []
    barrier = threading.Barrier(4)

    def worker(user_id: int) -> None:
        conn = open_db(path)
        barrier.wait()
        outcomes.append(sign_up(conn, user_id, n=7).outcome)
        conn.close()

    threads = [threading.Thread(target=worker, args=(300 + i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == sorted([Outcome.NEW] + [Outcome.CLAIM] * 3)
    check = open_db(path)
    assert check.execute("SELECT count(*) FROM enterprises").fetchone() == (1,)
