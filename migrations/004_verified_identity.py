"""004: signed identities, linked browsers and allowed domains (commit e6394f0).

Every existing widget gets an identity secret of its own. The NOT NULL columns make SQLite
rebuild ``widget`` and ``client``: ``schema.upgrade`` runs this with foreign keys off, so the
rebuild cannot cascade into contacts, clients, conversations or messages.
"""

import secrets

import peewee as pw

from schema import add_columns


def give_identity_secrets(Widget):
    for widget in Widget.select(Widget.id).where(Widget.identity_secret.is_null()):
        secret = secrets.token_urlsafe(48)
        Widget.update(identity_secret=secret).where(Widget.id == widget.id).execute()


def migrate(migrator, database, *, fake=False):
    add_columns(
        migrator,
        "widget",
        fake=fake,
        identity_secret=pw.CharField(null=True, max_length=64),
        require_verified_identity=pw.BooleanField(default=False),
        allowed_domains=pw.TextField(null=True),
    )
    migrator.run(give_identity_secrets, migrator.orm["widget"])
    Client = migrator.orm["client"]
    add_columns(
        migrator,
        "client",
        fake=fake,
        verified=pw.BooleanField(default=False),
        linked_to=pw.ForeignKeyField(Client, null=True, backref="linked", on_delete="CASCADE"),
    )
    migrator.add_index("client", "linked_to", safe=True)
