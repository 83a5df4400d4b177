"""012: when an agent last had the admin open (``agent.last_seen_at``), for "online" and for
deciding whether anyone must be told by email."""

import peewee as pw

from schema import add_columns


def migrate(migrator, database, *, fake=False):
    add_columns(migrator, "agent", fake=fake, last_seen_at=pw.DateTimeField(null=True))
