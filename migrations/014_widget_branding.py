"""014: a widget's looks and office hours (accent colour, launcher, team name and logo, time
zone, days and hours); uploaded images (``image``) live in a table of their own, so loading a
widget never reads its logo's bytes."""

import peewee as pw

from schema import add_columns


def migrate(migrator, database, *, fake=False):
    class Image(pw.Model):
        data = pw.BlobField()
        content_type = pw.CharField(max_length=20)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "image"

    migrator.create_model(Image)  # CREATE TABLE IF NOT EXISTS
    add_columns(
        migrator,
        "widget",
        fake=fake,
        accent_color=pw.CharField(max_length=7, default="#2d5be3"),
        launcher_position=pw.CharField(max_length=5, default="right"),
        launcher_style=pw.CharField(max_length=8, default="labelled"),
        team_name=pw.CharField(null=True, max_length=60),
        logo=pw.ForeignKeyField(Image, null=True, on_delete="SET NULL", field=Image.id),
        time_zone=pw.CharField(max_length=64, default="UTC"),
        office_hours_on=pw.BooleanField(default=False),
        office_days=pw.CharField(max_length=20, default="0,1,2,3,4"),
        office_opens=pw.CharField(max_length=5, default="09:00"),
        office_closes=pw.CharField(max_length=5, default="17:00"),
    )
