"""015: how clients see an agent in the chat: a display name and an avatar (an ``image``)."""

import peewee as pw

from schema import add_columns


def migrate(migrator, database, *, fake=False):
    Image = migrator.orm["image"]
    add_columns(
        migrator,
        "agent",
        fake=fake,
        display_name=pw.CharField(null=True, max_length=100),
        avatar=pw.ForeignKeyField(Image, null=True, on_delete="SET NULL", field=Image.id),
    )
