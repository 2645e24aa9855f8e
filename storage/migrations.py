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

# ``PRAGMA application_id`` of every lvdong database ("lvdg"): the header says whose file
# it is, so lvdong never adds its tables to another application's SQLite file.
APPLICATION_ID = 0x6C766467
# The tables of migration 1: a file that has them (and a version) but predates the
# mark is an older lvdong database, adopted by marking it.
_FIRST_TABLES = frozenset(
    {"users", "questions", "feedback", "enterprises", "enterprise_industries", "accounts",
     "reports", "attachments"}
)


class SchemaError(RuntimeError):
    """The database cannot be used by this lvdong; nothing was written to it."""


class NotLvdongDatabase(SchemaError):
    """The file belongs to another application (another mark, or tables that are not ours)."""


class NewerSchema(SchemaError):
    """The schema was written by a newer lvdong than this one."""


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


def _004_scopes_outbox_plan_free(db: Database) -> None:
    """Officials' work: scopes of several cities, audit, invites, deadlines, notices, the
    outbox and the reminder runs; reports lose the 2021 plan's task range and statuses.

    ``users`` and ``reports`` are rebuilt (SQLite cannot drop a CHECK): a user's region
    moves to ``user_regions`` (no rows: the whole province), and the plan's shape —
    which task numbers and statuses exist — is checked against the knowledge base in
    code, so another plan's YAML works with the same database. Runs with foreign keys
    off, as SQLite's table-rebuild procedure requires; ``migrate`` checks them after.
    """
    _run(db, (
        """CREATE TABLE user_regions (
            user_id INTEGER NOT NULL,
            region TEXT NOT NULL,
            PRIMARY KEY (user_id, region)
        )""",
        "INSERT INTO user_regions (user_id, region) SELECT user_id, city FROM users"
        " WHERE city IS NOT NULL",
        """CREATE TABLE users_v4 (
            user_id INTEGER PRIMARY KEY,
            name TEXT NOT NULL DEFAULT '',
            role TEXT NOT NULL DEFAULT 'enterprise'
                CHECK (role IN ('enterprise', 'official', 'staff', 'admin')),
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            role_granted_at TEXT,
            reachable INTEGER NOT NULL DEFAULT 1 CHECK (reachable IN (0, 1)),
            reachable_changed_at TEXT
        )""",
        """INSERT INTO users_v4 (user_id, name, role, first_seen, last_seen, role_granted_at)
            SELECT user_id, name, role, first_seen, last_seen, role_granted_at FROM users""",
        "DROP TABLE users",
        "ALTER TABLE users_v4 RENAME TO users",
        "CREATE INDEX users_role ON users (role)",
        """CREATE TABLE reports_v4 (
            id INTEGER PRIMARY KEY,
            enterprise_id INTEGER NOT NULL REFERENCES enterprises (id),
            user_id INTEGER NOT NULL,
            task INTEGER NOT NULL CHECK (task > 0),
            status TEXT NOT NULL CHECK (length(status) > 0),
            percent INTEGER CHECK (percent IS NULL OR percent BETWEEN 0 AND 100),
            description TEXT NOT NULL DEFAULT '',
            completion_date TEXT,
            from_pending INTEGER NOT NULL CHECK (from_pending IN (0, 1)),
            created_at TEXT NOT NULL
        )""",
        "INSERT INTO reports_v4 SELECT * FROM reports",
        "DROP TABLE reports",
        "ALTER TABLE reports_v4 RENAME TO reports",
        "CREATE INDEX reports_enterprise_task ON reports (enterprise_id, task, id)",
        "CREATE INDEX reports_task_status ON reports (task, status)",
        "CREATE INDEX reports_created ON reports (created_at)",
        """CREATE TRIGGER reports_no_update BEFORE UPDATE ON reports
            BEGIN SELECT RAISE(ABORT, 'reports are append-only'); END""",
        """CREATE TRIGGER reports_no_delete BEFORE DELETE ON reports
            BEGIN SELECT RAISE(ABORT, 'reports are append-only'); END""",
        # The latest report per (enterprise, task), kept by a trigger in the same
        # transaction as the report: province-wide views never scan the history.
        """CREATE TABLE latest_reports (
            enterprise_id INTEGER NOT NULL REFERENCES enterprises (id),
            task INTEGER NOT NULL,
            report_id INTEGER NOT NULL REFERENCES reports (id),
            status TEXT NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (enterprise_id, task)
        ) WITHOUT ROWID""",
        "CREATE INDEX latest_reports_task ON latest_reports (task, status)",
        """INSERT INTO latest_reports (enterprise_id, task, report_id, status, created_at)
            SELECT r.enterprise_id, r.task, r.id, r.status, r.created_at
            FROM reports r JOIN (SELECT max(id) AS id FROM reports
                                 GROUP BY enterprise_id, task) m ON m.id = r.id""",
        """CREATE TRIGGER reports_keep_latest AFTER INSERT ON reports BEGIN
            INSERT INTO latest_reports (enterprise_id, task, report_id, status, created_at)
            VALUES (NEW.enterprise_id, NEW.task, NEW.id, NEW.status, NEW.created_at)
            ON CONFLICT (enterprise_id, task) DO UPDATE SET
                report_id = excluded.report_id, status = excluded.status,
                created_at = excluded.created_at
            WHERE excluded.report_id > latest_reports.report_id;
        END""",
        # Who did what to whom, for /audit. Append-only like the reports.
        """CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor_id INTEGER NOT NULL,
            action TEXT NOT NULL,
            subject TEXT NOT NULL DEFAULT '',
            detail TEXT NOT NULL DEFAULT '{}'
        )""",
        """CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit_log
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
        """CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_log
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END""",
        # Single-use invitations; only a hash of the code is kept.
        """CREATE TABLE invites (
            id INTEGER PRIMARY KEY,
            code_hash TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL CHECK (role IN ('enterprise', 'official', 'staff', 'admin')),
            regions TEXT NOT NULL DEFAULT '[]',
            created_by INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            used_by INTEGER,
            used_at TEXT
        )""",
        # Deadlines officials add to the calendar (the plan's own come from the YAML).
        """CREATE TABLE deadlines (
            id INTEGER PRIMARY KEY,
            task INTEGER NOT NULL,
            due TEXT NOT NULL,
            text TEXT NOT NULL,
            industries TEXT NOT NULL DEFAULT '[]',
            regions TEXT NOT NULL DEFAULT '[]',
            created_by INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            cancelled_at TEXT,
            cancelled_by INTEGER
        )""",
        "CREATE INDEX deadlines_due ON deadlines (due)",
        """CREATE TABLE notices (
            id INTEGER PRIMARY KEY,
            created_by INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            audience TEXT NOT NULL,
            regions TEXT NOT NULL DEFAULT '[]',
            text TEXT NOT NULL,
            send_at TEXT NOT NULL,
            cancelled_at TEXT,
            cancelled_by INTEGER,
            progress_chat_id INTEGER,
            progress_message_id INTEGER
        )""",
        # The outbox: one message, many recipients; one row per (message, recipient),
        # written before anything is sent.
        """CREATE TABLE outbox_messages (
            id INTEGER PRIMARY KEY,
            key TEXT NOT NULL UNIQUE,
            kind TEXT NOT NULL,
            text TEXT NOT NULL,
            markup TEXT,
            notice_id INTEGER REFERENCES notices (id),
            created_at TEXT NOT NULL
        )""",
        """CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            message_id INTEGER NOT NULL REFERENCES outbox_messages (id),
            chat_id INTEGER NOT NULL,
            status TEXT NOT NULL DEFAULT 'queued' CHECK (status IN
                ('queued', 'sending', 'sent', 'failed', 'blocked', 'uncertain', 'cancelled')),
            not_before TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            error TEXT,
            updated_at TEXT NOT NULL,
            sent_message_id INTEGER,
            priority INTEGER NOT NULL DEFAULT 0,
            UNIQUE (message_id, chat_id)
        )""",
        "CREATE INDEX outbox_due ON outbox (priority DESC, not_before, id) WHERE status = 'queued'",
        "CREATE INDEX outbox_sending ON outbox (id) WHERE status = 'sending'",
        "CREATE INDEX outbox_by_message ON outbox (message_id, status)",
        # Which reminders fell due and were planned: one row per (deadline, kind).
        """CREATE TABLE reminder_runs (
            key TEXT PRIMARY KEY,
            deadline_key TEXT NOT NULL,
            kind TEXT NOT NULL,
            due_on TEXT NOT NULL,
            planned_at TEXT NOT NULL,
            recipients INTEGER NOT NULL,
            skipped INTEGER NOT NULL,
            stale INTEGER NOT NULL DEFAULT 0 CHECK (stale IN (0, 1))
        )""",
    ))


def _005_dialog_tokens_and_applicant_details(db: Database) -> None:
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


def _006_reviews_and_learned_questions(db: Database) -> None:
    """Staff's work: reviews of reports (append-only, the report itself never changes)
    and questions staff attached to a knowledge-base entry."""
    _run(db, (
        """CREATE TABLE reviews (
            id INTEGER PRIMARY KEY,
            report_id INTEGER NOT NULL REFERENCES reports (id),
            reviewer_id INTEGER NOT NULL,
            verdict TEXT NOT NULL CHECK (verdict IN ('verified', 'problem', 'rejected')),
            comment TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        )""",
        "CREATE INDEX reviews_report ON reviews (report_id, id)",
        """CREATE TRIGGER reviews_no_update BEFORE UPDATE ON reviews
            BEGIN SELECT RAISE(ABORT, 'reviews are append-only'); END""",
        """CREATE TRIGGER reviews_no_delete BEFORE DELETE ON reviews
            BEGIN SELECT RAISE(ABORT, 'reviews are append-only'); END""",
        """CREATE TABLE learned_questions (
            id INTEGER PRIMARY KEY,
            question TEXT NOT NULL,
            normalized TEXT NOT NULL,
            fact_id TEXT NOT NULL,
            created_by INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            removed_by INTEGER,
            removed_at TEXT
        )""",
        """CREATE UNIQUE INDEX learned_questions_live ON learned_questions (normalized)
            WHERE removed_at IS NULL""",
        "CREATE INDEX enterprises_status ON enterprises (status, city)",
    ))


def _007_enterprise_listing_index(db: Database) -> None:
    """A covering index for the province-wide staff lists (/overdue, /silent, charts):
    approved enterprises in (city, id) order with their names, read from the index
    alone instead of a table lookup per enterprise (bench/bench_staff.py: /overdue for
    the province at 20,000 enterprises, about a quarter faster)."""
    _run(db, ("CREATE INDEX enterprises_listing ON enterprises (status, city, id, name)",))


def _008_enterprise_qualifiers(db: Database) -> None:
    """Each enterprise's answers to the knowledge base's qualifiers (土壤污染重点监管单位…):
    yes / no / unknown; no row is unknown. Which tasks concern an enterprise depends on
    them (storage/qualifiers.py)."""
    _run(db, (
        """CREATE TABLE enterprise_qualifiers (
            enterprise_id INTEGER NOT NULL REFERENCES enterprises(id),
            qualifier TEXT NOT NULL,
            value TEXT NOT NULL CHECK (value IN ('yes', 'no', 'unknown')),
            updated_at TEXT NOT NULL,
            PRIMARY KEY (enterprise_id, qualifier)
        ) WITHOUT ROWID""",
        "CREATE INDEX enterprise_qualifiers_by_value ON enterprise_qualifiers "
        "(qualifier, value, enterprise_id)",
    ))


def _009_dialog_results(db: Database) -> None:
    """What each dialog committed, by the dialog's token (a review, a notice, a
    deadline): a confirm replayed after a crash finds its result instead of storing it
    again — what ``reports.dialog_token`` does for /report, for every other dialog.
    ``runs``: each start and clean stop of the bot, so a start after a crash is known."""
    _run(db, (
        """CREATE TABLE dialog_results (
            token TEXT PRIMARY KEY,
            dialog TEXT NOT NULL,
            user_id INTEGER NOT NULL,
            subject TEXT NOT NULL,
            created_at TEXT NOT NULL
        )""",
        """CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            started_at TEXT NOT NULL,
            stopped_at TEXT
        )""",
    ))


def _010_enterprise_list(db: Database) -> None:
    """The province's enterprise list (issue 16): where an enterprise came from, the
    list's own version of each listed row (so a code registered through the bot keeps
    what its applicant entered, and staff see how the list differs), and one
    invitation link per enterprise, stored as a hash only."""
    _run(db, (
        "ALTER TABLE enterprises ADD COLUMN origin TEXT NOT NULL DEFAULT 'bot'",
        "ALTER TABLE enterprises ADD COLUMN listed_at TEXT",
        """CREATE TABLE enterprise_listings (
            enterprise_id INTEGER PRIMARY KEY REFERENCES enterprises (id),
            name TEXT NOT NULL,
            city TEXT NOT NULL,
            county TEXT,
            industries TEXT NOT NULL DEFAULT '',
            contact_name TEXT NOT NULL DEFAULT '',
            phone TEXT NOT NULL DEFAULT '',
            imported_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )""",
        """CREATE TABLE enterprise_invites (
            id INTEGER PRIMARY KEY,
            enterprise_id INTEGER NOT NULL REFERENCES enterprises (id),
            serial INTEGER NOT NULL,
            code_hash TEXT NOT NULL UNIQUE,
            key_id TEXT NOT NULL,
            created_by INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            used_by INTEGER,
            used_at TEXT,
            revoked_at TEXT,
            UNIQUE (enterprise_id, serial)
        )""",
        "CREATE INDEX enterprises_listed ON enterprises (listed_at, city)",
    ))

def _011_invites_withdrawn_and_clock_marks(db: Database) -> None:
    """An invitation can be withdrawn (by an admin with /invites) or voided (its maker
    was revoked or narrowed): when, by whom and why, so it is refused from then on.
    The clock the reminders last accepted, so a jump is noticed (storage.reminders)."""
    _run(db, (
        "ALTER TABLE invites ADD COLUMN voided_at TEXT",
        "ALTER TABLE invites ADD COLUMN voided_by INTEGER",
        "ALTER TABLE invites ADD COLUMN void_reason TEXT",
        """CREATE TABLE clock_marks (
            name TEXT PRIMARY KEY,
            at TEXT NOT NULL
        )""",
    ))


MIGRATIONS: tuple[Migration, ...] = (
    _001_core,
    _002_dialog_state,
    _003_staff_query_indexes,
    _004_scopes_outbox_plan_free,
    _005_dialog_tokens_and_applicant_details,
    _006_reviews_and_learned_questions,
    _007_enterprise_listing_index,
    _008_enterprise_qualifiers,
    _009_dialog_results,
    _010_enterprise_list,
    _011_invites_withdrawn_and_clock_marks,
)
LATEST = len(MIGRATIONS)


def schema_version(db: Database) -> int:
    """The version recorded in the database header (0 for a new database)."""
    return int(db.conn.execute("PRAGMA user_version").fetchone()[0])


def application_id(db: Database) -> int:
    return int(db.conn.execute("PRAGMA application_id").fetchone()[0])


def check_database(db: Database) -> bool:
    """Raise unless this lvdong may use the database; True when it still needs the mark.

    Reads only the header and the schema, so a refused file is left exactly as it was.
    Ours: marked with :data:`APPLICATION_ID`, or unmarked and either empty (new) or
    holding migration 1's tables at a version ≥ 1 (an lvdong database from before the
    mark). Anything else is another application's file.
    """
    mark, version = application_id(db), schema_version(db)
    if mark not in (0, APPLICATION_ID):
        raise NotLvdongDatabase(f"application_id is {mark:#x}, not lvdong's {APPLICATION_ID:#x}")
    if mark == 0:
        tables = {
            row[0] for row in db.conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'"
            )
        }
        unmarked_lvdong = version >= 1 and tables >= _FIRST_TABLES
        if tables and not unmarked_lvdong:
            shown = ", ".join(sorted(tables)[:5]) + (" …" if len(tables) > 5 else "")
            raise NotLvdongDatabase(f"it holds tables that are not lvdong's ({shown})")
        if version and not unmarked_lvdong:
            raise NotLvdongDatabase(f"user_version is {version} but it has no lvdong tables")
    if version > LATEST:
        raise NewerSchema(f"schema version {version} is newer than this lvdong's {LATEST}")
    return mark == 0


def migrate(db: Database, target: int = LATEST) -> list[int]:
    """Apply pending migrations up to ``target``; return the versions applied.

    The database is checked first (:func:`check_database`): another application's
    file or a newer schema raises :class:`SchemaError` before anything is written.
    A new or older unmarked lvdong database gets the mark with its first migration
    (or alone, when it is up to date).

    Each migration runs in its own ``BEGIN IMMEDIATE`` transaction together with the
    version bump, and the version is re-read under the lock, so a crash leaves the
    schema at a clean version and two processes starting at once do not both
    migrate. Running it on an up-to-date database does nothing.
    """
    if not 0 <= target <= LATEST:
        raise ValueError(f"no schema version {target}; latest is {LATEST}")
    needs_mark = check_database(db)
    applied: list[int] = []

    def mark() -> None:
        if needs_mark:
            db.conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")

    def step() -> None:
        mark()  # with the first migration: a failed one leaves the file as it was
        version = schema_version(db)
        if version < target:
            MIGRATIONS[version](db)
            broken = db.conn.execute("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise RuntimeError(f"migration {version + 1} broke foreign keys: {broken[:3]}")
            db.conn.execute(f"PRAGMA user_version = {version + 1}")
            applied.append(version + 1)

    if schema_version(db) >= target and needs_mark:
        _in_transaction(db, mark)
    # SQLite's table-rebuild procedure: foreign keys off (the pragma cannot change inside
    # a transaction), checked by each migration before it commits, then restored.
    foreign_keys = int(db.conn.execute("PRAGMA foreign_keys").fetchone()[0])
    db.conn.execute("PRAGMA foreign_keys = OFF")
    try:
        while schema_version(db) < target:
            _in_transaction(db, step)
    finally:
        db.conn.execute(f"PRAGMA foreign_keys = {foreign_keys}")
    return applied


def _in_transaction(db: Database, action: Callable[[], object]) -> None:
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        action()
        db.conn.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
