"""020: canned replies, per widget (``cannedreply``): a title and a text with ``{name}``
placeholders that an agent inserts into a reply."""

import peewee as pw


def migrate(migrator, database, *, fake=False):
    Widget = migrator.orm["widget"]

    class CannedReply(pw.Model):
        widget = pw.ForeignKeyField(Widget, backref="canned_replies", on_delete="CASCADE")
        title = pw.CharField(max_length=100)
        body = pw.TextField()
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "cannedreply"

    migrator.create_model(CannedReply)  # CREATE TABLE/INDEX IF NOT EXISTS
