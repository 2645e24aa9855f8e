"""Issue 17: who holds which role (/roles), one's own id (/myid), /revoke on a plain user."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.engine import Engine
from storage.users import Role, grant_role, touch_user
from tests.bot_harness import FakeClock, RunningBot, running_bot
from tests.dialog_driver import Chat

ADMIN = 900


@pytest.fixture
async def bot(tmp_path: Path, engine: Engine) -> object:
    clock = FakeClock()
    async with running_bot(tmp_path, engine=engine, clock=clock, admins=frozenset({ADMIN}),
                           flood_burst=10_000) as running:
        touch_user(running.db, 3001, "王处长", clock())
        grant_role(running.db, 3001, Role.OFFICIAL, ["郑州市"], clock())
        grant_role(running.db, 20, Role.STAFF, ["洛阳市"], clock())
        grant_role(running.db, 22, Role.STAFF, (), clock())
        grant_role(running.db, 905, Role.ADMIN, (), clock())
        touch_user(running.db, 5555, "企业用户", clock())
        yield running


async def test_anyone_learns_their_own_id(bot: RunningBot) -> None:
    assert "4242" in await Chat(bot, 4242).say("/myid")


async def test_roles_lists_who_holds_which_role_by_city(bot: RunningBot) -> None:
    admin = Chat(bot, ADMIN)
    listed = await admin.say("/roles")
    assert "王处长（ID 3001）" in listed and "郑州市" in listed
    assert "ID 20" in listed and "洛阳市" in listed and "ID 22" in listed and "全省" in listed
    assert "ID 905" in listed and "ID 900" in listed and "LVDONG_ADMINS" in listed
    assert "2021-06-01 10:00" in listed, "when granted, in Beijing time"
    assert "ID 5555" not in listed
    zhengzhou = await admin.say("/roles 郑州")
    assert "ID 3001" in zhengzhou and "ID 22" in zhengzhou, "province-wide staff cover 郑州"
    assert "ID 20）" not in zhengzhou
    assert "没有权限" in await Chat(bot, 22).say("/roles")


async def test_revoking_a_plain_user_says_there_was_nothing_to_revoke(bot: RunningBot) -> None:
    answer = await Chat(bot, ADMIN).say("/revoke 5555")
    assert "已撤销" not in answer and "没有角色" in answer
    assert bot.rows("SELECT count(*) AS n FROM audit_log WHERE action = 'revoke'") == [{"n": 0}]
