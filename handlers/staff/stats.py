"""/stats: completion as a picture, with a one-line summary.

``/stats`` — by task, for every task that concerns enterprises; ``/stats 任务13`` —
by city, for one task; ``/stats 铸造`` — by task, for one industry. Counted over the
approved enterprises each task concerns (the knowledge base's audience: industries and
qualifiers answered 是), within the asker's scope; 不涉及 is drawn in its own colour and
never counted as 已完成. The query and the drawing run off the event loop.
"""

from __future__ import annotations

from sqlite_utils import Database
from telegram import Update

from handlers.core.access import actor_of
from handlers.core.context import Context
from handlers.core.offload import Busy, in_heavy_worker
from handlers.staff import filters as staff_filters
from handlers.staff.charts import (
    ChartLabels,
    city_labels,
    completion_chart,
    completion_summary,
    task_labels,
)
from handlers.staff.filters import StaffFilter
from storage.progress import Completion, completion_by_city, completion_by_task
from storage.users import Scope

CAPTION_LIMIT = 1000  # Telegram allows 1024 characters in a caption


async def send_chart(update: Update, context: Context, chosen: StaffFilter) -> None:
    """The chart the filter asks for: one task → by city; an industry → by task for it;
    otherwise by task."""
    chat, user = update.effective_chat, update.effective_user
    if chat is None or user is None:
        return
    bot_data = context.bot_data
    kb = bot_data.kb
    actor = actor_of(bot_data, user.id)
    flt = staff_filters.scoped(actor, chosen, kb)
    if isinstance(flt, str):
        await context.bot.send_message(chat.id, flt)
        return
    regions = flt.regions
    scope = Scope(regions).describe()
    done, exempt = kb.done_statuses, kb.not_applicable_statuses
    concern = kb.concern()
    titles = kb.task_titles
    if len(chosen.tasks) == 1:
        task = chosen.tasks[0]
        if task not in concern:
            await context.bot.send_message(chat.id, f"任务{task}不涉及企业，没有完成情况可统计。")
            return
        labels: ChartLabels = city_labels(task=task, task_title=titles.get(task, ""),
                                          scope=scope)

        def rows_of(db: Database) -> list[Completion]:
            return completion_by_city(db, task=task, who=concern[task], done=done,
                                      exempt=exempt, regions=regions)
    else:
        industry = chosen.industries[0] if chosen.industries else None
        labels = task_labels(titles=titles, scope=scope, industry=industry)

        def rows_of(db: Database) -> list[Completion]:
            return completion_by_task(db, concern=concern, done=done, exempt=exempt,
                                      regions=regions, industry=industry)

    def draw(db: Database) -> tuple[bytes, str]:
        rows = rows_of(db)
        return completion_chart(rows, labels), completion_summary(rows, labels)

    await context.bot.send_chat_action(chat.id, "upload_photo")
    try:
        picture, summary = await in_heavy_worker(bot_data, user.id, draw)
    except Busy as busy:
        await context.bot.send_message(chat.id, busy.message)
        return
    await context.bot.send_photo(chat.id, picture, caption=summary[:CAPTION_LIMIT])


async def stats_command(update: Update, context: Context) -> None:
    """/stats [任务N | 行业]"""
    chosen = staff_filters.parse_words(list(context.args or ()), context.bot_data)
    if isinstance(chosen, str):
        if update.effective_message is not None:
            await update.effective_message.reply_text(chosen)
        return
    await send_chart(update, context, chosen)
