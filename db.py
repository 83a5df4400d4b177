"""The database handle every model is bound to, the model base class, and the one clock.

The database is chosen by URL (``FRONTDESK_DATABASE_URL``): a SQLite file by default, PostgreSQL
for larger installs.
"""

import datetime

from peewee import DatabaseProxy, Model
from playhouse.db_url import connect

database = DatabaseProxy()

SQLITE_PRAGMAS = {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 5000}


def utcnow():
    """The current time as a naive UTC datetime, the one form every backend stores alike."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def connect_database(url):
    """Open the database named by ``url`` and bind every model to it."""
    options = {"pragmas": SQLITE_PRAGMAS} if url.startswith("sqlite") else {}
    db = connect(url, **options)
    database.initialize(db)
    return db


class BaseModel(Model):
    class Meta:
        database = database
