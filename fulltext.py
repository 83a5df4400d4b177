"""Full-text search over messages, the same to its callers on both databases.

- SQLite: ``message_fts``, an external-content FTS5 table over ``message.body`` (it stores only
  the index; the text stays in ``message``), kept in step by triggers on ``message``;
- PostgreSQL: a GIN index on ``to_tsvector('simple', body)``, which the match expression below
  repeats exactly so the planner can use it.

Both are made by migration 018 (and by ``schema.upgrade`` for a new database). What an agent
types is never passed on as query syntax: it is cut into words of letters and digits, and each
word must start a word of the message (``refu`` finds "refund"), all of them in one message.
"""

import re

from markupsafe import Markup, escape
from peewee import SQL, Expression, SqliteDatabase, fn

from db import database

WORD = re.compile(r"[^\W_]+")  # letters and digits: no FTS5 or tsquery operator fits in one
MAX_WORDS = 8
SNIPPET_WORDS = 14

SQLITE_INDEX = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS message_fts"
    " USING fts5(body, content='message', content_rowid='id')",
    "CREATE TRIGGER IF NOT EXISTS message_fts_insert AFTER INSERT ON message BEGIN"
    " INSERT INTO message_fts(rowid, body) VALUES (new.id, new.body); END",
    "CREATE TRIGGER IF NOT EXISTS message_fts_delete AFTER DELETE ON message BEGIN"
    " INSERT INTO message_fts(message_fts, rowid, body) VALUES ('delete', old.id, old.body); END",
    "CREATE TRIGGER IF NOT EXISTS message_fts_update AFTER UPDATE OF body ON message BEGIN"
    " INSERT INTO message_fts(message_fts, rowid, body) VALUES ('delete', old.id, old.body);"
    " INSERT INTO message_fts(rowid, body) VALUES (new.id, new.body); END",
    # The messages stored before the index existed.
    "INSERT INTO message_fts(message_fts) VALUES ('rebuild')",
)
POSTGRES_INDEX = (
    "CREATE INDEX IF NOT EXISTS message_body_search ON message"
    " USING GIN (to_tsvector('simple', body))",
)


def on_sqlite():
    return isinstance(database.obj, SqliteDatabase)


def create_index():
    """Make the search index of ``message`` (and fill it from the rows there); idempotent."""
    for statement in SQLITE_INDEX if on_sqlite() else POSTGRES_INDEX:
        database.execute_sql(statement)


def search_words(text):
    """The words of what an agent typed, lower-cased, at most ``MAX_WORDS``."""
    return WORD.findall(text.lower())[:MAX_WORDS]


def matches(message, words):
    """A condition on ``message`` (the model): its body has every word as a word prefix."""
    if on_sqlite():
        # Each word a quoted string with a prefix star: FTS5 syntax by construction only.
        query = " ".join(f'"{word}"*' for word in words)
        return message.id.in_(
            SQL("(SELECT rowid FROM message_fts WHERE message_fts MATCH ?)", [query])
        )
    query = " & ".join(f"{word}:*" for word in words)
    vector = fn.to_tsvector(SQL("'simple'"), message.body)
    return Expression(vector, "@@", fn.to_tsquery(SQL("'simple'"), query))


def snippet(body, text):
    """``body`` around the first word matching ``text``, matches in ``<mark>``, all escaped."""
    prefixes = search_words(text)
    words = body.split()
    hits = [i for i, word in enumerate(words) if starts_a_word(word, prefixes)]
    start = max(0, (hits[0] if hits else 0) - SNIPPET_WORDS // 3)
    shown = words[start : start + SNIPPET_WORDS]
    parts = [
        Markup("<mark>%s</mark>") % word if starts_a_word(word, prefixes) else escape(word)
        for word in shown
    ]
    before = "… " if start else ""
    after = " …" if start + SNIPPET_WORDS < len(words) else ""
    return Markup(before) + Markup(" ").join(parts) + Markup(after)


def starts_a_word(word, prefixes):
    return any(
        part.startswith(prefix) for part in WORD.findall(word.lower()) for prefix in prefixes
    )
