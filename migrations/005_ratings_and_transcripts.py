"""005: chat ratings and transcript mails (commit 68f9aab)."""

import peewee as pw


def migrate(migrator, database, *, fake=False):
    Conversation = migrator.orm["conversation"]

    class Rating(pw.Model):
        conversation = pw.ForeignKeyField(
            Conversation, unique=True, backref="+", on_delete="CASCADE"
        )
        good = pw.BooleanField()
        comment = pw.TextField(null=True)
        created_at = pw.DateTimeField()
        updated_at = pw.DateTimeField(index=True)

        class Meta:
            table_name = "rating"

    class TranscriptMail(pw.Model):
        conversation = pw.ForeignKeyField(
            Conversation, backref="transcript_mails", on_delete="CASCADE"
        )
        recipient = pw.CharField(max_length=254)
        requested_by = pw.CharField(max_length=10)
        status = pw.CharField(max_length=10)
        error = pw.CharField(null=True, max_length=300)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "transcriptmail"

    migrator.create_model(Rating)  # CREATE TABLE/INDEX IF NOT EXISTS
    migrator.create_model(TranscriptMail)
