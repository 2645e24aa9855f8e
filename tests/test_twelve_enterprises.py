"""Twelve enterprises covering the qualifiers, on one test day (2021-12-01, 09:00 Beijing):
/overdue, /silent, /stats and the day's reminders against a table computed by hand from
the plan (issue 15).

Passed deadlines that day: 2021-06-30 (task 4's drafting: government work), 2021-10-31
(task 2's acceptance, task 13's door-access systems); task 11's 2021-07-01 and task 23's
2021-03-01 are start dates (never overdue). 30 days ahead: the 2021-12-31 deadlines of
tasks 1, 2, 12, 14 and 25.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import openpyxl

from knowledge.engine import Engine
from storage.clock import SHANGHAI
from storage.db import open_db
from storage.enterprises import approve, register
from storage.progress import completion_by_task
from storage.qualifiers import set_qualifiers
from storage.reports import ReportDraft, add_report
from storage.users import Role, grant_role
from tests.bot_harness import FakeClock, plan_shape, running_bot
from tests.dialog_driver import Chat, credit_code
from tests.test_staff import _sent_file

ADMIN, STAFF = 900, 31

# user id → (city, industries, qualifier answers, reports {task: status}); the enterprise
# is named 企业<user>
TWELVE: dict[int, tuple[str, tuple[str, ...], dict[str, str], dict[int, str]]] = {
    8001: ("郑州市", ("铸造",), {}, {}),  # never asked
    8002: ("郑州市", ("铸造",), {"bulk_transport": "yes"}, {13: "已完成"}),
    8003: ("洛阳市", ("化工",), {"soil_key_unit": "yes"}, {}),
    8004: ("洛阳市", ("化工",), {"soil_key_unit": "unknown"}, {}),  # 不清楚: not concerned
    8005: ("郑州市", ("纺织",), {"relocation_2021": "yes"}, {}),
    8006: ("郑州市", ("纺织",), {"nonroad_machinery": "yes"}, {12: "进行中"}),
    8007: ("洛阳市", ("纺织",), {"performance_graded": "yes"}, {14: "不涉及"}),
    8008: ("郑州市", ("食品",), {"coal_furnace": "yes"}, {2: "进行中"}),
    8009: ("洛阳市", ("食品",), {"yellow_river_existing": "yes"}, {}),
    8010: ("郑州市", ("食品",), {"yellow_river_new": "yes", "bulk_transport": "no"}, {}),
    8011: ("洛阳市", ("岩棉",), {"bulk_transport": "yes"}, {}),
    8012: ("郑州市", ("服装",), {"soil_key_unit": "no", "bulk_transport": "no"}, {}),
}

# /overdue: (enterprise, task) past a deadline and not done
OVERDUE = {(8001, 2), (8002, 2), (8008, 2), (8011, 2), (8011, 13)}
# reminders of the day: who gets which task's "还有30天"
REMINDED = {8001: {2}, 8002: {2}, 8003: {25}, 8005: {1}, 8006: {12}, 8008: {2}, 8011: {2}}
# /stats, by task: task → (concerned, done, 不涉及, reported)
STATS = {
    1: (1, 0, 0, 0), 2: (4, 0, 0, 1), 5: (2, 0, 0, 0), 7: (2, 0, 0, 0), 8: (2, 0, 0, 0),
    12: (1, 0, 0, 1), 13: (2, 1, 0, 1), 14: (1, 0, 1, 1), 16: (2, 0, 0, 0), 18: (2, 0, 0, 0),
    20: (2, 0, 0, 0), 22: (8, 0, 0, 0), 23: (2, 0, 0, 0), 24: (1, 0, 0, 0), 25: (1, 0, 0, 0),
    26: (2, 0, 0, 0),
}  # every other task: no enterprise of these twelve
SILENT = {8001, 8003, 8004, 8005, 8009, 8010, 8011}  # 8012: no task concerns it

DAY = dt.datetime(2021, 12, 1, 9, 0, tzinfo=SHANGHAI).astimezone(dt.UTC)


def _setup(path: Path) -> None:
    then = dt.datetime(2021, 6, 1, 10, 0, tzinfo=dt.UTC)
    db = open_db(path / "lvdong.sqlite")
    for user, (city, industries, answers, reports) in TWELVE.items():
        reg = register(db, user_id=user, name=f"企业{user}", credit_code=credit_code(user),
                       city=city, county=None, industries=industries, contact_name="联系人",
                       phone="13800000000", now=then)
        approve(db, account_id=reg.account.id, approver_id=ADMIN, admins=frozenset({ADMIN}),
                now=then)
        set_qualifiers(db, reg.enterprise.id, answers, actor_id=None, now=then)
        for task, status in reports.items():
            add_report(db, ReportDraft(enterprise_id=reg.enterprise.id, user_id=user, task=task,
                                       status=status, percent=50 if status == "进行中" else None,
                                       description="情况说明"), then, **plan_shape())
    grant_role(db, STAFF, Role.STAFF, (), then)
    db.conn.close()


async def test_twelve_enterprises_on_one_day_match_the_hand_computed_table(
    tmp_path: Path, engine: Engine
) -> None:
    _setup(tmp_path)
    async with running_bot(tmp_path, engine=engine, clock=FakeClock(DAY),
                           flood_burst=10_000) as bot:
        await bot.outbox_drained()  # start-up planned the day's reminders
        staff = Chat(bot, STAFF)

        overdue = await staff.say("/overdue")
        assert f"共{len(OVERDUE)}项，涉及4家已审核企业" in overdue
        assert "按地市：郑州市3、洛阳市2" in overdue
        assert "按任务：任务2 4项、任务13 1项" in overdue
        listed = {(user, task) for user in TWELVE for task in (2, 13)
                  if f"企业{user} · 任务{task} " in overdue}
        assert listed == OVERDUE

        silent = await staff.say("/silent")
        assert f"共{len(SILENT)}家" in silent
        assert {u for u in TWELVE if f"企业{u}（" in silent} == SILENT

        reminded: dict[int, set[int]] = {}
        for user in TWELVE:
            for call in bot.api.sent(user):
                text = str(call.params["text"])
                assert "逾期提醒" not in text, "the 11-01 notices are a month late: not sent"
                if "截止提醒" in text:
                    assert "还有30天" in text and "2021年12月31日" in text
                    reminded.setdefault(user, set()).add(
                        int(text.split("任务")[1].split("“")[0]))
        assert reminded == REMINDED

        await staff.say("/stats")
        _, caption = _sent_file(bot, STAFF, "photo")
        concerned = sum(row[0] for row in STATS.values())
        assert (f"涉及 {concerned} 家次，已完成 1 家次（3%），不涉及 1 家次，已填报未完成 2 家次，"
                f"未填报 {concerned - 4} 家次") in caption
        assert "最高 任务13 50%" in caption

        kb = bot.app.bot_data.kb
        rows = completion_by_task(bot.db, concern=kb.concern(), done=kb.done_statuses,
                                  exempt=kb.not_applicable_statuses)
        found = {int(r.key): (r.concerned, r.done, r.exempt, r.reported) for r in rows
                 if r.concerned}
        assert found == STATS

        # the ledger's 企业 sheet: answers in words and the tasks that concern each
        await staff.say("/export")
        data, _ = _sent_file(bot, STAFF, "document")
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        header, *rows = book["企业"].iter_rows(values_only=True)
        sheet = {row[0]: dict(zip(header, row + (None,) * len(header), strict=False))
                 for row in rows}  # an empty last cell is left out of its row
        assert "土壤污染重点监管单位：是" in str(sheet["企业8003"]["认定情况"])
        assert sheet["企业8003"]["涉及任务"] == "8、18、20、22、24、25、26"
        assert "土壤污染重点监管单位：不清楚" in str(sheet["企业8004"]["认定情况"])
        assert sheet["企业8004"]["涉及任务"] == "8、18、20、22、26"
        assert "土壤污染重点监管单位：未知" in str(sheet["企业8001"]["认定情况"])
        assert sheet["企业8012"]["涉及任务"] is None, "no task concerns it (an empty cell)"
        for user, tasks in REMINDED.items():
            assert set(tasks) <= {int(n) for n in str(sheet[f"企业{user}"]["涉及任务"]).split("、")}


async def test_deadlines_show_what_concerns_each_enterprise_and_start_dates_as_such(
    tmp_path: Path, engine: Engine
) -> None:
    """A start date (自2022年9月1日起执行) is never "已过期"; the Yellow River dates go to
    the dischargers each concerns; 不清楚 sees neither."""
    _setup(tmp_path)
    later = dt.datetime(2026, 12, 1, 10, 0, tzinfo=SHANGHAI).astimezone(dt.UTC)
    async with running_bot(tmp_path, engine=engine, clock=FakeClock(later),
                           flood_burst=10_000) as bot:
        existing = await Chat(bot, 8009).say("/deadlines")
        assert "2022年9月1日起（已于1552天前起执行）任务23" in existing
        assert "2021年3月1日" not in existing, "the new dischargers' date"
        assert "过期" not in existing.split("任务23")[0].splitlines()[-1]
        new = await Chat(bot, 8010).say("/deadlines")
        assert "2021年3月1日起" in new and "2022年9月1日" not in new
        soil_unknown = await Chat(bot, 8004).say("/deadlines")
        assert "任务25" not in soil_unknown and "任务23" not in soil_unknown
        assert "任务25" in await Chat(bot, 8003).say("/deadlines")
        assert "2021年6月30日" not in await Chat(bot, 8001).say("/deadlines"), (
            "task 4's drafting deadline is the department's own work")
