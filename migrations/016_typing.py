"""016: when the client and when an agent last said they were typing in a conversation
(``conversation.client_typing_at``, ``conversation.agent_typing_at``), for the typing indicator."""

import peewee as pw

from schema import add_columns


def migrate(migrator, database, *, fake=False):
    add_columns(
        migrator,
        "conversation",
        fake=fake,
        client_typing_at=pw.DateTimeField(null=True),
        agent_typing_at=pw.DateTimeField(null=True),
    )
