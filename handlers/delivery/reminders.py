"""Deadline reminders, driven by the database.

Once a minute (PTB's JobQueue, used only as a clock tick) :func:`run_reminders`
looks at the calendar. For each deadline, the runs that have fallen due — some
days before it (``LVDONG_REMINDER_DAYS``, default 30, 7 and 1), and the day after
it — are planned once (:mod:`storage.reminders`): the approved enterprises the
deadline concerns that have not reported a done status (已完成/不涉及) get a reminder,
after the deadline an overdue notice, and each official whose scope holds overdue
enterprises a summary. Who a deadline concerns is its audience in the knowledge
base (industries and qualifiers, ``storage.qualifiers.audience_sql``); a qualifier
answered 不清楚 does not count. A start date (自…起执行) gets the notes before it, never
an overdue notice.

Runs are planned only inside the reminder window, from ``LVDONG_REMINDER_TIME``
(Beijing time) to ``ReminderSettings.until``; one that falls due outside it (a
deadline added at night, a restart at 02:00) waits for the next window. The days left
are counted when the note is planned — in the window, so on the Beijing day it is
sent — never from the day the run was meant for. A run missed while the bot was down
is caught up once, unless more than ``LVDONG_REMINDER_CATCHUP_DAYS`` late or
superseded by a later run of the same deadline (a 7-day note due as well, or the
deadline already passed): then it is recorded as stale and not sent, so nobody gets
"还有30天" and "还有7天" at once, or a days-left note after the deadline.

Runs are planned only for a plausible clock: the time of each tick is checked against
the last one accepted (stored, :func:`storage.reminders.clock_mark`). A clock that went
back, or jumped ahead more than :data:`CLOCK_JUMP` while the bot ran (it ticks every
minute), plans nothing: the jump is logged and waits for an admin's ``/clock 确认`` or
``lvdong doctor --confirm-clock``. The first tick after a start accepts any step forward
(the bot was down; missed runs are caught up as above). Stale runs recorded by a clock
ahead of the current one are planned again when the clock is back.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass

from handlers.core.context import BotData, Context
from handlers.core.plan import calendar, date_words, days_words
from handlers.core.telegram_html import escape
from storage.audiences import concerned, recipients
from storage.calendar import CalendarEntry
from storage.clock import local_today, to_local
from storage.outbox import Message
from storage.regions import REGIONS
from storage.reminders import (
    Run,
    clock_mark,
    due_runs,
    forget_stale_after,
    plan,
    planned,
    set_clock_mark,
)
from storage.users import Role, scoped_users

_LOGGER = logging.getLogger(__name__)

TICK_SECONDS = 60
CLOCK_JUMP = dt.timedelta(days=2)  # forward, between ticks of a running bot
CLOCK_BACK = dt.timedelta(minutes=5)  # backward: what NTP may correct


@dataclass(frozen=True)
class ReminderSettings:
    time: dt.time = dt.time(9, 0)  # Beijing time from which a day's runs go out
    days_before: tuple[int, ...] = (30, 7, 1)
    catch_up_days: int = 7
    until: dt.time = dt.time(21, 0)  # Beijing time at which the day's window closes


def in_window(now: dt.datetime, settings: ReminderSettings) -> bool:
    """Whether ``now`` (Beijing time) is inside the reminder window (which may wrap
    past midnight when ``until`` is earlier than ``time``)."""
    at = to_local(now).time()
    if settings.time < settings.until:
        return settings.time <= at < settings.until
    return at >= settings.time or at < settings.until


def superseded(runs: list[Run], due: dt.date, today: dt.date) -> set[str]:
    """Keys of the due runs a later run of the same deadline makes pointless: every
    days-left note but the latest, and all of them once the date itself has passed."""
    before = sorted((r for r in runs if r.kind.startswith("before:")), key=lambda r: r.due_on)
    if today > due:
        return {r.key for r in before}
    return {r.key for r in before[:-1]}


def _title(bot_data: BotData, entry: CalendarEntry) -> str:
    return bot_data.kb.task_titles.get(entry.task, "")


def _citation(bot_data: BotData, entry: CalendarEntry) -> str:
    try:
        return bot_data.kb.task(entry.task).citation
    except KeyError:
        return ""


def reminder_text(bot_data: BotData, entry: CalendarEntry, run: Run, today: dt.date) -> str:
    """The note of ``run``, its days left counted from ``today`` (the Beijing day it is
    sent on)."""
    title = escape(_title(bot_data, entry))
    what = escape(entry.what)
    done = "或".join(f"“{name}”" for name in bot_data.kb.done_statuses)
    if run.kind == "overdue":
        head = (f"⚠️ <b>逾期提醒</b>：任务{entry.task}“{title}”要求{escape(date_words(entry))}"
                f"{what}，截止日期已过，贵企业尚未报告完成。")
        tail = f"请尽快用 /report 填报进展（状态选{escape(done)}后不再提醒）。"
    elif entry.starts:
        head = (f"⏰ <b>执行提醒</b>：任务{entry.task}“{title}”：{escape(date_words(entry))}"
                f"{what}，{days_words(entry, today)}。")
        tail = f"请用 /report 填报准备情况；填报{escape(done)}后不再提醒。"
    else:
        head = (f"⏰ <b>截止提醒</b>：任务{entry.task}“{title}”要求{escape(date_words(entry))}"
                f"{what}，{days_words(entry, today)}。")
        tail = f"请用 /report 填报进展；填报{escape(done)}后不再提醒。"
    basis = _citation(bot_data, entry)
    return "\n".join([head, tail] + ([f"依据：{escape(basis)}"] if basis else []))


def summary_text(bot_data: BotData, entry: CalendarEntry, scope: str, cities: Counter[str]) -> str:
    total = sum(cities.values())
    by_city = "、".join(f"{city}{cities[city]}家" for city in REGIONS if cities[city])
    return (f"📋 <b>逾期汇总</b>：任务{entry.task}“{escape(_title(bot_data, entry))}”"
            f"（截止{escape(date_words(entry))}）在您负责的范围（{escape(scope)}）内有"
            f"<b>{total}</b>家已审核企业尚未报告完成：{escape(by_city)}。发送 /overdue 查看名单。")


def _deliveries(
    bot_data: BotData, entry: CalendarEntry, run: Run, today: dt.date
) -> tuple[list[tuple[Message, list[int]]], int]:
    """What a run sends, and how many enterprises it skips because they are done."""
    db = bot_data.db
    everyone = concerned(db, regions=entry.regions, who=entry.who,
                         task=entry.task, done=bot_data.kb.done_statuses)
    open_ = [enterprise for enterprise in everyone if not enterprise.done]
    skipped = len(everyone) - len(open_)
    if run.kind != "summary":
        message = Message(key=f"reminder:{run.key}", kind=run.kind.split(":")[0],
                          text=reminder_text(bot_data, entry, run, today))
        return [(message, recipients(db, [enterprise.id for enterprise in open_]))], skipped
    cities = Counter(enterprise.city for enterprise in open_)
    deliveries = []
    for official, scope in scoped_users(db, Role.OFFICIAL).items():
        mine = Counter({city: n for city, n in cities.items() if scope.covers(city)})
        if not mine:
            continue
        text = summary_text(bot_data, entry, scope.describe(), mine)
        deliveries.append((Message(key=f"summary:{run.key}:{official}", kind="summary",
                                   text=text), [official]))
    return deliveries, skipped


def clock_problem(last: dt.datetime | None, now: dt.datetime, *, started: bool) -> str | None:
    """Why ``now`` is not a plausible time after ``last`` (None: it is). ``started``:
    this process ticked before (else a step forward is the time the bot was down)."""
    if last is None:
        return None
    if now < last - CLOCK_BACK:
        return "back"
    if started and now > last + CLOCK_JUMP:
        return "ahead"
    return None


def run_reminders(bot_data: BotData, settings: ReminderSettings) -> int:
    """Plan every reminder run that has fallen due and was not planned; returns how many
    runs were planned now (stale ones included). Nothing while the clock is implausible
    (see the module docstring)."""
    now = bot_data.now()
    db = bot_data.db
    problem = clock_problem(clock_mark(db), now, started=bot_data.clock_ticked)
    if problem is not None:
        if bot_data.clock_warned != problem:
            _LOGGER.warning(
                "the clock jumped %s (reminders last ran at %s, now %s): no reminders are "
                "planned until an admin confirms the time (/clock 确认, or lvdong doctor "
                "--confirm-clock)", problem, clock_mark(db), now)
            bot_data.clock_warned = problem
        return 0
    bot_data.clock_ticked, bot_data.clock_warned = True, None
    set_clock_mark(db, now)
    replanned = forget_stale_after(db, now)
    if replanned:
        _LOGGER.info("%d stale reminder run(s) recorded by a clock ahead of now: planned "
                     "again", replanned)
    if not in_window(now, settings):
        return 0  # what fell due waits for the next window
    today = local_today(now)
    count = 0
    for entry in calendar(bot_data):
        if entry.nobody:
            continue  # government work: no enterprise to remind
        runs = due_runs(entry.key, entry.due, today=today, offsets=settings.days_before)
        if entry.starts:  # a start date is never overdue
            runs = [run for run in runs if run.kind.startswith("before:")]
        done = planned(bot_data.db, [run.key for run in runs])
        later = superseded(runs, entry.due, today)
        for run in runs:
            if run.key in done:
                continue
            stale = (today - run.due_on).days > settings.catch_up_days or run.key in later
            deliveries, skipped = (([], 0) if stale
                                   else _deliveries(bot_data, entry, run, today))
            if plan(bot_data.db, run, deliveries, skipped=skipped, now=now, stale=stale):
                count += 1
    if count:
        bot_data.outbox.wake()
        _LOGGER.info("planned %d reminder run(s) for %s", count, today.isoformat())
    return count


async def tick(context: Context) -> None:
    """JobQueue callback: plan what has fallen due (the database remembers the rest)."""
    run_reminders(context.bot_data, context.bot_data.reminders)
