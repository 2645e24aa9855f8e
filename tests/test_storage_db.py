"""open_db settings, migrations and the clock helpers."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from sqlite_utils import Database

from storage import migrations
from storage.clock import SHANGHAI, from_db, local_today, to_db, to_local
from storage.db import connect, open_db, transaction


def test_open_db_creates_parent_dir_and_sets_pragmas(tmp_path: Path) -> None:
    db = open_db(tmp_path / "deep" / "er" / "lvdong.db")
    pragma = lambda name: db.conn.execute(f"PRAGMA {name}").fetchone()[0]  # noqa: E731
    assert (tmp_path / "deep" / "er" / "lvdong.db").exists()
    assert pragma("journal_mode") == "wal"
    assert pragma("foreign_keys") == 1
    assert pragma("synchronous") == 2  # FULL
    assert pragma("busy_timeout") >= 1000
    assert migrations.schema_version(db) == migrations.LATEST


def test_memory_database_is_migrated() -> None:
    db = open_db(":memory:")
    assert "reports" in db.table_names()
    assert migrations.schema_version(db) == migrations.LATEST


def test_database_at_older_version_migrates_to_latest_keeping_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = Database(connect(path))
    assert migrations.migrate(old, target=1) == [1]
    old.execute(
        "INSERT INTO users (user_id, name, first_seen, last_seen) VALUES (7, 'x', 'a', 'a')"
    )
    assert "conversations" not in old.table_names()
    old.close()

    db = open_db(path)
    assert migrations.schema_version(db) == migrations.LATEST
    assert "conversations" in db.table_names()
    assert db.execute("SELECT name FROM users WHERE user_id = 7").fetchone() == ("x",)
    index_names = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert "enterprises_city" in index_names


def test_rerunning_migrations_is_a_no_op(tmp_path: Path) -> None:
    path = tmp_path / "lvdong.db"
    open_db(path).close()
    db = open_db(path)
    schema = db.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
    assert migrations.migrate(db) == []
    assert db.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall() == schema


def test_failed_migration_rolls_back_and_keeps_version(tmp_path: Path) -> None:
    db = Database(connect(tmp_path / "x.db"))
    migrations.migrate(db, target=1)

    def broken(db: Database) -> None:
        db.conn.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("boom")

    original = migrations.MIGRATIONS
    migrations.MIGRATIONS = (original[0], broken)  # type: ignore[misc]
    try:
        with pytest.raises(RuntimeError):
            migrations.migrate(db, target=2)
    finally:
        migrations.MIGRATIONS = original  # type: ignore[misc]
    assert migrations.schema_version(db) == 1
    assert "half_done" not in db.table_names()


def test_newer_schema_than_code_is_refused(tmp_path: Path) -> None:
    db = open_db(tmp_path / "x.db")
    db.conn.execute(f"PRAGMA user_version = {migrations.LATEST + 1}")
    with pytest.raises(RuntimeError):
        migrations.migrate(db)


def test_foreign_keys_are_enforced() -> None:
    db = open_db(":memory:")
    with pytest.raises(sqlite3.IntegrityError):
        db.execute(
            "INSERT INTO enterprise_industries (enterprise_id, industry) VALUES (999, '钢铁')"
        )


def test_transaction_rolls_back_on_error() -> None:
    db = open_db(":memory:")
    with pytest.raises(ValueError), transaction(db):
        db.execute(
            "INSERT INTO users (user_id, name, first_seen, last_seen) VALUES (1, 'a', 'x', 'x')"
        )
        raise ValueError
    assert db.execute("SELECT count(*) FROM users").fetchone() == (0,)


def test_transaction_commits_so_another_connection_sees_it(tmp_path: Path) -> None:
    db = open_db(tmp_path / "x.db")
    with transaction(db):
        db.execute(
            "INSERT INTO users (user_id, name, first_seen, last_seen) VALUES (1, 'a', 'x', 'x')"
        )
    other = sqlite3.connect(tmp_path / "x.db")
    assert other.execute("SELECT count(*) FROM users").fetchone() == (1,)


# --- clock ---------------------------------------------------------------------------


def test_to_db_is_utc_with_offset_and_fixed_width() -> None:
    beijing = dt.datetime(2021, 6, 1, 10, 0, tzinfo=SHANGHAI)
    assert to_db(beijing) == "2021-06-01T02:00:00.000000+00:00"
    assert from_db(to_db(beijing)) == beijing
    later = dt.datetime(2021, 6, 1, 2, 0, 0, 1, tzinfo=dt.UTC)
    assert to_db(beijing) < to_db(later)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError):
        to_db(dt.datetime(2021, 6, 1))


def test_to_local_and_local_today_use_beijing_time() -> None:
    now = dt.datetime(2021, 12, 31, 17, 0, tzinfo=dt.UTC)  # 01:00 on 1 January in Henan
    assert to_local(to_db(now)).hour == 1
    assert local_today(now) == dt.date(2022, 1, 1)


def test_version_3_data_survives_the_move_to_scopes_and_a_plan_free_schema(
    tmp_path: Path,
) -> None:
    """Migration 4 rebuilds users and reports: staff cities become scopes, reports,
    their attachments and append-only triggers stay, the latest-report table is filled,
    and a task number or status another plan uses is accepted."""
    path = tmp_path / "v3.db"
    old = Database(connect(path))
    migrations.migrate(old, target=3)
    stamp = "2021-06-01T00:00:00.000000+00:00"
    old.execute("INSERT INTO users (user_id, role, city, first_seen, last_seen) "
                "VALUES (5, 'staff', '郑州市', ?, ?), (6, 'staff', NULL, ?, ?)",
                (stamp, stamp, stamp, stamp))
    old.execute("INSERT INTO enterprises (id, name, credit_code, city, contact_name, phone, "
                "created_at, updated_at) VALUES (1, '甲', 'X', '郑州市', 'a', '1', ?, ?)",
                (stamp, stamp))
    for report_id, status in ((1, "进行中"), (2, "已完成")):
        old.execute("INSERT INTO reports (id, enterprise_id, user_id, task, status, "
                    "from_pending, created_at) VALUES (?, 1, 5, 2, ?, 0, ?)",
                    (report_id, status, stamp))
    old.execute("INSERT INTO attachments (report_id, file_id, file_unique_id, kind) "
                "VALUES (2, 'f', 'u', 'photo')")
    old.conn.commit()
    old.close()

    db = open_db(path)
    assert db.execute("SELECT user_id, region FROM user_regions").fetchall() == [(5, "郑州市")]
    assert "city" not in {column.name for column in db["users"].columns}
    assert db.execute("SELECT count(*) FROM attachments").fetchone() == (1,)
    assert db.execute("SELECT report_id, status FROM latest_reports").fetchall() == [
        (2, "已完成")]
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert db.execute("PRAGMA foreign_keys").fetchone() == (1,), "restored after migrating"
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("DELETE FROM reports")
    db.execute("INSERT INTO reports (enterprise_id, user_id, task, status, from_pending, "
               "created_at) VALUES (1, 5, 30, '已验收', 0, ?)", (stamp,))
    assert db.execute("SELECT status FROM latest_reports WHERE task = 30").fetchone() == (
        "已验收",)
