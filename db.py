"""The database handle every model is bound to, the model base class, and the one clock.

The database is chosen by URL (``FRONTDESK_DATABASE_URL``): a SQLite file by default, PostgreSQL
for larger installs.
"""

import datetime

from peewee import DatabaseProxy, InterfaceError, Model, OperationalError
from playhouse.db_url import connect

database = DatabaseProxy()

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "normal",
    "foreign_keys": 1,
    "busy_timeout": 5000,
}
# SQLite: connections are pooled too. Opening one costs a file open and three PRAGMAs, and
# closing the last one checkpoints the WAL: done per request, that was most of a message
# POST's time. A pooled connection may serve another thread (of the dev server) later.
SQLITE_POOL = {"max_connections": 64, "stale_timeout": 300, "check_same_thread": False}

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
    """Bind every model to the database named by ``url``: pooled SQLite with WAL, or pooled
    PostgreSQL.

    Nothing connects yet; each request connects on its first query, so pages that need no
    database (the loader, static files) answer while it is down.
    """
    if hasattr(database.obj, "close_all"):
        database.obj.close_all()  # a pool bound earlier (another app in this process)
    if url.startswith("sqlite"):
        db = connect(pooled_url(url), pragmas=SQLITE_PRAGMAS, **SQLITE_POOL)
    else:
        db = connect(pooled_url(url), **POSTGRES_OPTIONS)
    database.initialize(db)
    return db


def pooled_url(url):
    """``postgresql://...`` or ``sqlite://...`` as playhouse.db_url's pooled variant
    (``postgres+pool://``, ``sqlite+pool://``)."""
    scheme, rest = url.split(":", 1)
    if "+pool" in scheme:
        return url
    return ("sqlite+pool" if scheme == "sqlite" else "postgres+pool") + ":" + rest


class BaseModel(Model):
    class Meta:
        database = database
