"""No probing of other cities' ids (issue 14, item 11): a button naming an object
outside the user's scope gets the same answer as one naming an id that does not exist,
so ids and counts of other cities cannot be told apart from gaps."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from knowledge.engine import Engine
from storage.db import open_db
from storage.enterprises import approve, register
from storage.users import Role, grant_role
from tests.bot_harness import running_bot
from tests.dialog_driver import Chat, credit_code

ADMIN, LY_STAFF, ZZ_OWNER = 900, 40, 41
NOW = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)


async def test_out_of_scope_and_missing_ids_get_the_same_answer(
    tmp_path: Path, engine: Engine
) -> None:
    db = open_db(tmp_path / "lvdong.sqlite")
    reg = register(db, user_id=ZZ_OWNER, name="郑州某厂", credit_code=credit_code(ZZ_OWNER),
                   city="郑州市", county=None, industries=["铸造"], contact_name="张三",
                   phone="13800000000", now=NOW)
    approve(db, account_id=reg.account.id, approver_id=ADMIN, admins=frozenset({ADMIN}),
            now=NOW)
    grant_role(db, LY_STAFF, Role.STAFF, ["洛阳市"], NOW)
    db.conn.close()
    async with running_bot(tmp_path, engine=engine) as bot:
        await bot.exchange(LY_STAFF, "/reports")
        message_id = bot.last_message_id(LY_STAFF)

        def answers(data: str) -> list[str]:
            return [str(c.params.get("text")) for c in bot.api.calls
                    if c.method == "answerCallbackQuery" and c.params.get("text")]

        before = len(answers(""))
        await bot.click(LY_STAFF, LY_STAFF, message_id, f"re:{reg.enterprise.id}")
        out_of_scope = answers("")[before:]
        before = len(answers(""))
        await bot.click(LY_STAFF, LY_STAFF, message_id, f"re:{reg.enterprise.id + 1000}")
        missing = answers("")[before:]
        assert out_of_scope and out_of_scope == missing
        assert "洛阳" not in out_of_scope[0] and "范围" not in out_of_scope[0]


async def test_an_out_of_scope_reports_filter_is_refused_and_not_saved(
    tmp_path: Path, engine: Engine
) -> None:
    """Issue 14, item 13: ``/reports 郑州 洛阳`` was refused but saved as the filter."""
    db = open_db(tmp_path / "lvdong.sqlite")
    grant_role(db, LY_STAFF, Role.STAFF, ["洛阳市"], NOW)
    db.conn.close()
    async with running_bot(tmp_path, engine=engine, flood_burst=100) as bot:
        staff = Chat(bot, LY_STAFF)
        await staff.say("/reports 洛阳 任务13")
        assert "不在您负责的范围" in await staff.say("/reports 郑州 洛阳")
        panel = await staff.say("/reports")
        assert "郑州" not in panel and "任务13" in panel, "the last good filter is kept"
