"""Who a reminder concerns: one query gives the open ones, the done ones and their cities."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest
from sqlite_utils import Database

from knowledge.loader import load_kb
from knowledge.model import EVERYONE, NOBODY, Audience
from storage.audiences import Audience as NoticeAudience
from storage.audiences import (
    AudienceKind,
    Concerned,
    audience_enterprises,
    concerned,
    select_enterprises,
)
from storage.db import open_db
from storage.enterprises import approve, enterprise_of_user
from storage.qualifiers import set_qualifiers
from storage.users import Scope
from tests.test_storage_reports import T0, enterprise, report

DONE = ("已完成", "不涉及")
ADMIN = 900


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return open_db(tmp_path / "lvdong.db")


def approved(db: Database, n: int, city: str, industries: tuple[str, ...]) -> int:
    eid = enterprise(db, n, city, industries)
    membership = enterprise_of_user(db, 1000 + n)
    assert membership is not None
    approve(db, account_id=membership.account.id, approver_id=ADMIN,
            admins=frozenset({ADMIN}), now=T0)
    return eid


def test_concerned_marks_who_is_done_and_agrees_with_select_enterprises(
    db: Database,
) -> None:
    zz_done = approved(db, 1, "郑州市", ("铸造",))
    zz_open = approved(db, 2, "郑州市", ("铸造",))
    ly_open = approved(db, 3, "洛阳市", ("铸造",))
    approved(db, 4, "郑州市", ("化工",))  # another industry
    enterprise(db, 5, "郑州市", ("铸造",))  # not approved yet
    report(db, zz_done, 16, "进行中", 0)
    report(db, zz_done, 16, "已完成", 5)  # the latest report counts
    report(db, zz_open, 16, "已完成", 0)
    report(db, zz_open, 16, "进行中", 5)

    casting = Audience.of_industries(["铸造"])
    rows = concerned(db, regions=(), who=casting, task=16, done=DONE)
    assert rows == [Concerned(zz_done, "郑州市", True), Concerned(zz_open, "郑州市", False),
                    Concerned(ly_open, "洛阳市", False)]
    assert [r.id for r in rows if not r.done] == select_enterprises(
        db, industries=["铸造"], task=16, not_done=DONE)
    assert [r.id for r in concerned(db, regions=["洛阳市"], who=EVERYONE, task=16,
                                    done=DONE)] == [ly_open]
    assert concerned(db, regions=(), who=Audience.of_industries([]), task=16, done=DONE) == []
    assert concerned(db, regions=(), who=NOBODY, task=16, done=DONE) == []
    assert not any(r.done for r in concerned(db, regions=(), who=EVERYONE, task=16, done=()))


def test_a_task_audience_follows_the_knowledge_base_with_qualifiers(db: Database) -> None:
    """/notify 任务25: only the enterprises that said they are 土壤污染重点监管单位, not
    done with it; 不清楚 and 否 are not concerned; government work reaches nobody."""
    kb = load_kb()
    yes = approved(db, 1, "郑州市", ("化工",))
    unsure = approved(db, 2, "郑州市", ("化工",))
    no = approved(db, 3, "郑州市", ("化工",))
    done = approved(db, 4, "洛阳市", ("铸造",))
    for eid, value in ((yes, "yes"), (unsure, "unknown"), (no, "no"), (done, "yes")):
        set_qualifiers(db, eid, {"soil_key_unit": value}, actor_id=None, now=T0)
    report(db, done, 25, "已完成")
    ask = partial(audience_enterprises, db, scope=Scope(), concern=kb.concern(), done=DONE)
    assert ask(NoticeAudience(AudienceKind.TASK, "25")) == [yes]
    assert ask(NoticeAudience(AudienceKind.TASK, "19")) == [], "government work"
    assert ask(NoticeAudience(AudienceKind.TASK, "26")) == [yes, unsure, no], "化工"
