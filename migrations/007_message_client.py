"""007: a client-made message id is unique per client, across all of their conversations.

``message.client`` is the client who wrote a message (NULL for agents' and system messages),
filled in from each client message's conversation. A resend that an older version stored twice
(in a new conversation) keeps its row, without the id: the first one keeps it. Then the unique
index on (client, client_msg_id) replaces the one on (conversation, client_msg_id).
"""

import peewee as pw

from schema import add_columns, drop_indexes_on

FILL_CLIENTS = """
UPDATE message SET client_id = (
    SELECT conversation.client_id FROM conversation WHERE conversation.id = message.conversation_id
) WHERE sender = 'client' AND client_id IS NULL
"""

FORGET_REPEATED_IDS = """
UPDATE message SET client_msg_id = NULL
WHERE client_msg_id IS NOT NULL AND client_id IS NOT NULL AND EXISTS (
    SELECT 1 FROM message AS earlier
    WHERE earlier.client_id = message.client_id
      AND earlier.client_msg_id = message.client_msg_id
      AND earlier.id < message.id
)
"""


def migrate(migrator, database, *, fake=False):
    Client = migrator.orm["client"]
    add_columns(
        migrator,
        "message",
        fake=fake,
        # No index of its own: the unique index below starts with it.
        client=pw.ForeignKeyField(Client, null=True, index=False, backref="+", on_delete="CASCADE"),
    )
    migrator.sql(FILL_CLIENTS)
    migrator.sql(FORGET_REPEATED_IDS)
    with migrator.fake():  # the snapshot only: the database gets the idempotent step below
        migrator.drop_index("message", "conversation", "client_msg_id")
    migrator.run(drop_indexes_on, "message", ("conversation_id", "client_msg_id"))
    migrator.add_index("message", "client", "client_msg_id", unique=True, safe=True)
