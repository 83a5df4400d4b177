"""017: who answers a conversation (``conversation.assignee``, an agent or nobody), with the index
behind the inbox's "mine" and "unassigned" filters: assignee, status, latest activity first."""

import peewee as pw

from schema import add_columns


def migrate(migrator, database, *, fake=False):
    Agent = migrator.orm["agent"]
    add_columns(
        migrator,
        "conversation",
        fake=fake,
        assignee=pw.ForeignKeyField(
            Agent, null=True, index=False, backref="assigned_conversations", on_delete="SET NULL"
        ),
    )
    migrator.add_index("conversation", "assignee", "status", "last_message_at", safe=True)
