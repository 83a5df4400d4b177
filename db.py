"""The database handle every model is bound to, the model base class, and the one clock.

The database is chosen by URL (``FRONTDESK_DATABASE_URL``): a SQLite file by default, PostgreSQL
for larger installs.
"""

import datetime
from urllib.parse import urlsplit, urlunsplit

from peewee import DatabaseProxy, InterfaceError, Model, OperationalError
from playhouse.db_url import connect

database = DatabaseProxy()

SQLITE_PRAGMAS = {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 5000}

# PostgreSQL: a pool of connections, and limits on waiting, so that a hanging or unreachable
# server makes a request fail in seconds instead of holding a worker.
POSTGRES_OPTIONS = {
    "max_connections": 20,  # per process
    "stale_timeout": 300,  # seconds an idle pooled connection is kept
    "timeout": 10,  # seconds to wait for a free pooled connection
    "connect_timeout": 5,
    "options": "-c statement_timeout=15000 -c lock_timeout=5000",
}

# What a database that cannot be reached (or went away mid-request) raises.
UNAVAILABLE = (OperationalError, InterfaceError)


def utcnow():
    """The current time as a naive UTC datetime, the one form every backend stores alike."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def connect_database(url):
    """Bind every model to the database named by ``url``: SQLite with WAL, or pooled PostgreSQL.

    Nothing connects yet; each request connects on its first query, so pages that need no
    database (the loader, static files) answer while it is down.
    """
    if hasattr(database.obj, "close_all"):
        database.obj.close_all()  # a pool bound earlier (another app in this process)
    if url.startswith("sqlite"):
        db = connect(url, pragmas=SQLITE_PRAGMAS)
    else:
        db = connect(pooled_url(url), **POSTGRES_OPTIONS)
    database.initialize(db)
    return db


def pooled_url(url):
    """``postgresql://...`` as playhouse.db_url's pooled variant (``postgres+pool://``)."""
    parts = urlsplit(url)
    if "+pool" in parts.scheme:
        return url
    return urlunsplit(("postgres+pool", *parts[1:]))


class BaseModel(Model):
    class Meta:
        database = database
