"""018: full-text search over messages (``fulltext``): on SQLite an external-content FTS5 table
kept in step by triggers, filled from the messages already stored; on PostgreSQL a GIN index
on ``to_tsvector('simple', body)``."""

import fulltext


def migrate(migrator, database, *, fake=False):
    migrator.run(fulltext.create_index)
