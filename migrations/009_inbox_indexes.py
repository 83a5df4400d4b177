"""009: indexes behind the inbox, its unread counts, the contact list and the reports.

- message (conversation, id) replaces the index on conversation alone: a conversation's newest
  message is one lookup;
- message (conversation, sender, id): a conversation's client messages past an agent's read mark,
  so unread counts never read the messages themselves;
- conversation (status, last_message_at) replaces the index on last_message_at alone: a tab of
  the inbox, latest activity first;
- contact (updated_at, id): the contact list's pages, most recent first.
"""

from schema import drop_indexes_on


def migrate(migrator, database, *, fake=False):
    with migrator.fake():  # the snapshot only: the database gets the idempotent steps below
        migrator.drop_index("message", "conversation")
        migrator.drop_index("conversation", "last_message_at")
    migrator.run(drop_indexes_on, "message", ("conversation_id",), unique=False)
    migrator.run(drop_indexes_on, "conversation", ("last_message_at",), unique=False)
    migrator.add_index("message", "conversation", "id", safe=True)
    migrator.add_index("message", "conversation", "sender", "id", safe=True)
    migrator.add_index("conversation", "status", "last_message_at", safe=True)
    migrator.add_index("contact", "updated_at", "id", safe=True)
