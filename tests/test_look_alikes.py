"""Look-alike enterprise names are flagged to staff on the application (issue 14,
item 12): an exact duplicate, a full-width digit, a Latin O for 0."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from knowledge.engine import Engine
from storage.db import open_db
from storage.enterprises import approve, look_alikes, name_key, register
from storage.users import Role, grant_role
from tests.bot_harness import running_bot
from tests.dialog_driver import Chat, credit_code
from tests.dialog_driver import register as register_dialog

ADMIN, ZZ_STAFF, FIRST, COPYCAT = 900, 50, 51, 52
NOW = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)


def test_names_that_look_alike_have_the_same_key() -> None:
    same = ["郑州第10铸造厂", "郑州第１０铸造厂", "郑州第1O铸造厂", "郑州第l0铸造厂",
            "郑州 第10 铸造厂", "郑州第10铸造厂（）"]
    assert len({name_key(name) for name in same}) == 1
    assert name_key("郑州第10铸造厂") != name_key("郑州第18铸造厂")


def test_look_alikes_of_other_enterprises_are_found(tmp_path: Path) -> None:
    db = open_db(tmp_path / "lvdong.sqlite")
    first = register(db, user_id=FIRST, name="河南绿源0号化工有限公司",
                     credit_code=credit_code(FIRST), city="郑州市", county=None,
                     industries=["化工"], contact_name="张三", phone="13800000000", now=NOW)
    other = register(db, user_id=COPYCAT, name="河南绿源O号化工有限公司",
                     credit_code=credit_code(COPYCAT), city="洛阳市", county=None,
                     industries=["化工"], contact_name="李四", phone="13800000001", now=NOW)
    [found] = look_alikes(db, other.enterprise.id, other.enterprise.name)
    assert (found.id, found.name, found.city) == (first.enterprise.id, "河南绿源0号化工有限公司",
                                                  "郑州市")
    assert look_alikes(db, first.enterprise.id, "完全不同的名字") == []


async def test_staff_see_the_look_alike_on_the_application(
    tmp_path: Path, engine: Engine
) -> None:
    db = open_db(tmp_path / "lvdong.sqlite")
    reg = register(db, user_id=FIRST, name="河南绿源化工有限公司", credit_code=credit_code(FIRST),
                   city="郑州市", county=None, industries=["化工"], contact_name="张三",
                   phone="13800000000", now=NOW)
    approve(db, account_id=reg.account.id, approver_id=ADMIN, admins=frozenset({ADMIN}),
            now=NOW)
    grant_role(db, ZZ_STAFF, Role.STAFF, ["郑州市"], NOW)
    db.conn.close()
    async with running_bot(tmp_path, engine=engine, flood_burst=100) as bot:
        await register_dialog(Chat(bot, COPYCAT), name="河南绿源化工有限公司")
        applications = [str(c.params["text"]) for c in bot.api.sent(ZZ_STAFF)
                        if "待审核" in str(c.params["text"])]
        assert applications and "名称与已登记的企业相同或相似" in applications[-1]
        assert "河南绿源化工有限公司（郑州市" in applications[-1]
        assert "名称与已登记的企业" in await Chat(bot, ZZ_STAFF).say("/pending")
