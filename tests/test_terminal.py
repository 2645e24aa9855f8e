"""``lvdong chat``: the whole bot in a terminal, driven through piped stdin."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from bot.settings import Settings
from bot.terminal import chat
from storage.db import open_db
from storage.users import role_of
from tests.bot_harness import CONFIDENT_QUESTION, MINI_KB, NOT_COVERED_QUESTION

ROOT = Path(__file__).resolve().parent.parent


async def test_chat_answers_shows_buttons_and_presses_them(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "chat.sqlite", kb_path=MINI_KB)
    script = "\n".join(["/start", NOT_COVERED_QUESTION, "1", "#2", "9", "/quit", "ignored"])
    out = io.StringIO()
    rc = await chat(settings, role="staff", user_id=4242, stdin=io.StringIO(script), stdout=out)
    text = out.getvalue()
    assert rc == 0
    assert "常见问题" in text and "[1] " in text
    assert "<b>" not in text, "HTML is rendered plainly"
    assert "抱歉" in text
    assert "依据" in text, "pressing suggestion 1 answered it"
    assert "〔提示〕谢谢" in text, "#2 pressed 👎 under that answer"
    assert "没有按钮 9" in text
    assert "ignored" not in text.split("/quit")[1]
    db = open_db(settings.db_path)
    assert role_of(db, 4242, frozenset()) == "staff"
    assert [r["useful"] for r in db.query("SELECT useful FROM feedback")] == [0]


def test_lvdong_chat_subprocess_with_piped_stdin(tmp_path: Path) -> None:
    env = {**os.environ, "LVDONG_DB": str(tmp_path / "c.sqlite"), "LVDONG_KB": str(MINI_KB),
           "PYTHONPATH": str(ROOT)}
    env.pop("TELEGRAM_BOT_TOKEN", None)
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--as", "admin", "--user-id", "77"],
        input=f"{CONFIDENT_QUESTION}\n", capture_output=True, text=True, cwd=ROOT, env=env,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "admin" in result.stdout and "依据" in result.stdout
    assert "[1] 👍 有用" in result.stdout
    assert "再见" in result.stdout


async def test_chat_drives_register_through_buttons_and_typed_text(tmp_path: Path) -> None:
    from dataclasses import replace

    from knowledge.engine import load_engine
    from storage.enterprises import enterprise_of_user
    from tests.dialog_driver import credit_code

    settings = Settings(db_path=tmp_path / "chat.sqlite", flood_burst=1000)
    industries = [c.name for c in load_engine().kb.industry_choices]
    chem = industries.index("化工") + 1
    done = len(industries) + 1
    script = "\n".join([
        "/register", "终端测试有限公司", "12345", credit_code(9),
        "1",  # [1] 郑州市
        "中原区", str(chem), str(done), "赵六", "13812345678", "1",  # [1] 确认提交
    ])
    out = io.StringIO()
    rc = await chat(replace(settings), role="enterprise", user_id=5151,
                    stdin=io.StringIO(script), stdout=out)
    text = out.getvalue()
    assert rc == 0
    assert "应为18位，您输入了5位" in text
    assert "[1] 郑州市" in text and "已选：化工" in text
    assert "已提交“终端测试有限公司”的登记申请" in text
    membership = enterprise_of_user(open_db(settings.db_path), 5151)
    assert membership is not None and membership.enterprise.phone == "13812345678"
