"""003: where a conversation started, and how far each agent has read it (commit 98b80ae)."""

import peewee as pw

from schema import add_columns


def migrate(migrator, database, *, fake=False):
    add_columns(
        migrator,
        "conversation",
        fake=fake,
        page_url=pw.CharField(null=True, max_length=1000),
        browser_language=pw.CharField(null=True, max_length=35),
    )
    Agent, Conversation = migrator.orm["agent"], migrator.orm["conversation"]

    class ReadMark(pw.Model):
        agent = pw.ForeignKeyField(Agent, backref="read_marks", on_delete="CASCADE")
        conversation = pw.ForeignKeyField(Conversation, backref="read_marks", on_delete="CASCADE")
        last_read_id = pw.BigIntegerField(default=0)

        class Meta:
            table_name = "readmark"
            indexes = ((("agent", "conversation"), True),)

    migrator.create_model(ReadMark)  # CREATE TABLE/INDEX IF NOT EXISTS
