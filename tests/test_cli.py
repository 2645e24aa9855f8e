"""The README's main command: ``lvdong`` runs the bot with a token, the terminal chat without."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_bare_lvdong_without_a_token_starts_the_terminal_chat(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    env["LVDONG_DB"] = str(tmp_path / "lvdong.sqlite")
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli"],
        input="燃煤热风炉什么时候淘汰\n/quit\n",
        capture_output=True, text=True, env=env, timeout=60, check=True,
    )
    assert "TELEGRAM_BOT_TOKEN" in proc.stderr  # says why it is the terminal chat
    assert "燃煤热风炉" in proc.stdout and "依据：二（一）2" in proc.stdout
    assert (tmp_path / "lvdong.sqlite").exists()  # same database as the bot would use


def test_ask_prints_an_answer() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ask", "胶粘剂VOCs限量执行什么标准"],
        capture_output=True, text=True, timeout=60, check=True,
    )
    assert "GB 33372-2020" in proc.stdout


def test_grant_gives_a_role_in_the_database(tmp_path: Path) -> None:
    from storage.audit import latest
    from storage.db import open_db
    from storage.users import Role, role_of, scope_of

    env = {**os.environ, "LVDONG_DB": str(tmp_path / "lvdong.sqlite")}
    run = [sys.executable, "-m", "bot.cli"]
    subprocess.run([*run, "grant", "42", "staff", "--city", "郑州", "--city", "洛阳"], env=env,
                   check=True, timeout=60)
    subprocess.run([*run, "grant", "44", "official"], env=env, check=True, timeout=60)
    bad = subprocess.run([*run, "grant", "43", "staff", "--city", "火星"], env=env,
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "火星" in bad.stderr
    db = open_db(tmp_path / "lvdong.sqlite")
    assert role_of(db, 42, frozenset()) is Role.STAFF
    assert scope_of(db, 42).regions == {"郑州市", "洛阳市"}
    assert role_of(db, 44, frozenset()) is Role.OFFICIAL and scope_of(db, 44).province
    assert role_of(db, 43, frozenset()) is Role.ENTERPRISE
    db.conn.close()
    subprocess.run([*run, "revoke", "42"], env=env, check=True, timeout=60)
    db = open_db(tmp_path / "lvdong.sqlite")
    assert role_of(db, 42, frozenset()) is Role.ENTERPRISE and scope_of(db, 42).province
    assert [e.action for e in latest(db)] == ["revoke", "grant", "grant"]


def test_starting_the_bot_leaves_the_file_and_chart_libraries_unloaded() -> None:
    """openpyxl and matplotlib are imported when a workbook or a chart is made, not by
    every start (together about 0.5 s of CPU of each start)."""
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, bot.app, bot.runner, bot.cli; "
                               "print(sorted(m for m in ('openpyxl', 'matplotlib') "
                               "if m in sys.modules))"],
        capture_output=True, text=True, timeout=60, check=True,
    )
    assert loaded.stdout.strip() == "[]"
