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

from handlers.core.audited import Act, Done, audited_button
from handlers.core.callback_queries import acknowledge, parse_data
from handlers.core.context import BotData, Context
from handlers.core.dialogs import keyboard
from handlers.core.offload import in_worker
from handlers.core.telegram_html import escape, fit
from knowledge.learned import LearnedQuestions, learned_key
from knowledge.model import Fact
from storage import audit
from storage.db import transaction
from storage.learned import AlreadyLearned, ignore, ignored, learn, learned, unlearn
from storage.questions import Question, doubtful, get_question

LEARN_PREFIX = "ul"  # ul:<question id>:<candidate index>
ATTACH_PREFIX = "ua"  # ua:<question id>:<fact id>, from /attach's search
IGNORE_PREFIX = "ui"  # ui:<question id>: not about the plan, out of the list
SEARCHED = 5  # entries /attach offers
ATTACH_USAGE = "用法：/attach 问题编号 关键词，例如 /attach 12 冲天炉（问题编号见 /unanswered）。"
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
    most asked first; those already taught or set aside are left out."""
    rows = doubtful(db, LOOKED_AT)
    aside = ignored(db)
    asked: Counter[str] = Counter()
    votes: Counter[str] = Counter()
    newest: dict[str, tuple[int, str]] = {}
    for question_id, text, not_useful in rows:
        key = learned_key(text)
        if not key or key in aside or taught.match(text) is not None:
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
        buttons.append([("忽略（与方案无关）", f"{IGNORE_PREFIX}:{group.question_id}")])
        votes = f"，👎{group.not_useful}次" if group.not_useful else ""
        text = (f"问题 #{group.question_id}：“{escape(fit(group.text, 300))}”\n"
                f"提问{group.asked}次{votes}")
        if not candidates:
            text += "\n（知识库里没有相近的条目，需要补充知识库。）"
        text += f"\n其他条目：/attach {group.question_id} 关键词 搜索后关联。"
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
    await _teach(update, context, question, candidates[parsed[1]])


async def _teach(update: Update, context: Context, question: Question, fact: Fact) -> None:
    """Attach ``question`` to ``fact`` (audited) and say so in the pressed message."""
    query = update.callback_query
    assert query is not None
    bot_data = context.bot_data
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


async def on_attach(update: Update, context: Context) -> None:
    """``ua:<question>:<fact id>``: attach the question to an entry /attach found."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    parts = query.data.split(":", 2)
    bot_data = context.bot_data
    question = (get_question(bot_data.db, int(parts[1]))
                if len(parts) == 3 and parts[1].isdigit() else None)
    fact = bot_data.engine.fact(parts[2]) if question is not None else None
    if question is None or fact is None:
        await acknowledge(query, "找不到这个问题或条目了。")
        return
    await _teach(update, context, question, fact)


async def attach_command(update: Update, context: Context) -> None:
    """/attach 问题编号 关键词: the entries the words find, to attach the question to."""
    chat = update.effective_chat
    if chat is None:
        return
    args = list(context.args or ())
    bot_data = context.bot_data
    question = (get_question(bot_data.db, int(args[0]))
                if len(args) > 1 and args[0].isdigit() and len(args[0]) <= 15 else None)
    if question is None:
        await context.bot.send_message(chat.id, ATTACH_USAGE if len(args) < 2
                                       else f"没有问题 #{escape(args[0][:15])}。")
        return
    words = " ".join(args[1:])
    found = bot_data.engine.candidates(words, SEARCHED)
    if not found:
        await context.bot.send_message(chat.id, f"没有找到与“{escape(fit(words, 40))}”相关的条目，"
                                                "换个关键词试试。", parse_mode=ParseMode.HTML)
        return
    lines = [f"与“{escape(fit(words, 40))}”相关的条目，点按钮把问题"
             f"“{escape(fit(question.text, 100))}”关联过去："]
    lines += [f"{n}. {escape(fit(fact.answer, 80))}（{escape(fact.clause)}）"
              for n, fact in enumerate(found, 1)]
    buttons = [[(f"关联到：{_label(fact)}", f"{ATTACH_PREFIX}:{question.id}:{fact.id}")]
               for fact in found if len(f"{ATTACH_PREFIX}:{question.id}:{fact.id}".encode()) <= 64]
    await context.bot.send_message(chat.id, "\n".join(lines), parse_mode=ParseMode.HTML,
                                   reply_markup=keyboard(buttons))


def _ignore(db: Database, ids: list[int], user_id: int, now: dt.datetime) -> Done:
    question = get_question(db, ids[0])
    if question is None:
        return Done("找不到这个问题了。")
    if not ignore(db, normalized=learned_key(question.text), question_id=question.id,
                  by=user_id, now=now):
        return Done("已经忽略过了。")
    return Done("已忽略，不再列出。", "ignore", f"question:{question.id}")


async def on_ignore(update: Update, context: Context) -> None:
    """``ui:<question>``: not about the plan — kept in the log, not taught, not listed."""
    await _done_button(update, context, IGNORE_PREFIX, _ignore)


async def _done_button(update: Update, context: Context, prefix: str, act: Act) -> None:
    """An audited one-id button whose message loses its buttons once it acted."""
    done = await audited_button(update, context, prefix, 1, act)
    if done is None:
        return
    if prefix == UNLEARN_PREFIX:
        reload_learned(context.bot_data)
    query, _, result = done
    if result.action is not None and query.message is not None:
        await query.edit_message_reply_markup(None)


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
    await _done_button(update, context, UNLEARN_PREFIX, _unlearn)


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
