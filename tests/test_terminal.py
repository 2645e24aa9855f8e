"""``lvdong chat``: the whole bot in a terminal, driven through piped stdin, through the
same in-process Bot API the terminal uses."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from bot.cli import build_parser
from bot.settings import Settings
from bot.terminal import LOG_FILE, button_key, chat, run_terminal_chat
from storage.clock import utc_now
from storage.db import open_db
from storage.enterprises import approve, enterprise_of_user, register
from storage.reports import latest_by_task
from storage.users import Role, get_user, grant_role, role_of
from tests.bot_harness import CONFIDENT_QUESTION, MINI_KB, NOT_COVERED_QUESTION, shipped_kb
from tests.dialog_driver import credit_code

ROOT = Path(__file__).resolve().parent.parent


def keys(count: int) -> list[str]:
    return [button_key(i) for i in range(count)]


def test_buttons_are_lettered() -> None:
    assert keys(3) == ["a", "b", "c"]
    assert button_key(25) == "z" and button_key(26) == "aa" and button_key(27) == "ab"
    assert len(set(keys(800))) == 800


async def test_chat_answers_shows_buttons_and_presses_them(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "chat.sqlite", kb_path=MINI_KB)
    script = "\n".join(["/start", NOT_COVERED_QUESTION, "a", "b", "z", "/quit", "ignored"])
    out = io.StringIO()
    rc = await chat(settings, role=None, user_id=4242, stdin=io.StringIO(script), stdout=out)
    text = out.getvalue()
    assert rc == 0
    assert "常见问题" in text and "[a] " in text
    assert "<b>" not in text, "HTML is rendered plainly"
    assert "抱歉" in text
    assert "依据" in text, "pressing suggestion a answered it"
    assert "〔提示〕谢谢" in text, "b pressed 👎 under that answer"
    assert "绿动> 抱歉" in text.split("你> z")[1], "no button z: z is typed text, a question"
    assert "ignored" not in text.split("/quit")[1]
    db = open_db(settings.db_path)
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
    assert "admin（仅本次对话）" in result.stdout and "依据" in result.stdout
    assert "[a] 👍 有用" in result.stdout
    assert "再见" in result.stdout
    assert role_of(open_db(tmp_path / "c.sqlite"), 77, frozenset()) is Role.ENTERPRISE


async def test_chat_drives_register_through_buttons_and_typed_text(tmp_path: Path) -> None:
    settings = Settings(db_path=tmp_path / "chat.sqlite")
    kb = shipped_kb()
    industries = [c.name for c in kb.industry_choices]
    chem, done = keys(len(industries) + 1)[industries.index("化工")], button_key(len(industries))
    unsure = ["c"] * len(kb.deciding_qualifiers(["化工"]))  # [c] 不清楚, to each question
    script = "\n".join([
        "/register", "终端测试有限公司", "12345", credit_code(9),
        "a",  # [a] 郑州市
        "中原区", chem, done, *unsure, "赵六", "13812345678", "a",  # [a] 确认提交
    ])
    out = io.StringIO()
    rc = await chat(replace(settings), role=None, user_id=5151,
                    stdin=io.StringIO(script), stdout=out)
    text = out.getvalue()
    assert rc == 0
    assert "应为18位，您输入了5位" in text
    assert "[a] 郑州市" in text and "已选：化工" in text
    assert "已提交“终端测试有限公司”的登记申请" in text
    membership = enterprise_of_user(open_db(settings.db_path), 5151)
    assert membership is not None and membership.enterprise.phone == "13812345678"


async def test_chat_never_changes_a_stored_role(tmp_path: Path) -> None:
    """Issue 11, item 1: `--as staff` made a city's staff province-wide; the default
    `--as enterprise` demoted staff."""
    settings = Settings(db_path=tmp_path / "chat.sqlite", kb_path=MINI_KB)
    db = open_db(settings.db_path)
    grant_role(db, 401, Role.STAFF, ["洛阳市"], utc_now())
    grant_role(db, 222, Role.STAFF, (), utc_now())

    async def session(role: str | None, user_id: int) -> tuple[int, str]:
        out = io.StringIO()
        rc = await chat(settings, role=role, user_id=user_id, stdin=io.StringIO("/pending\n"),
                        stdout=out)
        return rc, out.getvalue()

    rc, text = await session("staff", 401)
    assert rc == 0 and "身份：staff" in text and "没有待审核" in text
    rc, text = await session(None, 222)  # no --as: the stored role
    assert rc == 0 and "身份：staff" in text
    rc, text = await session("admin", 222)
    assert rc == 0 and "admin（仅本次对话）" in text
    assert (await session("enterprise", 222))[0] == 2, "a conflicting --as is refused"
    assert (await session("staff", 333))[0] == 2, "nobody becomes staff by --as"
    staff_401, staff_222 = get_user(db, 401), get_user(db, 222)
    assert staff_401 is not None and staff_401.role is Role.STAFF
    assert staff_401.scope.regions == {"洛阳市"}
    assert staff_222 is not None and staff_222.role is Role.STAFF and staff_222.scope.province
    assert role_of(db, 333, frozenset()) is Role.ENTERPRISE


def test_a_conflicting_role_is_explained(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                         ) -> None:
    settings = Settings(db_path=tmp_path / "chat.sqlite", kb_path=MINI_KB)
    rc = run_terminal_chat(settings, "staff", 333, stdin=io.StringIO(""), stdout=io.StringIO())
    assert rc == 2
    error = capsys.readouterr().err
    assert "不会改动数据库中的角色" in error and "lvdong grant 333 staff" in error


async def test_a_typed_number_is_a_task_number_not_a_button(tmp_path: Path) -> None:
    """Issue 11, item 6: typing 5 pressed button [5] (task 17) and filed on task 17."""
    settings = Settings(db_path=tmp_path / "chat.sqlite")
    db = open_db(settings.db_path)
    registration = register(
        db, user_id=6161, name="终端化工有限公司", credit_code=credit_code(11), city="郑州市",
        county=None, industries=["化工"], contact_name="赵六", phone="13812345678",
        now=utc_now())
    approve(db, account_id=registration.account.id, approver_id=1, admins=frozenset({1}),
            now=utc_now())
    script = "\n".join(["/report", "5", "进行中", "60", "设备安装中", "12月底", "完成", "确认提交"])
    out = io.StringIO()
    assert await chat(settings, role=None, user_id=6161, stdin=io.StringIO(script),
                      stdout=out) == 0
    assert "[e] " in out.getvalue(), "there were buttons a number could have collided with"
    assert list(latest_by_task(db, registration.enterprise.id)) == [5]


def test_logs_go_to_a_file_not_into_the_chat(tmp_path: Path,
                                               capfd: pytest.CaptureFixture[str]) -> None:
    """Issue 11, item 14: "no staff to notify in 郑州市" was printed into the chat."""
    settings = Settings(db_path=tmp_path / "chat.sqlite")
    script = "\n".join(["/register", "终端测试有限公司", credit_code(12), "郑州市", "跳过",
                        "化工", "完成",
                        *["不清楚"] * len(shipped_kb().deciding_qualifiers(["化工"])),
                        "赵六", "13812345678", "确认提交"])
    out = io.StringIO()
    assert run_terminal_chat(settings, None, 7171, stdin=io.StringIO(script), stdout=out) == 0
    assert "已提交" in out.getvalue()
    printed = out.getvalue() + "".join(capfd.readouterr())
    assert "no staff to notify" not in printed and "WARNING" not in printed
    assert "no staff covers its region" in (tmp_path / LOG_FILE).read_text(encoding="utf-8")


async def test_piped_questions_are_not_throttled(tmp_path: Path) -> None:
    """Issue 11, item 14: the 7th piped line hit flood control."""
    settings = Settings(db_path=tmp_path / "chat.sqlite", kb_path=MINI_KB)
    out = io.StringIO()
    script = "\n".join([CONFIDENT_QUESTION] * 12)
    assert await chat(settings, role=None, user_id=8181, stdin=io.StringIO(script),
                      stdout=out) == 0
    assert out.getvalue().count("依据") == 12 and "太快" not in out.getvalue()


class SlowInput(io.StringIO):
    """Piped lines, some typed only once the chat has shown a text (a user who walks
    away and comes back after the note), or after a deadline if it never shows."""

    def __init__(self, out: io.StringIO, lines: list[tuple[str | None, str]]) -> None:
        super().__init__()
        self.out = out
        self.lines = list(lines)

    def readline(self, size: int | None = -1) -> str:
        if not self.lines:
            return ""
        shown, line = self.lines.pop(0)
        deadline = time.monotonic() + 10
        while shown is not None and shown not in self.out.getvalue():
            if time.monotonic() > deadline:
                break  # typed anyway: the test then finds the note after it
            time.sleep(0.01)
        return line + "\n"


NOTE = "由于长时间没有操作"


async def test_a_timed_out_dialog_shows_its_note_at_once(tmp_path: Path) -> None:
    """Issue 11, item 14: the note came only with the next input, which was then also
    answered as a question."""
    settings = Settings(db_path=tmp_path / "chat.sqlite", kb_path=MINI_KB, dialog_timeout=0.5)
    out = io.StringIO()
    stdin = SlowInput(out, [(None, "/register"), (None, "某公司"), (NOTE, CONFIDENT_QUESTION)])
    assert await chat(settings, role=None, user_id=9191, stdin=stdin, stdout=out) == 0
    text = out.getvalue()
    note = text.index(NOTE)
    later = text.index(f"你> {CONFIDENT_QUESTION}")
    assert note < later, "the note is shown when it is sent"
    assert "由于长时间没有操作" not in text[later:], "the next input gets only its answer"
    assert "依据" in text[later:]


def test_chat_help_explains_as_and_user_id(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["chat", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert "--as ROLE" in shown and "--user-id N" in shown
    assert "从不写入角色" in shown and "只在本次对话有效" in shown
    assert "数据库中 --user-id 的" in shown and "输入字母即按下该按钮" in shown
