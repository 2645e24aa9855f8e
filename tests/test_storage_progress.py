"""Staff views of progress: filters on the latest reports, overdue, silent, completion."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlite_utils import Database

from knowledge.model import EVERYONE, Audience
from storage.db import open_db
from storage.enterprises import approve, register
from storage.progress import (
    Approval,
    Due,
    ReportFilter,
    completion_by_city,
    completion_by_task,
    latest_page,
    latest_rows,
    overdue,
    silent,
)
from storage.reports import ReportDraft, add_report
from storage.reviews import Verdict, add_review
from tests.dialog_driver import credit_code

T0 = dt.datetime(2021, 6, 1, 8, 0, tzinfo=dt.UTC)
TASKS = tuple(range(1, 27))
STATUSES = ("未开始", "进行中", "已完成", "不涉及")
DONE = ("已完成", "不涉及")


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return open_db(tmp_path / "lvdong.db")


def enterprise(db: Database, n: int, city: str, industries: tuple[str, ...],
               approved: bool = True) -> int:
    reg = register(db, user_id=1000 + n, name=f"企业{n}", credit_code=credit_code(n), city=city,
                   county=None, industries=industries, contact_name="联系人",
                   phone="13812345678", now=T0)
    if approved:
        approve(db, account_id=reg.account.id, approver_id=9, admins=frozenset({9}), now=T0)
    return reg.enterprise.id


def report(db: Database, eid: int, task: int, status: str, days: int = 0) -> int:
    return add_report(db, ReportDraft(enterprise_id=eid, user_id=1, task=task, status=status,
                                      description="说明"),
                      T0 + dt.timedelta(days=days), task_numbers=TASKS, statuses=STATUSES)


@pytest.fixture
def province(db: Database) -> dict[str, int]:
    ids = {
        "zz_steel": enterprise(db, 1, "郑州市", ("钢铁",)),
        "zz_glass": enterprise(db, 2, "郑州市", ("玻璃",)),
        "ly_steel": enterprise(db, 3, "洛阳市", ("钢铁", "焦化")),
        "ly_silent": enterprise(db, 4, "洛阳市", ("钢铁",)),
        "zz_pending": enterprise(db, 5, "郑州市", ("钢铁",), approved=False),
    }
    report(db, ids["zz_steel"], 3, "进行中", 0)
    report(db, ids["zz_steel"], 3, "已完成", 5)
    report(db, ids["zz_steel"], 4, "进行中", 6)
    report(db, ids["zz_glass"], 3, "进行中", 1)
    report(db, ids["ly_steel"], 3, "未开始", 2)
    report(db, ids["ly_steel"], 4, "不涉及", 3)
    return ids


def pairs(db: Database, **filters: object) -> dict[tuple[int, int], str]:
    rows, total = latest_page(db, ReportFilter(**filters), limit=100)  # type: ignore[arg-type]
    assert total == len(rows)
    return {(r.enterprise_id, r.task): r.status for r in rows}


def test_latest_status_is_the_latest_report_and_filters_apply_to_it(
    db: Database, province: dict[str, int]
) -> None:
    assert pairs(db) == {
        (province["zz_steel"], 3): "已完成", (province["zz_steel"], 4): "进行中",
        (province["zz_glass"], 3): "进行中", (province["ly_steel"], 3): "未开始",
        (province["ly_steel"], 4): "不涉及",
    }
    ly = pairs(db, regions=frozenset({"洛阳市"}))
    assert set(ly) == {(province["ly_steel"], 3), (province["ly_steel"], 4)}
    steel3 = pairs(db, industries=frozenset({"钢铁"}), tasks=frozenset({3}))
    assert set(steel3) == {(province["zz_steel"], 3), (province["ly_steel"], 3)}
    # the latest status counts: zz_steel was 进行中 on task 3, now 已完成
    assert set(pairs(db, statuses=frozenset({"进行中"}), tasks=frozenset({3}))) == {
        (province["zz_glass"], 3)}
    week = pairs(db, since=dt.date(2021, 6, 3), until=dt.date(2021, 6, 6))
    assert set(week) == {(province["ly_steel"], 3), (province["ly_steel"], 4),
                         (province["zz_steel"], 3)}


def test_pages_and_scope(db: Database, province: dict[str, int]) -> None:
    first, total = latest_page(db, ReportFilter(), offset=0, limit=2)
    second, _ = latest_page(db, ReportFilter(), offset=2, limit=2)
    last, _ = latest_page(db, ReportFilter(), offset=4, limit=2)
    assert total == 5 and [len(first), len(second), len(last)] == [2, 2, 1]
    assert latest_page(db, ReportFilter(), offset=5, limit=2) == ([], 5)
    asked = ReportFilter(regions=frozenset({"郑州市"}))
    assert latest_page(db, asked.within(frozenset({"洛阳市"})), limit=10) == ([], 0)
    assert len(list(latest_rows(db, ReportFilter().within(frozenset({"郑州市"}))))) == 3


def test_pending_and_approved_and_reviews(db: Database, province: dict[str, int]) -> None:
    report(db, province["zz_pending"], 3, "进行中", 7)
    assert (province["zz_pending"], 3) in pairs(db)
    assert (province["zz_pending"], 3) not in pairs(db, approval=Approval.APPROVED)
    assert set(pairs(db, approval=Approval.PENDING)) == {(province["zz_pending"], 3)}
    rows, _ = latest_page(db, ReportFilter(regions=frozenset({"洛阳市"}), tasks=frozenset({3})))
    add_review(db, report_id=rows[0].report_id, reviewer_id=7, verdict=Verdict.PROBLEM,
               comment="照片不清楚", now=T0)
    add_review(db, report_id=rows[0].report_id, reviewer_id=7, verdict=Verdict.VERIFIED,
               comment="", now=T0)
    rows, _ = latest_page(db, ReportFilter(regions=frozenset({"洛阳市"}), tasks=frozenset({3})))
    assert rows[0].review == "verified"
    with pytest.raises(ValueError):
        add_review(db, report_id=rows[0].report_id, reviewer_id=7, verdict=Verdict.REJECTED,
                   comment=" ", now=T0)


def test_overdue_counts_those_who_never_reported(db: Database, province: dict[str, int]) -> None:
    steel = Audience.of_industries({"钢铁"})
    dues = [Due(3, dt.date(2021, 6, 30), steel), Due(4, dt.date(2021, 9, 30), steel)]
    assert overdue(db, dues, today=dt.date(2021, 6, 30), done=DONE).total == 0, "not on the day"
    july = overdue(db, dues, today=dt.date(2021, 7, 1), done=DONE)
    # task 3 (钢铁): zz_steel done; ly_steel 未开始; ly_silent never reported; pending left out
    assert {(r.enterprise_id, r.status) for r in july.rows} == {
        (province["ly_steel"], "未开始"), (province["ly_silent"], None)}
    assert july.by_city == {"洛阳市": 2} and july.by_task == {3: 2}
    october = overdue(db, dues, today=dt.date(2021, 10, 1), done=DONE)
    assert october.by_task == {3: 2, 4: 2}  # zz_steel 进行中 on 4; ly_silent; ly_steel 不涉及
    assert october.enterprises == 3
    zz = overdue(db, dues, today=dt.date(2021, 10, 1), done=DONE, regions=frozenset({"郑州市"}))
    assert [(r.city, r.task) for r in zz.rows] == [("郑州市", 4)]
    everyone = overdue(db, [Due(13, dt.date(2021, 10, 31), EVERYONE)], today=dt.date(2021, 11, 1),
                       done=DONE)
    assert everyone.enterprises == 4, "every approved enterprise, none reported on task 13"


def test_silent_are_approved_enterprises_that_never_reported(
    db: Database, province: dict[str, int]
) -> None:
    assert [r.enterprise_id for r in silent(db)] == [province["ly_silent"]]
    assert silent(db, regions=frozenset({"郑州市"})) == []


CONCERN = {3: Audience.of_industries({"钢铁", "玻璃"}), 4: Audience.of_industries({"钢铁"})}


def test_completion_by_city_and_by_task(db: Database, province: dict[str, int]) -> None:
    by_city = {c.key: c for c in completion_by_city(
        db, task=3, who=Audience.of_industries({"钢铁"}), done=DONE)}
    assert (by_city["郑州市"].concerned, by_city["郑州市"].done) == (1, 1)
    assert (by_city["洛阳市"].concerned, by_city["洛阳市"].reported, by_city["洛阳市"].done) == (
        2, 1, 0)
    by_task = {c.key: c for c in completion_by_task(
        db, concern=CONCERN, done=DONE)}
    assert (by_task["3"].concerned, by_task["3"].done) == (4, 1)
    assert (by_task["4"].concerned, by_task["4"].done) == (3, 1)
    glass = completion_by_task(db, concern=CONCERN, done=DONE, industry="玻璃")
    assert [(c.key, c.concerned) for c in glass] == [("3", 1)]
