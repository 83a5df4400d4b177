"""019: agents are told of visitors' messages. Each agent chooses desktop notifications and a
sound (``agent.notify_desktop``, ``agent.notify_sound``); ``conversation.agents_mailed_upto``
is the newest message id already mailed to the agents (``flask notify-agents``). Existing
conversations count as mailed up to their newest message, so no old message is ever mailed."""

import peewee as pw

from schema import add_columns

NOTHING_OLD_TO_MAIL = """
UPDATE conversation SET agents_mailed_upto = COALESCE(
    (SELECT MAX(message.id) FROM message WHERE message.conversation_id = conversation.id), 0)
"""


def migrate(migrator, database, *, fake=False):
    add_columns(
        migrator,
        "agent",
        fake=fake,
        notify_desktop=pw.BooleanField(default=True),
        notify_sound=pw.BooleanField(default=True),
    )
    add_columns(
        migrator, "conversation", fake=fake, agents_mailed_upto=pw.BigIntegerField(default=0)
    )
    migrator.sql(NOTHING_OLD_TO_MAIL)
