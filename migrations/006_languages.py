"""006: the visitor's language, and a widget's own wording of its labels (commit 0866661)."""

import peewee as pw

from schema import add_columns


def migrate(migrator, database, *, fake=False):
    add_columns(
        migrator, "widget", fake=fake, follow_browser_language=pw.BooleanField(default=False)
    )
    add_columns(
        migrator, "conversation", fake=fake, language=pw.CharField(null=True, max_length=10)
    )
    Widget = migrator.orm["widget"]

    class LabelOverride(pw.Model):
        widget = pw.ForeignKeyField(Widget, backref="label_overrides", on_delete="CASCADE")
        language = pw.CharField(max_length=10)
        key = pw.CharField(max_length=64)
        text = pw.TextField()

        class Meta:
            table_name = "labeloverride"
            indexes = ((("widget", "language", "key"), True),)

    migrator.create_model(LabelOverride)  # CREATE TABLE/INDEX IF NOT EXISTS
