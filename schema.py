"""The database's schema: numbered migrations in ``migrations/``, applied by peewee-migrate.

``upgrade()`` (also called ``create_tables``, the name ``flask --app app init-db`` uses) brings
any database up to date and keeps every row:

- an empty database gets today's tables from ``models.py`` at once, every migration recorded;
- a database from before migrations (tables, but no ``migratehistory``) is recognised by what
  it has: each migration whose change is already there (``PRE_MIGRATION_SIGNS``) is recorded as
  applied, the others run;
- then the migrations not yet applied run in order, in one transaction. On SQLite, foreign keys
  are off while they run (a table rebuild would otherwise cascade-delete every child row) and
  ``PRAGMA foreign_key_check`` must find nothing before the transaction commits.

``pending_migrations()`` says, without writing anything, what a database still lacks, so the
app can refuse to serve it.
"""

import logging
from contextlib import contextmanager
from pathlib import Path

from peewee import ForeignKeyField, SqliteDatabase
from peewee_migrate import Router

import fulltext
from db import database
from models import MODELS

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
HISTORY_TABLE = "migratehistory"
APP_TABLES = frozenset(model._meta.table_name for model in MODELS)

logger = logging.getLogger("frontdesk.schema")


def migration_names():
    """Every migration in ``migrations/``, oldest first (``001_initial``, ...)."""
    return sorted(path.stem for path in MIGRATIONS_DIR.glob("[0-9][0-9][0-9]_*.py"))


def router():
    return Router(database, migrate_dir=MIGRATIONS_DIR, migrate_table=HISTORY_TABLE, logger=logger)


def applied_migrations():
    """The migrations recorded as applied, oldest first; [] without a history table."""
    if HISTORY_TABLE not in database.get_tables():
        return []
    cursor = database.execute_sql(f'SELECT name FROM "{HISTORY_TABLE}" ORDER BY id')
    return [name for (name,) in cursor.fetchall()]


def pending_migrations():
    """The migrations this database lacks, oldest first: [] when it is up to date.

    Reads only. A database from before migrations counts the changes it already has.
    """
    done = set(applied_migrations()) or set(detect_applied())
    return [name for name in migration_names() if name not in done]


def upgrade():
    """Bring the database up to date, keeping every row; returns the migrations applied."""
    names = migration_names()
    if not APP_TABLES & set(database.get_tables()):
        # A new database: today's tables at once. A history left behind by dropped tables goes.
        with database.atomic():
            database.create_tables(MODELS)
            fulltext.create_index()  # SQL that models.py cannot describe (migration 018)
            record_applied(names, replace=True)
        return names
    if not applied_migrations():
        with database.atomic():
            record_applied(detect_applied())
    return run_pending()


create_tables = upgrade


def run_pending():
    """Run the migrations not applied yet, in one transaction; returns their names."""
    pending = pending_migrations()
    if pending:
        logger.info("Applying migrations: %s", ", ".join(pending))
        with foreign_keys_off(), database.atomic():
            router().run()
            check_foreign_keys()
    return pending


def record_applied(names, replace=False):
    history = router().model  # creates the history table when missing
    if replace:
        history.delete().execute()
    for name in names:
        history.create(name=name)


@contextmanager
def foreign_keys_off():
    """SQLite without foreign key enforcement, for the migrations' table rebuilds.

    The pragma is a no-op inside a transaction, so this must be entered outside one.
    """
    db = database.obj
    if not isinstance(db, SqliteDatabase):
        yield
        return
    if db.in_transaction():
        raise RuntimeError("foreign keys cannot be turned off inside a transaction")
    was_on = bool(db.pragma("foreign_keys"))
    db.pragma("foreign_keys", 0)
    if db.pragma("foreign_keys"):
        raise RuntimeError("SQLite refused to turn foreign keys off; not migrating")
    try:
        yield
    finally:
        if was_on:
            db.pragma("foreign_keys", 1)


def check_foreign_keys():
    """Raise if a row points at one that does not exist (SQLite; PostgreSQL never allows it)."""
    if not isinstance(database.obj, SqliteDatabase):
        return
    broken = database.execute_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"foreign_key_check after migrating: {broken[:10]}")


# Databases from before migrations.


class Snapshot:
    """The tables, columns and indexes a database has, to tell which changes it already has."""

    def __init__(self):
        self.tables = set(database.get_tables())
        self.columns = {t: {c.name for c in database.get_columns(t)} for t in self.tables}
        self.indexes = {
            t: {(tuple(i.columns), bool(i.unique)) for i in database.get_indexes(t)}
            for t in self.tables
        }

    def has_tables(self, *tables):
        return set(tables) <= self.tables

    def has_columns(self, table, *columns):
        return table in self.tables and set(columns) <= self.columns[table]

    def has_index(self, table, columns, unique=False):
        return (tuple(columns), unique) in self.indexes.get(table, ())

    def has_nulls(self, table, column):
        query = f'SELECT 1 FROM "{table}" WHERE "{column}" IS NULL LIMIT 1'
        return database.execute_sql(query).fetchone() is not None


# What each migration's change looks like, for databases older than the migrations: a
# migration counts as applied when all of its change is there (superseded indexes gone too).
# Migrations after LAST_PRE_MIGRATION_CHANGE came with the migration history itself, so no
# database without that history has them.
LAST_PRE_MIGRATION_CHANGE = "011_agent_sessions"
PRE_MIGRATION_SIGNS = {
    "001_initial": lambda s: s.has_tables(
        "widget", "agent", "contact", "client", "conversation", "message"
    ),
    "002_client_token_per_widget": lambda s: (
        s.has_index("client", ("widget_id", "token_hash"), unique=True)
        and not s.has_index("client", ("token_hash",), unique=True)
    ),
    "003_live_conversations": lambda s: (
        s.has_tables("readmark")
        and s.has_columns("conversation", "page_url", "browser_language")
        and s.has_index("readmark", ("agent_id", "conversation_id"), unique=True)
    ),
    "004_verified_identity": lambda s: (
        s.has_columns("widget", "identity_secret", "require_verified_identity", "allowed_domains")
        and s.has_columns("client", "verified", "linked_to_id")
        and s.has_index("client", ("linked_to_id",))
        # Versions before a2e0cef added the column empty, and later ones filled it at start.
        and not s.has_nulls("widget", "identity_secret")
    ),
    "005_ratings_and_transcripts": lambda s: s.has_tables("rating", "transcriptmail"),
    "006_languages": lambda s: (
        s.has_tables("labeloverride")
        and s.has_columns("widget", "follow_browser_language")
        and s.has_columns("conversation", "language")
    ),
    "007_message_client": lambda s: (
        s.has_index("message", ("client_id", "client_msg_id"), unique=True)
        and not s.has_index("message", ("conversation_id", "client_msg_id"), unique=True)
    ),
    "008_agent_removed_at": lambda s: s.has_columns("agent", "removed_at"),
    "009_inbox_indexes": lambda s: (
        s.has_index("message", ("conversation_id", "sender", "id"))
        and s.has_index("message", ("conversation_id", "id"))
        and s.has_index("conversation", ("status", "last_message_at"))
        and s.has_index("contact", ("updated_at", "id"))
        and not s.has_index("message", ("conversation_id",))
        and not s.has_index("conversation", ("last_message_at",))
    ),
    "010_email_confirmation": lambda s: (
        s.has_columns("client", "email_confirmed") and s.has_index("transcriptmail", ("recipient",))
    ),
    "011_agent_sessions": lambda s: s.has_tables("agentsession"),
}


def detect_applied():
    """The migrations whose change a database without migration history already has.

    [] for a database without Frontdesk's tables. Each migration is judged on its own: an
    older Frontdesk that upgraded itself may have made a later change but left an earlier one
    half done (the superseded token index, say); that one then runs again, idempotently.
    """
    snapshot = Snapshot()
    if not APP_TABLES & snapshot.tables:
        return []
    older = [name for name in migration_names() if name <= LAST_PRE_MIGRATION_CHANGE]
    return [name for name in older if PRE_MIGRATION_SIGNS[name](snapshot)]


# Steps the migration files use. A database from before migrations may have part of a
# migration's change already (older Frontdesk versions added columns and indexes themselves),
# so these skip what is there. ``fake`` is peewee-migrate's replay of applied migrations to
# rebuild its model snapshot, with the database mocked: nothing may be read then.


def add_columns(migrator, table, *, fake, **fields):
    """``migrator.add_fields`` for the columns ``table`` does not have yet."""
    if not fake:
        existing = {column.name for column in database.get_columns(table)}
        meta = migrator.orm[table]._meta
        for name in [name for name, field in fields.items() if column_of(name, field) in existing]:
            meta.add_field(name, fields.pop(name))
    if fields:
        migrator.add_fields(table, **fields)


def column_of(name, field):
    if field.column_name:
        return field.column_name
    return f"{name}_id" if isinstance(field, ForeignKeyField) else name


def drop_indexes_on(table, columns, unique=True):
    """Drop every index on exactly ``columns``, whatever its name (a superseded index)."""
    for index in database.get_indexes(table):
        if tuple(index.columns) == tuple(columns) and bool(index.unique) == unique and index.sql:
            database.execute_sql(f'DROP INDEX "{index.name}"')
