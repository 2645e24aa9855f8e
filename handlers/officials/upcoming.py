"""/reminders: the next reminder runs — which deadline, on what day and at what time
(Beijing time), and how many enterprises of the asker's scope each would reach now.
Read-only: the planning itself is :mod:`handlers.delivery.reminders`' (the same
``due_runs`` and ``superseded`` rules), this only looks ahead."""

from __future__ import annotations

import datetime as dt

from sqlite_utils import Database
from telegram import Update
from telegram.constants import ParseMode

from handlers.core.access import actor_of
from handlers.core.context import Context
from handlers.core.offload import in_worker
from handlers.core.plan import calendar, date_words
from handlers.core.telegram_html import escape, fit
from storage.audiences import concerned
from storage.clock import local_today
from storage.reminders import due_runs, planned

SHOWN = 10
KIND_WORDS = {"overdue": "逾期提醒", "summary": "逾期汇总（发给业务处室）"}


def _kind(kind: str) -> str:
    if kind.startswith("before:"):
        return f"提前{kind.split(':', 1)[1]}天提醒"
    return KIND_WORDS.get(kind, kind)


async def reminders_command(update: Update, context: Context) -> None:
    """/reminders: the next runs within the asker's scope."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    bot_data = context.bot_data
    actor = actor_of(bot_data, user.id)
    today = local_today(bot_data.now())
    settings = bot_data.reminders
    entries = [entry for entry in calendar(bot_data) if not entry.nobody
               and (not entry.regions or any(actor.covers(r) for r in entry.regions))]
    done = bot_data.kb.done_statuses

    def upcoming(db: Database) -> list[tuple[dt.date, str, int, str]]:
        found: list[tuple[dt.date, str, int, str]] = []
        for entry in entries:
            runs = due_runs(entry.key, entry.due, today=entry.due + dt.timedelta(days=1),
                            offsets=settings.days_before)
            if entry.starts:
                runs = [run for run in runs if run.kind.startswith("before:")]
            runs = [run for run in runs if run.due_on >= today]
            already = planned(db, [run.key for run in runs])
            runs = [run for run in runs if run.key not in already]
            if not runs:
                continue
            audience = sum(1 for e in concerned(db, regions=entry.regions,
                                                who=entry.who, task=entry.task, done=done)
                           if not e.done and actor.covers(e.city))
            title = bot_data.kb.task_titles.get(entry.task, "")
            what = f"任务{entry.task} {fit(title, 20)}（截止{date_words(entry)}）"
            found += [(run.due_on, _kind(run.kind), audience, what) for run in runs]
        return sorted(found)[:SHOWN]

    rows = await in_worker(bot_data, upcoming)
    scope = actor.scope.describe() if not actor.is_admin else "全省"
    if not rows:
        await message.reply_text(f"您负责的范围（{scope}）内没有待发的提醒。")
        return
    at = settings.time.strftime("%H:%M")
    lines = [f"<b>接下来的提醒</b>（{escape(scope)}，北京时间，每天{at}起发送；"
             "企业数为目前尚未报告完成的）："]
    lines += [f"{day.isoformat()} {at} · {escape(kind)} · {escape(what)} · {audience}家企业"
              for day, kind, audience, what in rows]
    await message.reply_text("\n".join(lines), parse_mode=ParseMode.HTML)
