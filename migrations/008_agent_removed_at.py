"""008: removing an agent keeps their row, so their replies keep their name (``removed_at``)."""

import peewee as pw

from schema import add_columns


def migrate(migrator, database, *, fake=False):
    add_columns(migrator, "agent", fake=fake, removed_at=pw.DateTimeField(null=True))
