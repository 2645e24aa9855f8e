"""Issue 17: the command line answers in Chinese like the bot, with Beijing times (the
zone named), and a backup is named for the Beijing time it was taken."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from bot.cli import main
from storage.clock import to_local, utc_now


@pytest.fixture
def db_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LVDONG_DB", str(tmp_path / "lvdong.sqlite"))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    return tmp_path


def test_grant_revoke_and_notify_answer_in_chinese_with_beijing_time(
    db_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["grant", "42", "staff", "--city", "郑州"]) == 0
    assert capsys.readouterr().out.strip() == "用户 42：工作人员（郑州市）"
    assert main(["revoke", "42"]) == 0
    assert capsys.readouterr().out.strip() == "用户 42：普通企业用户"
    day = (to_local(utc_now()) + dt.timedelta(days=10)).date().isoformat()
    assert main(["notify", "--to", "all", "--text", "请按时填报", "--at", f"{day} 09:00"]) == 0
    out = capsys.readouterr().out
    assert "send at" not in out and "+00:00" not in out
    assert f"北京时间 {day} 09:00" in out and "通知 #1" in out


def test_a_backup_is_named_for_beijing_time(
    db_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["grant", "42", "staff"]) == 0  # the database exists
    folder = db_env / "backups"
    folder.mkdir()
    before = to_local(utc_now()).replace(microsecond=0, tzinfo=None)
    assert main(["backup", str(folder)]) == 0
    after = to_local(utc_now()).replace(tzinfo=None)
    [copy] = folder.iterdir()
    stamp = re.search(r"(\d{8}-\d{6})", copy.name)
    assert stamp is not None
    assert before <= dt.datetime.strptime(stamp[1], "%Y%m%d-%H%M%S") <= after
    out = capsys.readouterr().out
    assert "页" in out and "pages" not in out
