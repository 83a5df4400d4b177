"""Backups of a Frontdesk database, and restoring one into an empty database.

Three kinds of file, chosen by the database and what the machine has:

- SQLite: a copy made with SQLite's online backup API, consistent while the app writes;
- PostgreSQL with ``pg_dump`` on the PATH: a ``pg_dump`` archive (custom format);
- otherwise: a portable JSON export of every table, read in one snapshot.

Restore reads any of them. A SQLite copy or a JSON export goes into any empty database (SQLite or
PostgreSQL) row by row; a ``pg_dump`` archive goes into a new PostgreSQL database through
``pg_restore``. A file that is none of these, or is damaged, is refused before anything is
written.
"""

import base64
import contextlib
import datetime
import json
import shutil
import sqlite3
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from peewee import BlobField, DateTimeField, PostgresqlDatabase, SqliteDatabase

from db import database
from models import MODELS

JSON_FORMAT = "frontdesk-backup"
JSON_VERSION = 1
SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or restore that cannot be done, in words for whoever runs the command."""


def is_postgres():
    return isinstance(database.obj, PostgresqlDatabase)


def libpq_url(url):
    """The database URL as pg_dump and pg_restore read it (peewee's scheme variants removed)."""
    parts = urlsplit(url)
    return urlunsplit(("postgresql", *parts[1:]))


# --- backup ------------------------------------------------------------------------------------


def backup(url, target, portable=False):
    """Write a consistent snapshot of the database at ``url`` to ``target``; returns its kind.

    ``portable`` asks for the JSON export whatever the database (to move between SQLite and
    PostgreSQL, say).
    """
    target = Path(target)
    if target.exists():
        raise BackupError(f"{target} already exists; choose a new file name.")
    if portable:
        json_backup(target)
        return "json"
    if isinstance(database.obj, SqliteDatabase):
        sqlite_backup(database.obj.database, target)
        return "sqlite"
    if is_postgres() and shutil.which("pg_dump"):
        pg_dump(url, target)
        return "pg_dump"
    json_backup(target)
    return "json"


def sqlite_backup(source_path, target):
    """SQLite's online backup: pages copied while other connections keep reading and writing."""
    with (
        contextlib.closing(sqlite3.connect(source_path)) as source,
        contextlib.closing(sqlite3.connect(target)) as copy,
    ):
        source.backup(copy)


def pg_dump(url, target):
    """A ``pg_dump`` archive: one snapshot of schema and rows, without owners or grants."""
    command = ["pg_dump", "--format=custom", "--no-owner", "--no-privileges"]
    done = subprocess.run(
        [*command, f"--file={target}", f"--dbname={libpq_url(url)}"],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        Path(target).unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed: {done.stderr.strip()[:500]}")


def json_backup(target):
    """Every table's rows as JSON, all read inside one snapshot transaction."""
    tables = {}
    with database.atomic():
        if is_postgres():
            database.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        for model in MODELS:
            columns = [field.column_name for field in model._meta.sorted_fields]
            rows = model.select().order_by(model._meta.primary_key).tuples()
            tables[model._meta.table_name] = {
                "columns": columns,
                "rows": [[json_value(value) for value in row] for row in rows],
            }
    document = {"format": JSON_FORMAT, "version": JSON_VERSION, "tables": tables}
    Path(target).write_text(json.dumps(document))


def json_value(value):
    """A column's value as JSON holds it: datetimes as ISO text, bytes (images) as base64."""
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode()
    return value.isoformat() if isinstance(value, datetime.datetime) else value


# --- restore -----------------------------------------------------------------------------------


def restore(url, source, upgrade_schema):
    """Bring the backup ``source`` back into the empty database at ``url``; returns row counts.

    ``upgrade_schema()`` creates or updates the tables of whichever database is bound.
    """
    source = Path(source)
    if not source.is_file():
        raise BackupError(f"{source} is not a file.")
    head = source.read_bytes()[:16]
    if head.startswith(PG_DUMP_MAGIC):
        return restore_pg_dump(url, source)
    if head.startswith(SQLITE_MAGIC):
        tables = read_sqlite_backup(source, upgrade_schema)
    else:
        tables = read_json_backup(source)
    upgrade_schema()
    refuse_unless_empty()
    return load_rows(tables)


def refuse_unless_empty():
    """Restoring merges nothing: the target must hold no Frontdesk rows at all."""
    for model in MODELS:
        if model.select().exists():
            raise BackupError(
                f"The database is not empty (table {model._meta.table_name} has rows). "
                "Restore into a new database: point FRONTDESK_DATABASE_URL at it and run "
                "restore without init-db first."
            )


def read_json_backup(source):
    """{table: (columns, rows)} from a JSON export, checked for shape before anything is used."""
    try:
        document = json.loads(Path(source).read_text())
    except (UnicodeDecodeError, ValueError) as error:
        raise BackupError(
            f"{source} is not a Frontdesk backup (not SQLite, pg_dump or JSON)."
        ) from error
    if not isinstance(document, dict) or document.get("format") != JSON_FORMAT:
        raise BackupError(f"{source} is JSON but not a Frontdesk backup.")
    if document.get("version") != JSON_VERSION:
        raise BackupError(f"{source} is a backup format this Frontdesk does not read.")
    tables = document.get("tables")
    if not isinstance(tables, dict):
        raise BackupError(f"{source} is damaged: it has no tables.")
    result = {}
    for name, table in tables.items():
        if not (
            isinstance(table, dict)
            and isinstance(table.get("columns"), list)
            and isinstance(table.get("rows"), list)
            and all(
                isinstance(row, list) and len(row) == len(table["columns"]) for row in table["rows"]
            )
        ):
            raise BackupError(f"{source} is damaged: table {name} is not columns and rows.")
        result[name] = (table["columns"], table["rows"])
    return result


def read_sqlite_backup(source, upgrade_schema):
    """{table: (columns, rows)} from a SQLite copy, brought to this version's schema first.

    The copy is upgraded in a temporary file, so a backup made by an older Frontdesk restores
    with every migration applied, and the backup file itself is never changed.
    """
    with tempfile.TemporaryDirectory(prefix="frontdesk-restore-") as scratch:
        copy = Path(scratch) / "backup.db"
        try:
            with contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src:
                src.execute("PRAGMA quick_check").fetchone()
                with contextlib.closing(sqlite3.connect(copy)) as dst:
                    src.backup(dst)
        except sqlite3.DatabaseError as error:
            raise BackupError(f"{source} is a damaged SQLite file: {error}") from error
        target = database.obj
        scratch_db = SqliteDatabase(str(copy), pragmas={"foreign_keys": 1})
        database.initialize(scratch_db)
        try:
            if not set(scratch_db.get_tables()) & {model._meta.table_name for model in MODELS}:
                raise BackupError(f"{source} is a SQLite file but not a Frontdesk database.")
            upgrade_schema()
            return {
                model._meta.table_name: (
                    [field.column_name for field in model._meta.sorted_fields],
                    [
                        list(row)
                        for row in model.select().order_by(model._meta.primary_key).tuples()
                    ],
                )
                for model in MODELS
            }
        finally:
            scratch_db.close()
            database.initialize(target)


def load_rows(tables):
    """Insert every row, in the models' order, in one transaction; {table: rows restored}.

    Self-references (a client linked to another browser's client) may point forward, so they
    are filled in after all rows of the table are in.
    """
    counts = {}
    with database.atomic():
        for model in MODELS:
            name = model._meta.table_name
            columns, rows = tables.get(name, ([], []))
            fields = {field.column_name: field for field in model._meta.sorted_fields}
            unknown = [column for column in columns if column not in fields]
            if unknown:
                raise BackupError(
                    f"Table {name} has columns this Frontdesk does not know: {unknown}"
                )
            later = [
                column for column in columns if getattr(fields[column], "rel_model", None) is model
            ]
            records = [typed_row(fields, columns, row) for row in rows]
            deferred = [(record["id"], {c: record.pop(c) for c in later}) for record in records]
            for start in range(0, len(records), 500):
                model.insert_many(records[start : start + 500]).execute()
            for row_id, values in deferred:
                if any(value is not None for value in values.values()):
                    model.update(values).where(model._meta.primary_key == row_id).execute()
            counts[name] = len(records)
        reset_sequences()
    return counts


def typed_row(fields, columns, row):
    """{column: value}, with datetimes from their ISO text and images from base64."""
    record = {}
    for column, value in zip(columns, row, strict=True):
        if isinstance(fields[column], DateTimeField) and isinstance(value, str):
            value = datetime.datetime.fromisoformat(value)
        elif isinstance(fields[column], BlobField) and isinstance(value, str):
            value = base64.b64decode(value)
        record[column] = value
    return record


def reset_sequences():
    """On PostgreSQL, ids continue after the restored ones instead of colliding with them."""
    if not is_postgres():
        return
    for model in MODELS:
        table = model._meta.table_name
        database.execute_sql(
            f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
            f'COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) FROM "{table}"'
        )


def restore_pg_dump(url, source):
    """A ``pg_dump`` archive into a new PostgreSQL database, in one transaction."""
    if not is_postgres():
        raise BackupError("This is a pg_dump archive: restore it into a PostgreSQL database.")
    if not shutil.which("pg_restore"):
        raise BackupError("Restoring a pg_dump archive needs pg_restore on the PATH.")
    if database.get_tables():
        raise BackupError(
            "A pg_dump archive restores into a new PostgreSQL database with no tables "
            "(createdb, then restore without init-db)."
        )
    database.close()
    done = subprocess.run(
        [
            "pg_restore",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={libpq_url(url)}",
            str(source),
        ],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed, nothing was restored: {done.stderr.strip()[:500]}")
    database.connect(reuse_if_open=True)
    return {model._meta.table_name: model.select().count() for model in MODELS}
