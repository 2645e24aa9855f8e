"""/unanswered and /learned: staff teach the bot the questions it could not answer.

/unanswered groups the questions the engine could not answer (or answered unsure)
and those whose answer got 👎, counted, most asked first. Under each, buttons name
the entries the engine thinks most likely; a click attaches the question to that
entry (``storage.learned``), and from then on the question — typed the same way,
or with a typo — is answered from it. /learned lists what was taught, with a
button to remove each; ``lvdong kb learned`` exports them as YAML for the
knowledge base.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from dataclasses import dataclass

from sqlite_utils import Database
from telegram import Update
from telegram.constants import ParseMode

from handlers.core.audited import Done, audited_button
from handlers.core.callback_queries import acknowledge, parse_data
from handlers.core.context import BotData, Context
from handlers.core.dialogs import keyboard
from handlers.core.offload import in_worker
from handlers.core.telegram_html import escape, fit
from knowledge.learned import LearnedQuestions, learned_key
from knowledge.model import Fact
from storage import audit
from storage.db import transaction
from storage.learned import AlreadyLearned, learn, learned, unlearn
from storage.questions import doubtful, get_question

LEARN_PREFIX = "ul"  # ul:<question id>:<candidate index>
UNLEARN_PREFIX = "ux"  # ux:<learned id>
GROUPS_SHOWN = 8
LOOKED_AT = 5000  # the most recent unanswered / 👎 questions grouped
BUTTON_CHARS = 40
NOTHING = "目前没有未能回答或被点👎的问题。"


def learned_questions(db: Database) -> LearnedQuestions:
    """The taught questions, as the answering code matches them."""
    return LearnedQuestions((item.normalized, item.fact_id) for item in learned(db))


def reload_learned(bot_data: BotData) -> None:
    bot_data.learned = learned_questions(bot_data.db)
    bot_data.answer_cache.clear()


@dataclass(frozen=True)
class Group:
    """One question as people asked it, however often, and why it is listed."""

    question_id: int  # the newest of the group (its text is shown)
    text: str
    asked: int
    not_useful: int


def unanswered_groups(db: Database, taught: LearnedQuestions) -> list[Group]:
    """Unanswered or unsure questions and 👎-voted ones, grouped by their normalised text,
    most asked first; those already taught are left out."""
    rows = doubtful(db, LOOKED_AT)
    asked: Counter[str] = Counter()
    votes: Counter[str] = Counter()
    newest: dict[str, tuple[int, str]] = {}
    for question_id, text, not_useful in rows:
        key = learned_key(text)
        if not key or taught.match(text) is not None:
            continue
        asked[key] += 1
        votes[key] += not_useful
        newest.setdefault(key, (question_id, text))
    return [Group(newest[key][0], newest[key][1], count, votes[key])
            for key, count in asked.most_common()]


def _label(fact: Fact) -> str:
    """How a candidate entry is named on its button: its first sample question."""
    return fit(fact.questions[0] if fact.questions else fact.answer, BUTTON_CHARS)


async def unanswered_command(update: Update, context: Context) -> None:
    """/unanswered: what people asked that the bot could not answer, most asked first."""
    chat = update.effective_chat
    if chat is None:
        return
    bot_data = context.bot_data
    groups = await in_worker(bot_data, lambda db: unanswered_groups(db, bot_data.learned))
    if not groups:
        await context.bot.send_message(chat.id, NOTHING)
        return
    await context.bot.send_message(
        chat.id, f"共{len(groups)}个问题未能回答或被点👎（按提问次数排序，显示前"
                 f"{min(len(groups), GROUPS_SHOWN)}个）。点下方按钮把问题关联到正确的条目，"
                 "之后同样的问题就会按该条目回答。")
    for group in groups[:GROUPS_SHOWN]:
        candidates = bot_data.engine.candidates(group.text, 3)
        buttons = [[(f"关联到：{_label(fact)}", f"{LEARN_PREFIX}:{group.question_id}:{index}")]
                   for index, fact in enumerate(candidates)]
        votes = f"，👎{group.not_useful}次" if group.not_useful else ""
        text = f"“{escape(fit(group.text, 300))}”\n提问{group.asked}次{votes}"
        if not candidates:
            text += "\n（知识库里没有相近的条目，需要补充知识库。）"
        await context.bot.send_message(chat.id, text, parse_mode=ParseMode.HTML,
                                       reply_markup=keyboard(buttons))


async def on_learn(update: Update, context: Context) -> None:
    """``ul:<question>:<n>``: attach the question to the n-th candidate entry."""
    query = update.callback_query
    if query is None:
        return
    parsed = parse_data(query.data, LEARN_PREFIX, 2)
    bot_data = context.bot_data
    question = get_question(bot_data.db, parsed[0]) if parsed else None
    if parsed is None or question is None:
        await acknowledge(query, "找不到这个问题了。")
        return
    candidates = bot_data.engine.candidates(question.text, 3)
    if not 0 <= parsed[1] < len(candidates):
        await acknowledge(query, "这个选项已经过期，请重新发送 /unanswered。")
        return
    fact = candidates[parsed[1]]
    now = bot_data.now()
    try:
        with transaction(bot_data.db):
            item = learn(bot_data.db, question=question.text,
                         normalized=learned_key(question.text), fact_id=fact.id,
                         by=query.from_user.id, now=now)
            audit.record(bot_data.db, actor_id=query.from_user.id, action="learn",
                         subject=f"learned:{item.id}", now=now, fact=fact.id,
                         question=question.id)
    except AlreadyLearned:
        await acknowledge(query, "这个问题已经关联过了。")
        return
    reload_learned(bot_data)
    await acknowledge(query, "已关联。")
    if query.message is not None:
        await query.edit_message_text(
            f"✅ 已把“{escape(fit(question.text, 300))}”关联到："
            f"{escape(_label(fact))}（{escape(fact.clause)}）。"
            "\n之后同样的问题会按该条目回答。", parse_mode=ParseMode.HTML)


async def learned_command(update: Update, context: Context) -> None:
    """/learned: what staff taught, each with a button to remove it."""
    chat = update.effective_chat
    if chat is None:
        return
    bot_data = context.bot_data
    items = learned(bot_data.db)
    if not items:
        await context.bot.send_message(chat.id, "还没有关联过问题。发送 /unanswered 开始。")
        return
    for item in items[-30:]:
        fact = bot_data.engine.answer_fact(item.fact_id)
        target = fact.sources[0] if fact is not None and fact.sources else item.fact_id
        await context.bot.send_message(
            chat.id, f"#{item.id} “{escape(fit(item.question, 200))}” → {escape(target)}",
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard([[(f"删除 #{item.id}", f"{UNLEARN_PREFIX}:{item.id}")]]))


def _unlearn(db: Database, ids: list[int], user_id: int, now: dt.datetime) -> Done:
    if not unlearn(db, ids[0], by=user_id, now=now):
        return Done("已经删除过了。")
    return Done("已删除。", "unlearn", f"learned:{ids[0]}")


async def on_unlearn(update: Update, context: Context) -> None:
    done = await audited_button(update, context, UNLEARN_PREFIX, 1, _unlearn)
    if done is None:
        return
    reload_learned(context.bot_data)
    query, _, result = done
    if result.action is not None and query.message is not None:
        await query.edit_message_reply_markup(None)


def learned_yaml(db: Database) -> str:
    """The taught questions as YAML to merge into the knowledge base's facts."""
    by_fact: dict[str, list[str]] = {}
    for item in learned(db):
        by_fact.setdefault(item.fact_id, []).append(item.question)
    lines = ["# 工作人员在 /unanswered 中关联的问法（lvdong kb learned 导出）。",
             "# 合并：把每条的 questions 加到知识库中 id 相同的 fact 的 questions 里；",
             "# 以 task- 或 office- 等开头的 id 是自动生成的条目，可为它新写一条 fact。"]
    for fact_id, questions in by_fact.items():
        quoted = ", ".join(_yaml_text(q) for q in questions)
        lines.append(f"- fact: {fact_id}\n  questions: [{quoted}]")
    return "\n".join(lines) + "\n"


def _yaml_text(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid YAML scalar
