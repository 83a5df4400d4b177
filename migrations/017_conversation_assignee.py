"""017: who answers a conversation (``conversation.assignee``, an agent or nobody), with the index
behind the inbox's "mine" and "unassigned" filters (assignee, status, latest activity first),
and when that last changed (``assigned_at``, indexed: live inbox rows look for recent ones)."""

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
        assigned_at=pw.DateTimeField(null=True),
    )
    migrator.add_index("conversation", "assigned_at", safe=True)
    migrator.add_index("conversation", "assignee", "status", "last_message_at", safe=True)
