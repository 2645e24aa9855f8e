"""Self-reports: append-only history, latest status, staff filters, overdue."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

from storage.credit_code import check_character, org_check_character
from storage.db import open_db
from storage.enterprises import register
from storage.progress import ReportFilter, latest_page
from storage.reports import (
    Attachment,
    ReportDraft,
    add_report,
    get_report,
    history,
    latest_by_task,
    report_for_token,
    reports_of,
)

T0 = dt.datetime(2021, 6, 1, 8, 0, tzinfo=dt.UTC)
# The plan's shape, as the knowledge base gives it (storage holds no constants of it).
TASKS = tuple(range(1, 27))
STATUSES = ("未开始", "进行中", "已完成", "不涉及")
OPEN = ("未开始", "进行中")


def code(n: int) -> str:
    body = f"{n:08d}"
    first17 = "91410100" + body + org_check_character(body)
    return first17 + check_character(first17)


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return open_db(tmp_path / "lvdong.db")


def enterprise(db: Database, n: int, city: str = "郑州市", industries: tuple[str, ...] = ()) -> int:
    reg = register(
        db,
        user_id=1000 + n,
        name=f"企业{n}",
        credit_code=code(n),
        city=city,
        county=None,
        industries=industries,
        contact_name="联系人",
        phone="13812345678",
        now=T0,
    )
    return reg.enterprise.id


def report(
    db: Database, eid: int, task: int, status: str, minutes: int = 0, **extra: object
) -> int:
    draft = ReportDraft(enterprise_id=eid, user_id=1, task=task, status=status, **extra)  # type: ignore[arg-type]
    return add_report(
        db, draft, T0 + dt.timedelta(minutes=minutes), task_numbers=TASKS, statuses=STATUSES
    )


def test_add_report_stores_everything_and_is_committed(db: Database, tmp_path: Path) -> None:
    eid = enterprise(db, 1)
    files = (
        Attachment("AgAD-photo", "uniq1", "photo", "image/jpeg", 12345, None),
        Attachment("BQAD-doc", "uniq2", "document", "application/pdf", 999, "验收报告.pdf"),
    )
    rid = add_report(
        db,
        ReportDraft(
            eid,
            1,
            5,
            "进行中",
            percent=60,
            description="已拆除2台",
            completion_date=dt.date(2021, 12, 31),
            from_pending=True,
            attachments=files,
        ),
        T0,
        task_numbers=TASKS,
        statuses=STATUSES,
    )
    other = sqlite3.connect(tmp_path / "lvdong.db")  # another connection sees it: committed
    assert other.execute("SELECT count(*) FROM reports").fetchone() == (1,)
    stored = get_report(db, rid)
    assert stored is not None
    assert (stored.task, stored.status, stored.percent) == (5, "进行中", 60)
    assert stored.completion_date == dt.date(2021, 12, 31)
    assert stored.from_pending and stored.created_at == T0
    assert stored.attachments == files


@pytest.mark.parametrize(
    "bad",
    [
        {"task": 27, "status": "进行中"},
        {"task": 0, "status": "进行中"},
        {"task": 1, "status": "差不多"},
        {"task": 1, "status": "进行中", "percent": 120},
    ],
)
def test_invalid_drafts_are_refused(db: Database, bad: dict[str, object]) -> None:
    eid = enterprise(db, 1)
    with pytest.raises(ValueError):
        add_report(db, ReportDraft(enterprise_id=eid, user_id=1, **bad), T0,  # type: ignore[arg-type]
                   task_numbers=TASKS, statuses=STATUSES)
    assert db.execute("SELECT count(*) FROM reports").fetchone() == (0,)


def test_the_plan_shape_comes_from_the_caller(db: Database) -> None:
    """Another plan's tasks and statuses: storage checks against what it is given."""
    eid = enterprise(db, 1)
    draft = ReportDraft(enterprise_id=eid, user_id=1, task=30, status="已验收")
    with pytest.raises(ValueError, match="no task 30"):
        add_report(db, draft, T0, task_numbers=TASKS, statuses=("已验收",))
    with pytest.raises(ValueError, match="已验收"):
        add_report(db, draft, T0, task_numbers=(30,), statuses=STATUSES)


def test_a_dialog_token_files_at_most_one_report(db: Database) -> None:
    """A confirm replayed after a crash (same dialog token) gets the first report back."""
    eid = enterprise(db, 1)
    draft = ReportDraft(enterprise_id=eid, user_id=1, task=3, status="进行中", token="d-1")
    first = add_report(db, draft, T0, task_numbers=TASKS, statuses=STATUSES)
    again = add_report(db, draft, T0, task_numbers=TASKS, statuses=STATUSES)
    assert again == first == report_for_token(db, "d-1")
    assert db.execute("SELECT count(*) FROM reports").fetchone() == (1,)
    other = add_report(db, ReportDraft(eid, 1, 3, "进行中", token="d-2"), T0,
                       task_numbers=TASKS, statuses=STATUSES)
    assert other != first and report_for_token(db, None) is None
    with pytest.raises(sqlite3.IntegrityError):  # the schema holds the rule too
        db.execute(
            """INSERT INTO reports (enterprise_id, user_id, task, status, from_pending,
                   created_at, dialog_token) VALUES (?, 1, 3, '进行中', 0, 'x', 'd-1')""",
            (eid,),
        )


def test_bad_attachment_rolls_back_the_whole_report(db: Database) -> None:
    eid = enterprise(db, 1)
    with pytest.raises(ValueError):
        add_report(
            db, ReportDraft(eid, 1, 1, "进行中", attachments=(Attachment("f", "u", "video"),)), T0,
            task_numbers=TASKS, statuses=STATUSES,
        )
    assert db.execute("SELECT count(*) FROM reports").fetchone() == (0,)


def test_reports_are_append_only(db: Database) -> None:
    rid = report(db, enterprise(db, 1), 3, "进行中")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("UPDATE reports SET status = '已完成' WHERE id = ?", (rid,))
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        db.execute("DELETE FROM reports WHERE id = ?", (rid,))


def test_history_keeps_every_report_on_a_task(db: Database) -> None:
    eid = enterprise(db, 1)
    report(db, eid, 3, "未开始", 0)
    report(db, eid, 3, "进行中", 10, percent=30)
    report(db, eid, 4, "不涉及", 15)
    report(db, eid, 3, "已完成", 20, percent=100)
    assert [r.status for r in history(db, eid, 3)] == ["未开始", "进行中", "已完成"]
    assert [r.percent for r in history(db, eid, 3)] == [None, 30, 100]
    assert history(db, eid, 9) == []


def test_reports_of_an_enterprise_newest_first_with_their_files(db: Database) -> None:
    eid = enterprise(db, 1)
    photo = Attachment("AgAD-photo", "uniq1", "photo", "image/jpeg", 12345, None)
    first = report(db, eid, 3, "进行中", 0, attachments=(photo,))
    second = report(db, eid, 4, "未开始", 5)
    report(db, enterprise(db, 2), 3, "未开始", 9)  # another enterprise's report
    reports = reports_of(db, eid)
    assert [r.id for r in reports] == [second, first]
    assert reports[1].attachments == (photo,) and reports[0].attachments == ()


def test_latest_by_task(db: Database) -> None:
    eid = enterprise(db, 1)
    report(db, eid, 3, "进行中", 0)
    report(db, eid, 3, "已完成", 5)
    report(db, eid, 7, "未开始", 1)
    report(db, enterprise(db, 2), 3, "未开始", 9)  # another enterprise's later report
    latest = latest_by_task(db, eid)
    assert {task: r.status for task, r in latest.items()} == {3: "已完成", 7: "未开始"}


def test_latest_wins_by_order_even_with_equal_timestamps(db: Database) -> None:
    eid = enterprise(db, 1)
    report(db, eid, 3, "进行中", 0)
    report(db, eid, 3, "已完成", 0)
    assert latest_by_task(db, eid)[3].status == "已完成"


@pytest.fixture
def province(db: Database) -> dict[str, int]:
    ids = {
        "zz_steel": enterprise(db, 1, "郑州市", ("钢铁",)),
        "zz_glass": enterprise(db, 2, "郑州市", ("玻璃",)),
        "ly_steel": enterprise(db, 3, "洛阳市", ("钢铁", "焦化")),
    }
    report(db, ids["zz_steel"], 3, "进行中", 0)
    report(db, ids["zz_steel"], 3, "已完成", 5)
    report(db, ids["zz_steel"], 4, "进行中", 6)
    report(db, ids["zz_glass"], 3, "进行中", 1)
    report(db, ids["ly_steel"], 3, "未开始", 2)
    report(db, ids["ly_steel"], 4, "不涉及", 3)
    return ids


def test_rejected_enterprises_are_left_out_of_staff_views(db: Database) -> None:
    from storage.enterprises import enterprise_of_user, reject

    eid = enterprise(db, 1)
    report(db, eid, 3, "进行中")
    membership = enterprise_of_user(db, 1001)
    assert membership is not None
    reject(db, account_id=membership.account.id, approver_id=9, admins=frozenset({9}), now=T0)
    assert latest_page(db, ReportFilter()) == ([], 0)
    assert history(db, eid, 3) != []  # the record itself stays
