"""Invitations die with their maker (issue 14, item 2): a revoked or narrowed maker's
open invitations are voided, /invites lists and withdraws open ones, all audited."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from knowledge.engine import Engine
from storage import audit
from storage.db import open_db
from storage.invites import InviteError, create_invite, open_invites, redeem
from storage.users import Role, get_user, grant_role, revoke_role
from tests.bot_harness import running_bot
from tests.dialog_driver import Chat

ADMIN = 900  # a settings admin (tests/bot_harness.py)
OTHER_ADMIN = 901  # an admin by grant, who will be revoked or narrowed
NOW = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


def _code(reply: str) -> str:
    match = re.search(r"start=(inv_[\w-]+)", reply)
    assert match, reply
    return match[1]


async def test_a_revoked_admins_invitations_no_longer_work(
    tmp_path: Path, engine: Engine
) -> None:
    async with running_bot(tmp_path, engine=engine, flood_burst=100) as bot:
        admin, other = Chat(bot, ADMIN), Chat(bot, OTHER_ADMIN)
        await admin.say(f"/grant {OTHER_ADMIN} admin")
        code = _code(await other.say("/invite admin"))
        second = _code(await other.say("/invite staff 郑州"))
        assert "撤销" in await admin.say(f"/revoke {OTHER_ADMIN}")

        refused = await other.say(f"/start {code}")
        assert "已失效" in refused and "欢迎" not in refused
        assert "已失效" in await Chat(bot, 4545).say(f"/start {second}")
        for user in (OTHER_ADMIN, 4545):
            stored = get_user(bot.db, user)
            assert stored is None or stored.role is Role.ENTERPRISE
        voided = [e for e in audit.latest(bot.db, 20) if e.action == "invite_void"]
        assert len(voided) == 2 and {e.detail["reason"] for e in voided} == {"maker_changed"}
        assert "作废邀请" in await admin.say("/audit")


async def test_invites_lists_open_invitations_and_withdraws_them(
    tmp_path: Path, engine: Engine
) -> None:
    async with running_bot(tmp_path, engine=engine, flood_burst=100) as bot:
        admin = Chat(bot, ADMIN)
        assert "没有未使用的邀请" in await admin.say("/invites")
        code = _code(await admin.say("/invite official 郑州 洛阳"))
        used = _code(await admin.say("/invite staff"))
        await Chat(bot, 4646).say(f"/start {used}")

        listing = await admin.say("/invites")
        assert "业务处室（郑州市、洛阳市）" in listing and f"用户{ADMIN}" in listing
        assert "有效至" in listing and "工作人员" not in listing, "used ones are not open"
        assert "没有权限使用 /invites" in await Chat(bot, 4646).say("/invites")

        withdrawn = await admin.press("撤回 #1")
        assert "已撤回邀请 #1" in withdrawn
        assert "已失效" in await Chat(bot, 4747).say(f"/start {code}")
        again = await bot.click(ADMIN, ADMIN, bot.last_message_id(ADMIN), "invx:1")
        assert any("已失效" in str(c.params) or "已使用" in str(c.params) for c in again)
        entries = [e for e in audit.latest(bot.db, 20) if e.action == "invite_withdraw"]
        assert [e.subject for e in entries] == ["invite:1"]


def test_a_narrowed_maker_keeps_only_the_invitations_within_the_new_scope(
    tmp_path: Path,
) -> None:
    db = open_db(tmp_path / "lvdong.sqlite")
    grant_role(db, 77, Role.STAFF, ["郑州市", "洛阳市"], NOW)
    kept, _ = create_invite(db, role=Role.STAFF, regions=["郑州市"], by=77, now=NOW,
                            valid_for=DAY)
    lost, _ = create_invite(db, role=Role.STAFF, regions=["洛阳市"], by=77, now=NOW,
                            valid_for=DAY)
    grant_role(db, 77, Role.STAFF, ["郑州市"], NOW, by=ADMIN)
    assert [i.scope.regions for i in open_invites(db, NOW)] == [frozenset({"郑州市"})]
    with pytest.raises(InviteError) as refused:
        redeem(db, lost, user_id=88, now=NOW, admins=frozenset())
    assert refused.value.reason == "withdrawn"
    _, user = redeem(db, kept, user_id=88, now=NOW, admins=frozenset())
    assert user.role is Role.STAFF and user.scope.regions == {"郑州市"}

    grant_role(db, 78, Role.ADMIN, (), NOW)
    code, _ = create_invite(db, role=Role.ADMIN, regions=(), by=78, now=NOW, valid_for=DAY)
    grant_role(db, 78, Role.STAFF, ["郑州市"], NOW, by=ADMIN)  # an admin narrowed to staff
    with pytest.raises(InviteError):
        redeem(db, code, user_id=89, now=NOW, admins=frozenset())
    revoke_role(db, 77, NOW, by=ADMIN)
    assert open_invites(db, NOW) == []


def test_a_settings_admin_taken_out_of_the_settings_loses_their_invitations(
    tmp_path: Path,
) -> None:
    """A settings admin's role is not in the database: the check at redeem time decides."""
    db = open_db(tmp_path / "lvdong.sqlite")
    code, _ = create_invite(db, role=Role.ADMIN, regions=(), by=ADMIN, now=NOW, valid_for=DAY)
    with pytest.raises(InviteError) as refused:
        redeem(db, code, user_id=99, now=NOW, admins=frozenset({902}))
    assert refused.value.reason == "withdrawn"
    _, user = redeem(db, code, user_id=99, now=NOW, admins=frozenset({ADMIN}))
    assert user.role is Role.ADMIN
