"""The outbox, notices, audit log and invitations in storage."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

from storage import audit
from storage import outbox as box
from storage.audiences import Audience, AudienceKind
from storage.db import open_db
from storage.invites import InviteError, create_invite, redeem
from storage.notices import cancel_notice, create_notice, get_notice, notice_counts
from storage.outbox import DeliveryStatus, Message, Priority
from storage.users import Role, get_user, set_reachable, touch_user

T0 = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return open_db(tmp_path / "lvdong.sqlite")


def _message(key: str = "notice:1", text: str = "通知") -> Message:
    return Message(key=key, kind="notice", text=text)


def test_enqueue_is_idempotent_by_key_and_chat(db: Database) -> None:
    message_id, added = box.enqueue(db, _message(), [1, 2, 2, 3], now=T0)
    assert added == 3
    again_id, again = box.enqueue(db, _message(text="另一段文字"), [3, 4], now=T0)
    assert again_id == message_id and again == 1  # only chat 4 is new
    assert db.execute("SELECT text FROM outbox_messages").fetchall() == [("通知",)]
    assert box.counts(db, message_id)[DeliveryStatus.QUEUED] == 4


def test_due_takes_urgent_first_one_per_chat_and_respects_not_before(db: Database) -> None:
    box.enqueue(db, _message("bulk"), [1, 2, 3], now=T0)
    box.enqueue(db, _message("later"), [4], now=T0, not_before=T0 + dt.timedelta(hours=1))
    box.enqueue(db, _message("personal"), [1], now=T0, priority=Priority.PERSONAL)
    due = box.due(db, T0, 10)
    assert [(d.chat_id, d.text) for d in due][:1] == [(1, "通知")]
    assert sorted(d.chat_id for d in due) == [1, 2, 3], "one per chat, chat 4 not yet"
    first = due[0]
    assert box.due(db, T0, 10, skip=[first.id])[0].id != first.id
    assert box.next_due(db) == T0


def test_a_delivery_is_claimed_once_and_a_crash_leaves_it_uncertain(db: Database) -> None:
    message_id, _ = box.enqueue(db, _message(), [1, 2], now=T0)
    one, two = box.due(db, T0, 10)
    assert box.mark_sending(db, one.id, T0)
    assert not box.mark_sending(db, one.id, T0), "already claimed"
    box.finish(db, one.id, DeliveryStatus.SENT, T0, sent_message_id=77)
    assert box.mark_sending(db, two.id, T0)
    assert box.recover(db, T0) == 1  # the process died during the call
    counts = box.counts(db, message_id)
    assert counts[DeliveryStatus.SENT] == 1 and counts[DeliveryStatus.UNCERTAIN] == 1
    assert box.due(db, T0, 10) == [], "neither is sent again"
    assert box.requeue_uncertain(db, message_id, T0) == 1  # an official's explicit choice
    assert [d.chat_id for d in box.due(db, T0, 10)] == [2]


def test_retry_later_and_cancel(db: Database) -> None:
    message_id, _ = box.enqueue(db, _message(), [1, 2], now=T0)
    first = box.due(db, T0, 1)[0]
    box.mark_sending(db, first.id, T0)
    box.retry_later(db, first.id, T0 + dt.timedelta(seconds=30), T0, "429")
    assert [d.id for d in box.due(db, T0, 10)] != [first.id]
    assert box.cancel_message(db, message_id, T0) == 2
    assert box.due(db, T0 + dt.timedelta(minutes=1), 10) == []


def test_unreachable_users_are_not_called(db: Database) -> None:
    touch_user(db, 1, "甲", T0)
    set_reachable(db, 1, False, T0)
    message_id, _ = box.enqueue(db, _message(), [1, 2], now=T0)
    due = box.due(db, T0, 10)
    assert [(d.chat_id, d.reachable) for d in due] == [(1, False), (2, True)]
    assert box.block(db, due[0].id, T0) and not box.block(db, due[0].id, T0)
    assert [d.chat_id for d in box.due(db, T0, 10)] == [2]
    assert box.counts(db, message_id)[DeliveryStatus.BLOCKED] == 1


def test_a_final_status_is_required_to_finish(db: Database) -> None:
    box.enqueue(db, _message(), [1], now=T0)
    with pytest.raises(ValueError):
        box.finish(db, 1, DeliveryStatus.QUEUED, T0)


def test_notice_and_its_deliveries_commit_together_and_cancel_stops_the_rest(
    db: Database,
) -> None:
    notice = create_notice(
        db, by=7, audience=Audience(AudienceKind.CITY, "郑州市"), regions=["郑州市"],
        text="请按时填报", html="<b>通知</b>", recipients=[1, 2, 3],
        send_at=T0 + dt.timedelta(hours=2), now=T0,
    )
    assert notice.regions == {"郑州市"} and notice.message_id is not None
    assert notice_counts(db, notice)[DeliveryStatus.QUEUED] == 3
    assert box.due(db, T0, 10) == [], "scheduled for later"
    assert cancel_notice(db, notice.id, by=7, now=T0) == 3
    cancelled = get_notice(db, notice.id)
    assert cancelled is not None and cancelled.cancelled_at == T0
    assert notice_counts(db, cancelled)[DeliveryStatus.CANCELLED] == 3


def test_the_audit_log_is_append_only(db: Database) -> None:
    entry = audit.record(db, actor_id=1, action="grant", subject="user:2", now=T0, role="staff")
    [latest] = audit.latest(db)
    assert (latest.id, latest.action, latest.detail) == (entry, "grant", {"role": "staff"})
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("UPDATE audit_log SET action = 'x'")
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("DELETE FROM audit_log")


MAKERS = frozenset({1})  # the invitations' maker is a (settings) admin


def test_an_invitation_works_once_before_it_expires_and_only_its_hash_is_kept(
    db: Database,
) -> None:
    code, invite = create_invite(db, role=Role.STAFF, regions=["郑州市"], by=1, now=T0,
                                 valid_for=dt.timedelta(hours=1))
    assert code.startswith("inv_") and len(code) > 30
    stored = db.execute("SELECT code_hash FROM invites").fetchone()[0]
    assert code not in stored and len(stored) == 64
    used, user = redeem(db, code, user_id=42, now=T0 + dt.timedelta(minutes=5), admins=MAKERS)
    assert used.id == invite.id and user.role is Role.STAFF and user.scope.regions == {"郑州市"}
    with pytest.raises(InviteError) as again:
        redeem(db, code, user_id=43, now=T0 + dt.timedelta(minutes=6), admins=MAKERS)
    assert again.value.reason == "used"
    assert get_user(db, 43) is None
    late, _ = create_invite(db, role=Role.OFFICIAL, regions=(), by=1, now=T0,
                            valid_for=dt.timedelta(hours=1))
    with pytest.raises(InviteError) as expired:
        redeem(db, late, user_id=44, now=T0 + dt.timedelta(hours=1), admins=MAKERS)
    assert expired.value.reason == "expired"
    with pytest.raises(InviteError) as unknown:
        redeem(db, "inv_nonsense", user_id=44, now=T0, admins=MAKERS)
    assert unknown.value.reason == "unknown"
