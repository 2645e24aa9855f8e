"""End to end over HTTP: /start, questions, suggestions, feedback, hostile text."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from handlers.core.telegram_html import to_plain
from handlers.public.answering import MAX_QUESTION_CHARS
from knowledge.model import Answer
from storage.db import open_db
from storage.users import Role, grant_role
from tests.bot_harness import CONFIDENT_QUESTION, NOT_COVERED_QUESTION, FakeClock, running_bot

ALICE = 1001


async def test_start_greets_with_common_question_buttons(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        [reply] = await bot.exchange(ALICE, "/start")
        text = to_plain(reply.params["text"])
        assert "绿动" in text and "《测试行动方案》" in text, "the title from the KB"
        assert "河南" not in text, "no plan's title written into the handlers"
        buttons = reply.params["reply_markup"]["inline_keyboard"]
        assert len(buttons) >= 3
        assert all(row[0]["callback_data"].startswith("q:") for row in buttons)
        [help_reply] = await bot.exchange(ALICE, "/help")
        assert "/ask" in to_plain(help_reply.params["text"])


async def test_command_menus_are_set_at_start_up(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        scopes = {call.params.get("scope", {}).get("type")
                  for call in bot.api.sent(method="setMyCommands")}
        assert {"default", "all_private_chats", "all_group_chats", "chat"} <= scopes
        admin = [c for c in bot.api.sent(method="setMyCommands")
                 if c.params["scope"].get("chat_id") == 900]
        assert admin, "settings admins get their own menu"


async def test_staff_granted_in_the_database_get_the_staff_menu(tmp_path: Path) -> None:
    db = open_db(tmp_path / "lvdong.sqlite")
    grant_role(db, 4242, Role.STAFF, ["郑州市"], FakeClock().now)
    db.conn.close()
    async with running_bot(tmp_path) as bot:
        menus = [c for c in bot.api.sent(method="setMyCommands")
                 if c.params["scope"].get("chat_id") == 4242]
        assert menus and "pending" in str(menus[0].params["commands"])


async def test_question_is_answered_with_its_basis_and_logged(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        [reply] = await bot.exchange(ALICE, CONFIDENT_QUESTION)
        text = to_plain(reply.params["text"])
        assert "2022年年底前" in text
        assert "依据" in text and "二（一）1" in text
        keyboard = reply.params["reply_markup"]["inline_keyboard"]
        assert [b["text"] for b in keyboard[-1]] == ["👍 有用", "👎 没用"]
        [row] = bot.rows("SELECT * FROM questions")
        assert row["text"] == CONFIDENT_QUESTION and row["answered"] and row["confident"]
        assert row["user_id"] == ALICE and row["chat_id"] == ALICE


async def test_uncovered_question_gets_polite_reply_and_suggestion_buttons(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        [reply] = await bot.exchange(ALICE, NOT_COVERED_QUESTION)
        text = to_plain(reply.params["text"])
        assert "抱歉" in text
        rows = reply.params["reply_markup"]["inline_keyboard"]
        suggestions = [row[0] for row in rows]
        assert 1 <= len(suggestions) <= 3
        assert not [b for b in suggestions if b["text"].startswith(("👍", "👎"))], "a refusal"
        assert not [b for b in suggestions if b["text"] in text], "examples once: as buttons"
        assert all(len(b["callback_data"].encode()) <= 64 for row in rows for b in row)
        assert all(b["callback_data"].startswith("s:") for b in suggestions)
        [row] = bot.rows("SELECT * FROM questions")
        assert not row["answered"] and not row["confident"]

        # clicking a suggestion answers that question
        message_id = bot.last_message_id(ALICE)
        calls = await bot.click(ALICE, ALICE, message_id, suggestions[0]["callback_data"])
        assert [c.method for c in calls].count("answerCallbackQuery") == 1
        [answer] = [c for c in calls if c.method == "sendMessage"]
        assert "抱歉" not in to_plain(answer.params["text"])
        logged = bot.rows("SELECT text FROM questions ORDER BY id")
        assert logged[-1]["text"] == suggestions[0]["text"]


async def test_suggestion_button_still_works_after_a_restart(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        await bot.exchange(ALICE, NOT_COVERED_QUESTION)
        message_id = bot.last_message_id(ALICE)
        button = bot.api.buttons(ALICE, message_id)[0]
        bot.app.bot_data.suggestions.__init__()  # what a restart does to the memory
        calls = await bot.click(ALICE, ALICE, message_id, button["callback_data"])
        [answer] = [c for c in calls if c.method == "sendMessage"]
        assert "抱歉" not in to_plain(answer.params["text"])


async def test_feedback_votes_are_stored_and_acknowledged(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        await bot.exchange(ALICE, CONFIDENT_QUESTION)
        message_id = bot.last_message_id(ALICE)
        up, down = bot.api.buttons(ALICE, message_id)[-2:]
        calls = await bot.click(ALICE, ALICE, message_id, up["callback_data"])
        [ack] = [c for c in calls if c.method == "answerCallbackQuery"]
        assert "谢谢" in ack.params["text"]
        [vote] = bot.rows("SELECT * FROM feedback")
        assert vote["user_id"] == ALICE and vote["useful"] == 1
        # the feedback row is retired from the message
        assert not bot.api.buttons(ALICE, message_id)

        await bot.exchange(ALICE, CONFIDENT_QUESTION)
        message_id = bot.last_message_id(ALICE)
        down = bot.api.buttons(ALICE, message_id)[-1]
        await bot.click(ALICE, ALICE, message_id, down["callback_data"])
        votes = bot.rows("SELECT useful FROM feedback ORDER BY question_id")
        assert [v["useful"] for v in votes] == [1, 0]


async def test_stale_button_after_restart_is_harmless(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        await bot.exchange(ALICE, CONFIDENT_QUESTION)
        message_id = bot.last_message_id(ALICE)
        up = bot.api.buttons(ALICE, message_id)[-2]
        bot.api._queries.clear()  # Telegram no longer knows the query: "query is too old"
        calls = await bot.click(ALICE, ALICE, message_id, up["callback_data"])
        assert len(bot.rows("SELECT * FROM feedback")) == 1
        assert not [c for c in calls if c.method == "sendMessage"], "no error reply"


HOSTILE = [
    "<b>x</b> & * _ </i> &amp; <script>",
    "锅炉" * 5000,  # 10,000 characters
    "😀🔥🏭",
    "燃煤\x00锅炉\x07什么\x1b[31m时候\u202e淘汰",
    "'; DROP TABLE questions; --",
    "   ",
]


async def test_hostile_text_gets_a_sane_reply(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        for user_id, text in enumerate(HOSTILE, start=2001):
            replies = await bot.exchange(user_id, text)
            assert len(replies) == 1, (text[:20], replies)
            plain = to_plain(replies[0].params["text"])  # valid Telegram HTML
            assert plain.strip() and len(plain) <= 4096
            assert "出了点问题" not in plain, text[:20]
        stored = bot.rows("SELECT text FROM questions ORDER BY id")
        assert stored[0]["text"] == HOSTILE[0]
        assert any(len(r["text"]) > MAX_QUESTION_CHARS for r in stored)
        # the emoji-only text and the blank one are no questions (a greeting is sent back)
        assert bot.rows("SELECT count(*) AS n FROM questions")[0]["n"] >= 4
        [reply] = await bot.exchange(ALICE, CONFIDENT_QUESTION)
        assert "依据" in to_plain(reply.params["text"])


async def test_unknown_command_is_explained(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        [reply] = await bot.exchange(ALICE, "/frobnicate")
        assert "/help" in reply.params["text"]
        [reply] = await bot.exchange(ALICE, "/ask")
        assert "/ask" in reply.params["text"]
        [reply] = await bot.exchange(ALICE, f"/ask {CONFIDENT_QUESTION}")
        assert "依据" in to_plain(reply.params["text"])


class EchoingEngine:
    """The real engine's answer with the question echoed in it, as an engine well might."""

    def __init__(self) -> None:
        from knowledge.engine import load_engine
        from tests.bot_harness import MINI_KB

        self.engine = load_engine(MINI_KB)
        self.kb = self.engine.kb

    def ask(self, question: str, **context: Any) -> Answer:
        answer = self.engine.ask(question, **context)
        return replace(answer, text=f"您问的是：{question}\n{answer.text}",
                       sources=(*answer.sources, "附 <表1> & 说明"))


async def test_user_and_engine_text_is_escaped_in_replies(tmp_path: Path) -> None:
    async with running_bot(tmp_path, engine=EchoingEngine()) as bot:
        for user_id, text in enumerate(HOSTILE[:4], start=3001):
            [reply] = await bot.exchange(user_id, text)
            plain = to_plain(reply.params["text"])  # the stand-in rejects broken HTML with 400
            assert "出了点问题" not in plain
        [reply] = await bot.exchange(ALICE, "<b>x</b> & * _")
        assert "您问的是：<b>x</b> & * _" in to_plain(reply.params["text"])


async def test_the_shipped_refusal_lists_its_examples_once_and_asks_no_rating(
    tmp_path: Path, engine: object
) -> None:
    """Issue 11, item 11: the examples were shown twice (bullets and buttons) with 👍/👎."""
    async with running_bot(tmp_path, engine=engine) as bot:  # type: ignore[arg-type]
        [reply] = await bot.exchange(ALICE, "今天天气怎么样")
        text = to_plain(reply.params["text"])
        labels = [b["text"] for row in reply.params["reply_markup"]["inline_keyboard"]
                  for b in row]
        assert labels and not [label for label in labels if label in text]
        assert "👍 有用" not in labels and "👎 没用" not in labels
        assert "·" not in text and text.count("？") <= 1


async def test_a_greeting_gets_a_short_greeting_and_the_buttons(tmp_path: Path) -> None:
    async with running_bot(tmp_path) as bot:
        for greeting in ("hello", "你好", "1", "在吗？", "👋"):
            [reply] = await bot.exchange(ALICE, greeting)
            text = to_plain(reply.params["text"])
            assert "我是绿动" in text and "《测试行动方案》" in text and "抱歉" not in text
            assert len(text) < 80, text
            rows = reply.params["reply_markup"]["inline_keyboard"]
            assert all(row[0]["callback_data"].startswith("q:") for row in rows)
        assert bot.rows("SELECT * FROM questions") == [], "a greeting is no question"
        [reply] = await bot.exchange(ALICE, "你好，冲天炉要淘汰吗")
        assert "我是绿动" not in to_plain(reply.params["text"])
