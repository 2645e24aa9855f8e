"""Start-up problems: one paragraph naming the file and what to do, exit code 2, never a
traceback, and the file exactly as it was."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database

from bot.cli import main
from bot.log_redaction import LIBRARY_LOGGERS, NOISY_LOGGERS
from storage import migrations
from storage.db import DatabaseUnusable, connect, open_db
from tests.bot_harness import MINI_KB
from tests.bot_process import ROOT, bot_env, finish, free_port, start
from tests.botapi_server import BotApiServer

TRACEBACK = "Traceback"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """`lvdong run` configured but for what each test breaks; yields the database path.
    (In-process runs configure logging on the captured stderr: put it back afterwards.)"""
    for key in list(os.environ):
        if key.startswith(("LVDONG_", "TELEGRAM_")):
            monkeypatch.delenv(key)
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123456:unused-because-start-up-fails-first")
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", f"http://127.0.0.1:{free_port()}/bot")
    monkeypatch.setenv("LVDONG_KB", str(MINI_KB))
    db_path = tmp_path / "data" / "lvdong.sqlite"
    monkeypatch.setenv("LVDONG_DB", str(db_path))
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    yield db_path
    root.handlers = saved[0]
    root.setLevel(saved[1])
    for name in (*LIBRARY_LOGGERS, *NOISY_LOGGERS):
        logging.getLogger(name).setLevel(logging.NOTSET)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_fails(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """`lvdong run` (or ``args``) exits 2 with one paragraph and no traceback."""
    assert main(list(args or ("run",))) == 2
    err = capsys.readouterr().err
    assert TRACEBACK not in err
    assert err.startswith("lvdong: ")
    return err


def execute(path: Path, *statements: str) -> None:
    """Run and commit ``statements``, then close (a closed connection leaves no -wal)."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        for statement in statements:
            conn.execute(statement)
        conn.commit()


def lvdong_db(path: Path, version: int = migrations.LATEST) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = Database(connect(path))
    migrations.migrate(db, target=version)
    db.execute("INSERT INTO users (user_id, name, first_seen, last_seen) VALUES (7, 'x', 'a', 'a')")
    db.conn.commit()
    db.conn.close()
    return path


# --- the database ------------------------------------------------------------------------


def test_a_corrupt_file_is_named_and_left_alone(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env.parent.mkdir(parents=True)
    env.write_bytes(b"PK\x03\x04 this was a zip file, not a database" * 200)
    before = digest(env)
    err = run_fails(capsys)
    assert f"不能使用数据库 {env}：文件已损坏或不是 SQLite 数据库" in err
    assert "文件未被改动" in err and "从备份恢复" in err
    assert digest(env) == before
    assert sorted(p.name for p in env.parent.iterdir()) == [env.name], "no -wal, no -shm"


def test_a_newer_schema_is_refused_unchanged(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lvdong_db(env)
    execute(env, f"PRAGMA user_version = {migrations.LATEST + 1}")
    before = digest(env)
    err = run_fails(capsys)
    assert f"不能使用数据库 {env}：它由更新版本的 lvdong 写入" in err
    assert f"schema version {migrations.LATEST + 1} is newer than this lvdong's" in err
    assert "请安装与之相同或更新的 lvdong" in err
    assert digest(env) == before


def test_another_applications_database_gets_no_lvdong_tables(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env.parent.mkdir(parents=True)
    execute(env, "CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount REAL)",
            "INSERT INTO invoices (amount) VALUES (9.5)")  # rollback journal: WAL would rewrite it
    before = digest(env)
    err = run_fails(capsys, "grant", "42", "staff")
    assert f"不能使用数据库 {env}：它不是 lvdong 的数据库" in err and "invoices" in err
    assert digest(env) == before
    with contextlib.closing(sqlite3.connect(env)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master")]
    assert names == ["invoices"]


def test_a_database_of_another_application_id_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    execute(path, "PRAGMA application_id = 1096045395")
    with pytest.raises(DatabaseUnusable, match=f"application_id is {1096045395:#x}"):
        open_db(path)


def test_an_lvdong_database_from_before_the_mark_is_adopted(tmp_path: Path) -> None:
    path = lvdong_db(tmp_path / "old.sqlite", version=1)
    execute(path, "PRAGMA application_id = 0")  # as every lvdong database before the mark
    db = open_db(path)
    assert migrations.application_id(db) == migrations.APPLICATION_ID
    assert migrations.schema_version(db) == migrations.LATEST
    assert db.execute("SELECT name FROM users").fetchall() == [("x",)]


def test_a_new_database_is_marked_as_lvdongs(tmp_path: Path) -> None:
    db = open_db(tmp_path / "new.sqlite")
    assert migrations.application_id(db) == migrations.APPLICATION_ID


def test_a_directory_as_the_database_path(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env.mkdir(parents=True)
    err = run_fails(capsys)
    assert f"不能使用数据库 {env}：这是一个目录" in err and "LVDONG_DB 应是文件路径" in err


@contextlib.contextmanager
def read_only(directory: Path) -> Iterator[None]:
    """No new files in ``directory``: mode 555, or for root (whom modes do not stop) the
    immutable attribute."""
    if os.geteuid() != 0:
        directory.chmod(0o555)
        try:
            yield
        finally:
            directory.chmod(0o755)
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(directory)],
                                        capture_output=True).returncode != 0:
        pytest.skip("running as root without chattr +i (CAP_LINUX_IMMUTABLE): "
                    "cannot make a directory read-only for root")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(directory)], check=True)


def test_a_read_only_directory_says_which_and_what_to_do(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lvdong_db(env)
    before = digest(env)
    with read_only(env.parent):
        err = run_fails(capsys)
        assert f"不能使用数据库 {env}：无法打开或写入" in err
        assert f"SQLite 要在目录 {env.parent} 中写入数据库和它的 -wal、-shm 文件" in err
        assert digest(env) == before
    fresh = env.parent / "fresh"
    fresh.mkdir()
    with read_only(fresh), pytest.MonkeyPatch.context() as patch:
        patch.setenv("LVDONG_DB", str(fresh / "lvdong.sqlite"))
        assert f"不能使用数据库 {fresh / 'lvdong.sqlite'}：无法打开或写入" in run_fails(capsys)


def test_a_full_disk_during_the_upgrade_leaves_the_old_database(env: Path) -> None:
    """The disk fills while migrating (simulated with a file-size limit, RLIMIT_FSIZE:
    writes beyond it fail as on a full disk): exit 2, the file as it was, still version 1
    and still without the mark of this version's lvdong."""
    lvdong_db(env, version=1)
    execute(env, "PRAGMA application_id = 0")  # an lvdong database from before the mark
    before = digest(env)
    limit = 33_000  # room for the 32 KiB -shm, not for the migrations' pages in the -wal

    def small_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"], cwd=ROOT, env={**os.environ,
                                                                 "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=60, preexec_fn=small_disk,
    )
    assert proc.returncode == 2, proc.stderr
    assert f"不能使用数据库 {env}：写入失败，磁盘已满或出现 I/O 错误" in proc.stderr
    assert f"df -h {env.parent}" in proc.stderr and TRACEBACK not in proc.stderr
    assert digest(env) == before
    with contextlib.closing(sqlite3.connect(env)) as conn:  # reads a -wal, if one was left
        assert conn.execute("PRAGMA user_version").fetchone() == (1,)
        assert conn.execute("PRAGMA application_id").fetchone() == (0,)


async def test_a_corrupt_table_found_while_loading_dialogs(tmp_path: Path) -> None:
    """Header and schema intact, the dialog data table's page garbage: found when the bot loads
    the dialogs, reported like any corrupt file."""
    db_path = lvdong_db(tmp_path / "lvdong.sqlite")
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        [(root_page,)] = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'user_data'"
        ).fetchall()
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    with db_path.open("r+b") as file:
        file.seek((root_page - 1) * page_size)
        file.write(b"\xff" * page_size)
    before = digest(db_path)
    async with BotApiServer() as server:
        code, err = await finish(await start(bot_env(server, db_path)))
    assert code == 2, err
    assert f"lvdong: 不能使用数据库 {db_path}：文件已损坏" in err.splitlines()[-1]
    assert 'File "<frozen runpy>"' not in err
    assert digest(db_path) == before


async def test_telegram_unreachable_at_start_up_exits_1_with_a_paragraph(tmp_path: Path) -> None:
    async with BotApiServer() as server:
        env = bot_env(server, tmp_path / "lvdong.sqlite",
                      TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{free_port()}/bot")
        code, err = await finish(await start(env))
    assert code == 1, err
    assert "启动时连不上 Telegram（127.0.0.1:" in err.splitlines()[-1]
    assert 'File "<frozen runpy>"' not in err


# --- the knowledge base ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda p: None, "file not found"),
        (lambda p: p.write_text("", encoding="utf-8"), "the file is empty"),
        (lambda p: p.write_text("# 只有注释\n", encoding="utf-8"), "the file is empty"),
        (lambda p: p.mkdir(), "is a directory"),
        (lambda p: p.write_text("format: 1\ndocument: {number: x\n", encoding="utf-8"),
         "YAML syntax error"),
    ],
    ids=["missing", "empty", "comments-only", "directory", "malformed"],
)
def test_a_bad_knowledge_base_path(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    tmp_path: Path, make: object, says: str,
) -> None:
    kb = tmp_path / "plan.yaml"
    make(kb)  # type: ignore[operator]
    monkeypatch.setenv("LVDONG_KB", str(kb))
    err = run_fails(capsys)
    assert f"lvdong: 知识库 {kb} 有1个问题，未启动" in err and f"{kb}:" in err and says in err
    assert f"lvdong kb check {kb}" in err
    assert not env.exists(), "nothing was started"


def test_an_empty_knowledge_base_fails_kb_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kb = tmp_path / "empty-plan.yaml"
    kb.write_text(
        "format: 1\ndocument: {number: 空〔2022〕1号, title: 空方案}\nsections: []\n"
        "tasks: []\noffices: {}\nindustries: []\naliases: {}\nstandards: []\nrules: []\n"
        "facts: []\n", encoding="utf-8",
    )
    assert main(["kb", "check", str(kb)]) == 1
    assert "no tasks and no facts" in capsys.readouterr().err
    kb.write_text("", encoding="utf-8")
    assert main(["kb", "check", str(kb)]) == 1
    assert f"{kb}:0: the file is empty" in capsys.readouterr().err
