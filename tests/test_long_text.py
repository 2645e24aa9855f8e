"""Long text (issue 14, item 6): the longest and widest text every field accepts never
locks anyone out of a card, a history or /myreports. Plain text is shortened before it
becomes markup, lengths are Telegram's UTF-16 units, and what does not fit one message
is split over several."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from handlers.core.telegram_html import MAX_MESSAGE_CHARS, pack, to_plain, utf16_len
from handlers.enterprise.register import CONTACT_LIMIT, COUNTY_LIMIT, NAME_LIMIT
from handlers.staff.review import COMMENT_LIMIT
from knowledge.engine import Engine
from storage.db import open_db
from storage.enterprises import approve, register
from storage.fields import DESCRIPTION_LIMIT
from storage.reports import ReportDraft, add_report
from storage.reviews import Verdict, add_review
from storage.users import Role, grant_role
from tests.bot_harness import FakeClock, plan_shape, running_bot
from tests.dialog_driver import Chat, credit_code

ADMIN, STAFF, OWNER = 900, 30, 31
NOW = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)


def widest(limit: int, unit: str = "绿<b>&😀🏭") -> str:
    """``limit`` characters, with emoji (two UTF-16 units each) and markup characters."""
    return (unit * limit)[:limit]


def _setup(path: Path) -> None:
    db = open_db(path / "lvdong.sqlite")
    reg = register(db, user_id=OWNER, name=widest(NAME_LIMIT), credit_code=credit_code(OWNER),
                   city="郑州市", county=widest(COUNTY_LIMIT), industries=["铸造"],
                   contact_name=widest(CONTACT_LIMIT), phone="13800000000", now=NOW)
    approve(db, account_id=reg.account.id, approver_id=ADMIN, admins=frozenset({ADMIN}),
            now=NOW)
    shape = plan_shape()
    for task in shape["task_numbers"]:
        # task 13: eight 500-character emoji-heavy descriptions and twelve 300-character
        # comments on the latest; every other task one of each (the card's lines are long)
        for n in range(8 if task == 13 else 1):
            report_id = add_report(db, ReportDraft(
                enterprise_id=reg.enterprise.id, user_id=OWNER, task=task, status="进行中",
                percent=50, description=widest(DESCRIPTION_LIMIT, f"第{n}次说明😀&<")),
                NOW, **shape)
        for n in range(12 if task == 13 else 1):
            add_review(db, report_id=report_id, reviewer_id=STAFF, verdict=Verdict.PROBLEM,
                       comment=widest(COMMENT_LIMIT, f"意见{n}🧪<&>"), now=NOW)
    grant_role(db, STAFF, Role.STAFF, ["郑州市"], NOW)
    db.conn.close()


def _visible(bot: object, chat: int, since: int) -> list[str]:
    calls = [c for c in bot.api.sent(chat)[since:]]  # type: ignore[attr-defined]
    return [to_plain(str(c.params["text"])) if c.params.get("parse_mode") == "HTML"
            else str(c.params["text"]) for c in calls]


async def test_the_longest_and_widest_text_is_split_not_refused(
    tmp_path: Path, engine: Engine
) -> None:
    _setup(tmp_path)
    async with running_bot(tmp_path, engine=engine, clock=FakeClock(NOW),
                           flood_burst=100) as bot:
        since = len(bot.api.sent(STAFF))
        await Chat(bot, STAFF).say(f"/enterprise {credit_code(OWNER)}")
        shown = _visible(bot, STAFF, since)
        assert len(shown) > 3, "the card and the history over several messages"
        everything = "\n".join(shown)
        assert "意见11🧪<&>" in everything and "第7次说明😀&<" in everything
        assert all(utf16_len(text) <= MAX_MESSAGE_CHARS for text in shown)
        assert everything.count("意见0🧪<&>") >= 2 * len(plan_shape()["task_numbers"]), (
            "every task's review on the card and in the history")

        since = len(bot.api.sent(OWNER))
        owner = Chat(bot, OWNER)
        mine = await owner.say("/myreports")
        assert "进行中 50%" in mine and "意见11" in mine
        history = await owner.press("任务13历史")
        assert history.count("第") >= 8 and "意见0🧪<&>" in history and "意见11🧪<&>" in history
        assert all(utf16_len(t) <= MAX_MESSAGE_CHARS for t in _visible(bot, OWNER, since))


def test_pack_splits_on_lines_and_shortens_a_line_as_plain_text() -> None:
    line = "<b>标题</b>" + "&amp;😀" * 3000  # one line far over the limit, with entities
    messages = pack([line, "<i>下一条</i>"], limit=100)
    for text, _ in messages:
        assert utf16_len(to_plain(text)) <= 100
    assert to_plain(messages[-1][0]).endswith("下一条")
    assert sorted(i for _, ids in messages for i in ids) == [0, 1]
    assert to_plain(messages[0][0]).startswith("标题&😀"), "shortened as text, not cut in a tag"
    many = pack([f"<b>第{n}行</b>" for n in range(100)], limit=50)
    assert len(many) > 1 and [i for _, ids in many for i in ids] == list(range(100))
