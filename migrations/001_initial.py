"""001: the first schema (commit 175a045): widgets, agents, contacts, clients, chats, messages.

Every later change is a migration of its own; a database from before migrations is recognised
by ``schema.PRE_MIGRATION_SIGNS``. Models here are snapshots of their day, not ``models.py``.
"""

import peewee as pw


def migrate(migrator, database, *, fake=False):
    class Widget(pw.Model):
        key = pw.CharField(unique=True, max_length=32)
        name = pw.CharField(max_length=100)
        auth_type = pw.CharField(max_length=20, default="none")
        language = pw.CharField(max_length=10, default="en")
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "widget"

    class Agent(pw.Model):
        email = pw.CharField(unique=True, max_length=254)
        name = pw.CharField(max_length=100)
        password_hash = pw.CharField(max_length=255)
        is_admin = pw.BooleanField(default=False)
        active = pw.BooleanField(default=True)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "agent"

    class Contact(pw.Model):
        widget = pw.ForeignKeyField(Widget, backref="contacts", on_delete="CASCADE")
        email = pw.CharField(max_length=254)
        name = pw.CharField(max_length=100)
        created_at = pw.DateTimeField()
        updated_at = pw.DateTimeField()

        class Meta:
            table_name = "contact"
            indexes = ((("widget", "email"), True),)

    class Client(pw.Model):
        widget = pw.ForeignKeyField(Widget, backref="clients", on_delete="CASCADE")
        token_hash = pw.CharField(unique=True, max_length=64)  # made per widget by 002
        contact = pw.ForeignKeyField(Contact, null=True, backref="clients", on_delete="SET NULL")
        is_guest = pw.BooleanField(default=False)
        external_id = pw.CharField(null=True, max_length=255)
        name = pw.CharField(null=True, max_length=100)
        email = pw.CharField(null=True, max_length=254)
        custom_data = pw.TextField(null=True)
        created_at = pw.DateTimeField()
        last_seen_at = pw.DateTimeField()

        class Meta:
            table_name = "client"

    class Conversation(pw.Model):
        widget = pw.ForeignKeyField(Widget, backref="conversations", on_delete="CASCADE")
        client = pw.ForeignKeyField(Client, backref="conversations", on_delete="CASCADE")
        status = pw.CharField(max_length=10, default="open")
        created_at = pw.DateTimeField()
        last_message_at = pw.DateTimeField(index=True)

        class Meta:
            table_name = "conversation"

    class Message(pw.Model):
        conversation = pw.ForeignKeyField(Conversation, backref="messages", on_delete="CASCADE")
        sender = pw.CharField(max_length=10)
        agent = pw.ForeignKeyField(Agent, null=True, backref="messages", on_delete="SET NULL")
        body = pw.TextField()
        client_msg_id = pw.CharField(null=True, max_length=64)
        created_at = pw.DateTimeField()

        class Meta:
            table_name = "message"
            indexes = ((("conversation", "client_msg_id"), True),)  # per client from 007

    for model in (Widget, Agent, Contact, Client, Conversation, Message):
        migrator.create_model(model)
