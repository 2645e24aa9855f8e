"""Operators' tools: ``lvdong backup`` while the bot writes, the documented restore, and
``lvdong doctor`` saying what is wrong and how to fix it."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import SettingsError, load_settings
from storage import migrations
from storage.db import open_db
from tests.bot_process import bot_env, free_port, start
from tests.botapi_server import BotApiServer
from tests.command_line import Ran
from tests.command_line import lvdong as run_lvdong

WRITER = 777  # the user id of the rows the concurrent writer adds
BULK = 50_000  # questions already in the database, so the copy is not instant


def lvdong(*args: str, db_path: Path) -> Ran:
    return run_lvdong(*args, env={"LVDONG_DB": str(db_path)})


def filled_db(path: Path) -> None:
    db = open_db(path)
    with db.conn:
        db.conn.executemany(
            "INSERT INTO questions (user_id, chat_id, text, answered, confident, created_at)"
            " VALUES (?, ?, ?, 1, 1, '2021-06-01T00:00:00.000000+00:00')",
            ((n % 500, n % 500, f"燃煤锅炉什么时候淘汰 {n}") for n in range(BULK)),
        )
    db.conn.close()


@contextlib.contextmanager
def writing(path: Path) -> Iterator[list[int]]:
    """Another connection commits a question and its feedback, again and again, each pair
    in one transaction, until the block ends; yields the count of commits so far."""
    commits = [0]
    stop = threading.Event()

    def write() -> None:
        db = open_db(path)
        while not stop.is_set():
            with db.conn:
                cursor = db.conn.execute(
                    "INSERT INTO questions (user_id, chat_id, text, answered, confident,"
                    " created_at) VALUES (?, ?, 'q', 1, 1, 'now')", (WRITER, WRITER))
                db.conn.execute(
                    "INSERT INTO feedback (question_id, user_id, useful, created_at, updated_at)"
                    " VALUES (?, ?, 1, 'now', 'now')", (cursor.lastrowid, WRITER))
            commits[0] += 1
        db.conn.close()

    thread = threading.Thread(target=write)
    thread.start()
    try:
        yield commits
    finally:
        stop.set()
        thread.join()


def wait_for_commits(commits: list[int], count: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while commits[0] < count:
        assert time.monotonic() < deadline, "the writer stopped committing"
        time.sleep(0.005)


def test_backup_while_writes_happen_is_a_consistent_intact_copy(tmp_path: Path) -> None:
    live = tmp_path / "lvdong.sqlite"
    filled_db(live)
    copy = tmp_path / "backups" / "copy.sqlite"
    copy.parent.mkdir()
    with writing(live) as commits:
        wait_for_commits(commits, 20)
        before = commits[0]
        result = lvdong("backup", str(copy), db_path=live)
        after = commits[0]
        wait_for_commits(commits, after + 20)  # and the writer goes on after the backup
    assert result.returncode == 0, result.stderr
    assert f"→ {copy}" in result.stdout and "integrity_check ok" in result.stdout
    assert after > before, "the bot's writes went on while the backup ran"
    assert sorted(p.name for p in copy.parent.iterdir()) == ["copy.sqlite"], "no .partial left"
    with contextlib.closing(sqlite3.connect(copy)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert conn.execute("PRAGMA application_id").fetchone() == (migrations.APPLICATION_ID,)
        [(questions,)] = conn.execute(
            "SELECT count(*) FROM questions WHERE user_id = ?", (WRITER,)).fetchall()
        [(answered,)] = conn.execute(
            "SELECT count(*) FROM feedback WHERE user_id = ?", (WRITER,)).fetchall()
        [(bulk,)] = conn.execute(
            "SELECT count(*) FROM questions WHERE user_id != ?", (WRITER,)).fetchall()
    assert bulk == BULK
    assert questions == answered, "one snapshot: no transaction is cut in half"
    assert before <= questions <= after, "the copy is the database as of one moment of the run"


def test_backup_into_a_directory_and_never_over_a_file(tmp_path: Path) -> None:
    live = tmp_path / "lvdong.sqlite"
    open_db(live).conn.close()
    backups = tmp_path / "backups"
    backups.mkdir()
    first = lvdong("backup", str(backups), db_path=live)
    assert first.returncode == 0, first.stderr
    [made] = list(backups.iterdir())
    assert made.name.startswith("lvdong-") and made.suffix == ".sqlite"
    again = lvdong("backup", str(made), db_path=live)
    assert again.returncode == 2 and "已存在，备份不会覆盖它" in again.stderr
    missing = lvdong("backup", str(backups / "x.sqlite"), db_path=tmp_path / "none.sqlite")
    assert missing.returncode == 2 and "没有数据库" in missing.stderr
    assert "Traceback" not in again.stderr + missing.stderr


def test_restore_as_the_readme_says(tmp_path: Path) -> None:
    """README "备份与恢复": stop the bot, set the damaged file aside with its -wal and -shm,
    copy the backup into place, start again."""
    live = tmp_path / "lvdong.sqlite"
    filled_db(live)
    backup = tmp_path / "backup.sqlite"
    assert lvdong("backup", str(backup), db_path=live).returncode == 0
    db = open_db(live)  # later writes, then the damage; a -wal is left behind
    db.execute("DELETE FROM questions")
    db.conn.commit()
    with live.open("r+b") as file:
        file.write(b"\0" * 100)
    for suffix in ("", "-wal", "-shm"):  # the restore
        source = Path(f"{live}{suffix}")
        if source.exists():
            source.rename(tmp_path / f"damaged.sqlite{suffix}")
    shutil.copyfile(backup, live)
    restored = open_db(live)
    assert restored.execute("SELECT count(*) FROM questions").fetchone() == (BULK,)
    assert restored.execute("PRAGMA integrity_check").fetchone() == ("ok",)


# --- lvdong doctor -----------------------------------------------------------------------


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_doctor_on_a_healthy_deployment_checks_everything_and_exits_0(
    tmp_path: Path,
) -> None:
    db_path = tmp_path / "lvdong.sqlite"
    open_db(db_path).conn.close()
    async with BotApiServer() as server:
        code, out = await doctor(bot_env(server, db_path))
        assert server.api.sent(method="getMe"), "the token was tried"
    assert code == 0, out
    for expected in ("✓ 知识库", "1项任务", "✓ 数据库", "integrity_check ok",
                     f"结构版本{migrations.LATEST}", "✓ Telegram", "令牌有效",
                     "@lvdong_local_bot", "✓ Webhook：未使用", "一切正常"):
        assert expected in out, expected


async def test_doctor_names_each_problem_with_its_fix_and_changes_nothing(
    tmp_path: Path,
) -> None:
    db_path = tmp_path / "lvdong.sqlite"
    open_db(db_path).conn.close()
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        conn.execute("PRAGMA user_version = 1")  # an older schema: fine, upgraded at start
    kb = tmp_path / "plan.yaml"
    kb.write_text("format: 1\n", encoding="utf-8")
    before = digest(db_path)
    async with BotApiServer() as server:
        code, out = await doctor(bot_env(
            server, db_path, TELEGRAM_BOT_TOKEN="111111:revoked-token-of-the-doctor-test-000",
            LVDONG_KB=str(kb), LVDONG_WEBHOOK_URL="https://bot.example.gov.cn/hook",
        ))
    assert code == 1, out
    assert f"✗ 知识库：{kb} 有" in out and f"lvdong kb check {kb}" in out
    assert f"下次启动时升级到{migrations.LATEST}" in out and "✓ 数据库" in out
    assert "✗ Telegram：127.0.0.1" in out and "不接受这个令牌" in out and "@BotFather" in out
    assert "✗ Webhook：webhook 模式必须设置 LVDONG_WEBHOOK_SECRET" in out
    assert "secrets.token_urlsafe" in out
    assert out.count("    怎么办：") == 3 and "发现3个问题" in out
    assert "revoked-token" not in out
    assert digest(db_path) == before, "the doctor only looks"


async def test_doctor_on_a_corrupt_database_and_an_unreachable_api(tmp_path: Path) -> None:
    db_path = tmp_path / "lvdong.sqlite"
    db_path.write_bytes(b"not a database at all" * 100)
    async with BotApiServer() as server:
        code, out = await doctor(bot_env(
            server, db_path, TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{free_port()}/bot",
        ))
    assert code == 1, out
    assert f"✗ 数据库：{db_path}：文件已损坏或不是 SQLite 数据库" in out and "从备份恢复" in out
    assert "✗ Telegram：连不上 127.0.0.1:" in out and "TELEGRAM_API_BASE_URL" in out


async def doctor(env: dict[str, str]) -> tuple[int, str]:
    """``lvdong doctor`` in a process (the stand-in answers from this test's event loop)."""
    proc = await start(env, "doctor")
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode is not None and "Traceback" not in err.decode()
    return proc.returncode, out.decode()


def test_doctor_on_a_bad_setting_names_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LVDONG_LOG_LEVEL", "LOUD")
    assert main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "✗ 设置：LVDONG_LOG_LEVEL: 'LOUD' is not one of DEBUG, INFO, WARNING, ERROR" in out
    assert "怎么办" in out


def test_log_settings() -> None:
    settings = load_settings({"LVDONG_LOG_LEVEL": "debug", "LVDONG_LOG_FORMAT": "JSON"})
    assert (settings.log_level, settings.log_format) == ("DEBUG", "json")
    assert (load_settings({}).log_level, load_settings({}).log_format) == ("INFO", "text")
    with pytest.raises(SettingsError, match="LVDONG_LOG_FORMAT: 'xml'"):
        load_settings({"LVDONG_LOG_FORMAT": "xml"})


@pytest.mark.parametrize("key", ["LVDONG_ADMINS", "LVDONG_REMINDER_DAYS", "LVDONG_WEBHOOK_PORT"])
def test_a_number_setting_of_superscript_digits_is_named_not_a_crash(key: str) -> None:
    # "²" is a digit to str.isdigit but int() cannot read it
    with pytest.raises(SettingsError, match=key):
        load_settings({key: "²"})
