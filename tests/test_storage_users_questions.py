"""Users and roles; the question log and feedback."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlite_utils import Database

from storage.db import open_db
from storage.questions import (
    feedback_summary,
    get_question,
    log_question,
    record_feedback,
    unanswered,
)
from storage.users import (
    Role,
    Scope,
    get_user,
    grant_role,
    revoke_role,
    role_of,
    set_reachable,
    touch_user,
    users_covering,
)

T0 = dt.datetime(2021, 6, 1, 8, 0, tzinfo=dt.UTC)
ADMINS = frozenset({1})


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return open_db(tmp_path / "lvdong.db")


def test_touch_user_creates_then_updates_name_and_last_seen(db: Database) -> None:
    touch_user(db, 10, "张三", T0)
    touch_user(db, 10, "张三丰", T0 + dt.timedelta(hours=1))
    user = get_user(db, 10)
    assert user is not None
    assert user.name == "张三丰"
    assert user.first_seen == T0
    assert user.last_seen == T0 + dt.timedelta(hours=1)
    assert user.role is Role.ENTERPRISE


def test_unknown_user_is_enterprise(db: Database) -> None:
    assert role_of(db, 999, ADMINS) is Role.ENTERPRISE


def test_settings_admins_win_over_stored_role(db: Database) -> None:
    grant_role(db, 1, Role.OFFICIAL, (), T0)
    assert role_of(db, 1, ADMINS) is Role.ADMIN
    assert role_of(db, 1, frozenset()) is Role.OFFICIAL


def test_grant_role_keeps_name_and_sets_scope(db: Database) -> None:
    touch_user(db, 10, "李四", T0)
    grant_role(db, 10, Role.STAFF, ["郑州市", "洛阳市"], T0)
    user = get_user(db, 10)
    assert user is not None and user.name == "李四"
    assert (user.role, user.scope) == (Role.STAFF, Scope(frozenset({"郑州市", "洛阳市"})))
    assert user.scope.describe() == "郑州市、洛阳市" and not user.scope.province
    grant_role(db, 10, Role.ENTERPRISE, (), T0)
    assert role_of(db, 10, ADMINS) is Role.ENTERPRISE
    assert get_user(db, 10).scope.province  # type: ignore[union-attr]


def test_officials_have_scopes_too_and_revoking_clears_them(db: Database) -> None:
    grant_role(db, 11, Role.OFFICIAL, ["郑州市"], T0)
    assert get_user(db, 11).scope.regions == {"郑州市"}  # type: ignore[union-attr]
    revoked = revoke_role(db, 11, T0)
    assert revoked is not None and revoked.role is Role.ENTERPRISE and revoked.scope.province
    assert revoke_role(db, 999, T0) is None


def test_grant_role_refuses_cities_for_other_roles_and_unknown_cities(db: Database) -> None:
    with pytest.raises(ValueError):
        grant_role(db, 10, Role.ENTERPRISE, ["郑州市"], T0)
    with pytest.raises(ValueError):
        grant_role(db, 10, Role.ADMIN, ["郑州市"], T0)
    with pytest.raises(ValueError):
        grant_role(db, 10, Role.STAFF, ["北京市"], T0)


def test_users_covering_a_region_include_province_wide_ones_only_of_that_role(
    db: Database,
) -> None:
    grant_role(db, 20, Role.STAFF, ["郑州市"], T0)
    grant_role(db, 21, Role.STAFF, (), T0)
    grant_role(db, 22, Role.STAFF, ["洛阳市", "郑州市"], T0)
    grant_role(db, 23, Role.OFFICIAL, (), T0)
    assert users_covering(db, Role.STAFF, "郑州市") == [20, 21, 22]
    assert users_covering(db, Role.STAFF, "洛阳市") == [21, 22]
    assert users_covering(db, Role.STAFF, "滑县") == [21]
    assert users_covering(db, Role.OFFICIAL, "滑县") == [23]


def test_a_blocked_user_is_reachable_again_once_they_write(db: Database) -> None:
    touch_user(db, 30, "王五", T0)
    assert set_reachable(db, 30, False, T0)
    assert not set_reachable(db, 30, False, T0)  # no change
    assert get_user(db, 30).reachable is False  # type: ignore[union-attr]
    touch_user(db, 30, "王五", T0 + dt.timedelta(minutes=1))
    assert get_user(db, 30).reachable is True  # type: ignore[union-attr]


# --- questions -----------------------------------------------------------------------


def ask(db: Database, text: str, *, answered: bool = True, confident: bool = True) -> int:
    return log_question(
        db,
        user_id=5,
        chat_id=5,
        text=text,
        answered=answered,
        confident=confident,
        sources=["二（一）2"],
        now=T0,
    )


def test_log_question_returns_id_and_stores_sources(db: Database) -> None:
    qid = ask(db, "燃煤锅炉什么时候淘汰？")
    question = get_question(db, qid)
    assert question is not None
    assert question.text == "燃煤锅炉什么时候淘汰？"
    assert question.sources == ("二（一）2",)
    assert question.created_at == T0
    assert ask(db, "第二个") == qid + 1


def test_unanswered_newest_first_with_limit(db: Database) -> None:
    ask(db, "答了")
    a = ask(db, "没答1", answered=False)
    b = ask(db, "没答2", answered=False)
    c = ask(db, "没把握", confident=False)
    assert [q.id for q in unanswered(db, 10)] == [b, a]
    assert [q.id for q in unanswered(db, 1)] == [b]
    assert [q.id for q in unanswered(db, 10, include_unsure=True)] == [c, b, a]


def test_feedback_one_vote_per_user_changed_mind_overwrites(db: Database) -> None:
    qid = ask(db, "问题")
    record_feedback(db, question_id=qid, user_id=7, useful=True, now=T0)
    record_feedback(db, question_id=qid, user_id=7, useful=False, now=T0)
    record_feedback(db, question_id=qid, user_id=8, useful=False, now=T0)
    summary = feedback_summary(db)
    assert (summary.useful_votes, summary.not_useful_votes) == (0, 2)
    assert summary.least_useful[0].question.id == qid
    assert summary.least_useful[0].not_useful == 2


def test_feedback_summary_counts(db: Database) -> None:
    assert feedback_summary(db).questions == 0
    good = ask(db, "好")
    ask(db, "没答", answered=False, confident=False)
    record_feedback(db, question_id=good, user_id=7, useful=True, now=T0)
    summary = feedback_summary(db)
    assert (summary.questions, summary.answered, summary.confident) == (2, 1, 1)
    assert summary.useful_votes == 1 and summary.least_useful == ()


def test_feedback_on_unknown_question(db: Database) -> None:
    with pytest.raises(LookupError):
        record_feedback(db, question_id=404, user_id=7, useful=True, now=T0)
