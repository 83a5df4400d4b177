"""013: a visitor hears of replies that arrive while their widget is closed.

``client.replies_read_upto`` is the newest agent reply the client has seen in the open widget (the
launcher counts the replies after it); ``client.replies_mailed_upto`` the newest one mailed to them
as unread. Every reply written before this change counts as read and mailed, so nobody gets a
badge or a mail about old conversations. Per widget: ``notify_sound`` and ``notify_title`` (a tone,
a flashing page title) and ``unread_mail_delay``, the minutes before an unread reply is mailed
(0: never).
"""

import peewee as pw

from schema import add_columns

EVERYTHING_SO_FAR_READ = """
UPDATE client SET
    replies_read_upto = (SELECT COALESCE(MAX(id), 0) FROM message),
    replies_mailed_upto = (SELECT COALESCE(MAX(id), 0) FROM message)
"""


def migrate(migrator, database, *, fake=False):
    add_columns(
        migrator,
        "client",
        fake=fake,
        replies_read_upto=pw.BigIntegerField(default=0),
        replies_mailed_upto=pw.BigIntegerField(default=0),
    )
    add_columns(
        migrator,
        "widget",
        fake=fake,
        notify_sound=pw.BooleanField(default=True),
        notify_title=pw.BooleanField(default=True),
        unread_mail_delay=pw.IntegerField(default=10),
    )
    migrator.sql(EVERYTHING_SO_FAR_READ)
