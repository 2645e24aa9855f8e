"""The versioned schema.

:data:`MIGRATIONS` is an ordered list; migration *n* (1-based) takes the schema
from version *n−1* to *n*. The current version lives in ``PRAGMA user_version``,
which is part of the database header and so changes atomically with the DDL.
Migrations are only ever appended — never edit one that has shipped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlite_utils import Database

Migration = Callable[[Database], None]


def _run(db: Database, statements: Sequence[str]) -> None:
    """Execute statements one by one (``executescript`` would COMMIT our transaction)."""
    for statement in statements:
        db.conn.execute(statement)


def _001_core(db: Database) -> None:
    """Users and roles, the question log, enterprises, accounts, reports."""
    _run(db, (
        """CREATE TABLE users (
            user_id INTEGER PRIMARY KEY,
            name TEXT NOT NULL DEFAULT '',
            role TEXT NOT NULL DEFAULT 'enterprise'
                CHECK (role IN ('enterprise', 'official', 'staff', 'admin')),
            city TEXT,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            role_granted_at TEXT,
            CHECK (city IS NULL OR role = 'staff')
        )""",
        """CREATE TABLE questions (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL,
            chat_id INTEGER NOT NULL,
            text TEXT NOT NULL,
            answered INTEGER NOT NULL CHECK (answered IN (0, 1)),
            confident INTEGER NOT NULL CHECK (confident IN (0, 1)),
            sources TEXT NOT NULL DEFAULT '[]',
            created_at TEXT NOT NULL
        )""",
        "CREATE INDEX questions_unanswered ON questions (answered, id)",
        """CREATE TABLE feedback (
            question_id INTEGER NOT NULL REFERENCES questions (id),
            user_id INTEGER NOT NULL,
            useful INTEGER NOT NULL CHECK (useful IN (0, 1)),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (question_id, user_id)
        )""",
        """CREATE TABLE enterprises (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            credit_code TEXT NOT NULL UNIQUE,
            city TEXT NOT NULL,
            county TEXT,
            contact_name TEXT NOT NULL,
            phone TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'approved', 'rejected')),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            decided_at TEXT,
            decided_by INTEGER
        )""",
        """CREATE TABLE enterprise_industries (
            enterprise_id INTEGER NOT NULL REFERENCES enterprises (id),
            industry TEXT NOT NULL,
            PRIMARY KEY (enterprise_id, industry)
        )""",
        """CREATE TABLE accounts (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL,
            enterprise_id INTEGER NOT NULL REFERENCES enterprises (id),
            kind TEXT NOT NULL CHECK (kind IN ('founder', 'claim')),
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'approved', 'rejected')),
            contact_name TEXT NOT NULL,
            phone TEXT NOT NULL,
            created_at TEXT NOT NULL,
            decided_at TEXT,
            decided_by INTEGER
        )""",
        # One live (pending or approved) binding per Telegram user.
        """CREATE UNIQUE INDEX accounts_one_live_per_user ON accounts (user_id)
            WHERE status IN ('pending', 'approved')""",
        "CREATE INDEX accounts_enterprise ON accounts (enterprise_id, status)",
        """CREATE TABLE reports (
            id INTEGER PRIMARY KEY,
            enterprise_id INTEGER NOT NULL REFERENCES enterprises (id),
            user_id INTEGER NOT NULL,
            task INTEGER NOT NULL CHECK (task BETWEEN 1 AND 26),
            status TEXT NOT NULL CHECK (status IN ('未开始', '进行中', '已完成', '不涉及')),
            percent INTEGER CHECK (percent IS NULL OR percent BETWEEN 0 AND 100),
            description TEXT NOT NULL DEFAULT '',
            completion_date TEXT,
            from_pending INTEGER NOT NULL CHECK (from_pending IN (0, 1)),
            created_at TEXT NOT NULL
        )""",
        "CREATE INDEX reports_enterprise_task ON reports (enterprise_id, task, id)",
        # Reports are evidence: the database itself refuses to change or delete them.
        """CREATE TRIGGER reports_no_update BEFORE UPDATE ON reports
            BEGIN SELECT RAISE(ABORT, 'reports are append-only'); END""",
        """CREATE TRIGGER reports_no_delete BEFORE DELETE ON reports
            BEGIN SELECT RAISE(ABORT, 'reports are append-only'); END""",
        """CREATE TABLE attachments (
            id INTEGER PRIMARY KEY,
            report_id INTEGER NOT NULL REFERENCES reports (id),
            file_id TEXT NOT NULL,
            file_unique_id TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('photo', 'document')),
            mime_type TEXT,
            size INTEGER,
            file_name TEXT
        )""",
        "CREATE INDEX attachments_report ON attachments (report_id)",
    ))


def _002_dialog_state(db: Database) -> None:
    """Tables behind the python-telegram-bot persistence (dialogs survive restarts)."""
    _run(db, (
        """CREATE TABLE conversations (
            name TEXT NOT NULL,
            key TEXT NOT NULL,
            state TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (name, key)
        )""",
        "CREATE INDEX conversations_updated ON conversations (updated_at)",
        """CREATE TABLE user_data (
            user_id INTEGER PRIMARY KEY, data TEXT NOT NULL, updated_at TEXT NOT NULL
        )""",
        """CREATE TABLE chat_data (
            chat_id INTEGER PRIMARY KEY, data TEXT NOT NULL, updated_at TEXT NOT NULL
        )""",
        """CREATE TABLE singletons (
            name TEXT PRIMARY KEY CHECK (name IN ('bot_data', 'callback_data')),
            data TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
    ))


def _003_staff_query_indexes(db: Database) -> None:
    """Indexes for the staff views: by region, industry, role, and pending queues."""
    _run(db, (
        "CREATE INDEX enterprises_city ON enterprises (city, status)",
        "CREATE INDEX enterprise_industries_industry ON enterprise_industries (industry)",
        "CREATE INDEX reports_task_status ON reports (task, status)",
        "CREATE INDEX reports_created ON reports (created_at)",
        "CREATE INDEX users_staff_city ON users (role, city)",
    ))


def _004_dialog_tokens_and_applicant_details(db: Database) -> None:
    """A report remembers the dialog that filed it, so a confirm replayed after a crash
    is recognised (one dialog, at most one report); an account keeps what its applicant
    entered (JSON: name, city, county, industries), so a claim is not thrown away and
    can carry the enterprise when the founder turns out to be a squatter."""
    _run(db, (
        "ALTER TABLE reports ADD COLUMN dialog_token TEXT",
        """CREATE UNIQUE INDEX reports_dialog_token ON reports (dialog_token)
            WHERE dialog_token IS NOT NULL""",
        "ALTER TABLE accounts ADD COLUMN details TEXT",
    ))


MIGRATIONS: tuple[Migration, ...] = (
    _001_core, _002_dialog_state, _003_staff_query_indexes,
    _004_dialog_tokens_and_applicant_details,
)
LATEST = len(MIGRATIONS)


def schema_version(db: Database) -> int:
    """The version recorded in the database header (0 for a new database)."""
    return int(db.conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: Database, target: int = LATEST) -> list[int]:
    """Apply pending migrations up to ``target``; return the versions applied.

    Each migration runs in its own ``BEGIN IMMEDIATE`` transaction together with the
    version bump, and the version is re-read under the lock, so a crash leaves the
    schema at a clean version and two processes starting at once do not both
    migrate. Running it on an up-to-date database does nothing.
    """
    if not 0 <= target <= LATEST:
        raise ValueError(f"no schema version {target}; latest is {LATEST}")
    if schema_version(db) > LATEST:
        raise RuntimeError("database schema is newer than this code; upgrade lvdong")
    applied: list[int] = []
    while schema_version(db) < target:
        db.conn.execute("BEGIN IMMEDIATE")
        try:
            version = schema_version(db)
            if version < target:
                MIGRATIONS[version](db)
                db.conn.execute(f"PRAGMA user_version = {version + 1}")
                applied.append(version + 1)
            db.conn.execute("COMMIT")
        except BaseException:
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            raise
    return applied
