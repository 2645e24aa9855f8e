"""``lvdong chat`` with several windows on one database (issue 17): each window is the
Telegram app of one user, so it delivers only that user's outbox messages and leaves the
rest queued for their own windows; every message's buttons stay addressable; files the
bot sends are saved; ``/file PATH`` attaches one. Driven through :func:`bot.terminal.chat`,
the in-process Bot API the terminal uses, with typed lines arriving while it runs."""

from __future__ import annotations

import asyncio
import io
import queue
import re
from pathlib import Path

from bot.settings import Settings
from bot.terminal import FILES_DIR, chat
from storage.clock import utc_now
from storage.db import open_db
from storage.enterprises import Status, approve, get_account, register
from storage.users import Role, grant_role
from tests.bot_harness import MINI_KB, WAIT
from tests.dialog_driver import credit_code

STAFF = 20001


class LiveInput(io.StringIO):
    """A keyboard: lines arrive while the chat runs; ``readline`` waits for the next."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: queue.Queue[str] = queue.Queue()

    def readline(self, size: int | None = -1) -> str:
        try:  # a failed test must not leave this thread waiting for ever
            return self.lines.get(timeout=4 * WAIT)
        except queue.Empty:
            return ""

    def isatty(self) -> bool:
        return False


class Window:
    """One ``lvdong chat`` window for one user, running until :meth:`close`."""

    def __init__(self, settings: Settings, user_id: int) -> None:
        self.stdin = LiveInput()
        self.out = io.StringIO()
        self.task = asyncio.create_task(
            chat(settings, role=None, user_id=user_id, stdin=self.stdin, stdout=self.out))

    @property
    def text(self) -> str:
        return self.out.getvalue()

    async def shows(self, pattern: str, start: int = 0, timeout: float = WAIT) -> str:
        """Wait until the output after ``start`` matches ``pattern``; returns that output."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not re.search(pattern, self.text[start:]):
            if self.task.done() or loop.time() > deadline:
                raise AssertionError(f"{pattern!r} never shown in:\n{self.text[start:]}")
            await asyncio.sleep(0.02)
        return self.text[start:]

    async def type(self, line: str, expect: str) -> str:
        start = len(self.text)
        self.stdin.lines.put(line + "\n")
        return await self.shows(expect, start)

    async def close(self) -> int:
        self.stdin.lines.put("")
        return await self.task


def setup(tmp_path: Path, *enterprises: tuple[int, str]) -> tuple[Settings, list[int]]:
    settings = Settings(db_path=tmp_path / "chat.sqlite", kb_path=MINI_KB)
    db = open_db(settings.db_path)
    grant_role(db, STAFF, Role.STAFF, (), utc_now())
    accounts = []
    for n, (user_id, name) in enumerate(enterprises):
        registration = register(
            db, user_id=user_id, name=name, credit_code=credit_code(40 + n), city="郑州市",
            county=None, industries=["化工"], contact_name="赵六", phone="13812345678",
            now=utc_now())
        accounts.append(registration.account.id)
    db.conn.close()
    return settings, accounts


def statuses(settings: Settings) -> dict[int, str]:
    db = open_db(settings.db_path)
    try:
        return {row["chat_id"]: row["status"]
                for row in db.query("SELECT chat_id, status FROM outbox")}
    finally:
        db.conn.close()


async def test_a_window_delivers_only_its_own_users_messages(tmp_path: Path) -> None:
    """The staff window approved; the note stayed queued until the enterprise's window
    opened, and only that window shows it (before: the staff window sent it into its own
    API, dropped it, and the outbox said ``sent``)."""
    settings, _ = setup(tmp_path, (6161, "窗口化工有限公司"))
    staff = Window(settings, STAFF)
    await staff.type("/pending", r"\[a\] 批准")
    await staff.type("a", "已批准")
    assert await staff.close() == 0
    assert statuses(settings) == {6161: "queued"}, "left for the enterprise's own window"
    assert "审核通过" not in staff.text

    enterprise = Window(settings, 6161)
    staff = Window(settings, STAFF)  # both open at once on one database
    await enterprise.shows("审核通过")
    await staff.type("/pending", "没有待审核")
    assert await enterprise.close() == 0 and await staff.close() == 0
    assert statuses(settings) == {6161: "sent"}
    assert "审核通过" not in staff.text


async def test_buttons_of_every_message_on_screen_can_be_pressed(tmp_path: Path) -> None:
    """Three applications from /pending: `a` is the first one's 批准, `2a` the second's
    (before: only the newest message's buttons were lettered, and `a` approved the last)."""
    settings, accounts = setup(tmp_path, (7001, "甲化工有限公司"), (7002, "乙化工有限公司"),
                               (7003, "丙化工有限公司"))
    staff = Window(settings, STAFF)
    shown = await staff.type("/pending", r"\[3a\] 批准")
    assert "[2a] 批准" in shown and "[2b] 驳回" in shown
    await staff.type("2a", "已批准")
    await staff.type("3b", "驳回理由")  # still addressable after 2a edited its message
    await staff.type("a", r"\[a\] 确认驳回")  # [a] 信用代码与企业不符
    await staff.type("a", "已驳回")
    assert await staff.close() == 0
    db = open_db(settings.db_path)
    decided = [account.status if (account := get_account(db, a)) else None for a in accounts]
    assert decided == [Status.PENDING, Status.APPROVED, Status.REJECTED]


async def test_files_the_bot_sends_are_saved_and_files_can_be_attached(tmp_path: Path) -> None:
    settings, accounts = setup(tmp_path, (8001, "附件化工有限公司"))
    db = open_db(settings.db_path)
    approve(db, account_id=accounts[0], approver_id=1, admins=frozenset({1}), now=utc_now())
    db.conn.close()
    staff = Window(settings, STAFF)
    shown = await staff.type("/export", r"已保存到 .+\.xlsx")
    saved = Path(re.findall(r"已保存到 (\S+\.xlsx)", shown)[0])
    assert saved.parent.parent == tmp_path / FILES_DIR and saved.read_bytes()[:2] == b"PK"
    assert await staff.close() == 0

    pdf = tmp_path / "验收报告.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%%EOF\n")
    enterprise = Window(settings, 8001)
    await enterprise.type("/report", "任务")
    await enterprise.type("1", "状态|进展")
    await enterprise.type("已完成", "情况")
    await enterprise.type("设备已验收", "完成日期")
    await enterprise.type("2021-06-30", "照片或PDF")
    await enterprise.type(f"/file {pdf}", "已添加1个")
    photo = tmp_path / "现场.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + b"\0" * 100)
    await enterprise.type(f"/file {photo}", "已添加2个")  # a picture goes as a photo
    missing = await enterprise.type(f"/file {tmp_path / 'nope.pdf'}", "找不到文件")
    assert "nope.pdf" in missing
    assert await enterprise.close() == 0
