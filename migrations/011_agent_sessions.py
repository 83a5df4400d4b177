"""011: agents' sign-ins are rows on the server (``agentsession``): cookies hold a random token
whose sha256 is stored, so signing out, deactivation, removal or a new password end them."""

import peewee as pw


def migrate(migrator, database, *, fake=False):
    Agent = migrator.orm["agent"]

    class AgentSession(pw.Model):
        token_hash = pw.CharField(max_length=64, unique=True)
        agent = pw.ForeignKeyField(Agent, backref="sessions", on_delete="CASCADE")
        created_at = pw.DateTimeField()
        last_seen_at = pw.DateTimeField()
        expires_at = pw.DateTimeField()
        remember = pw.BooleanField(default=False)
        user_agent = pw.CharField(null=True, max_length=200)
        ip = pw.CharField(null=True, max_length=64)
        previous_token_hash = pw.CharField(null=True, max_length=64, index=True)
        rotated_at = pw.DateTimeField(null=True)

        class Meta:
            table_name = "agentsession"

    migrator.create_model(AgentSession)  # CREATE TABLE/INDEX IF NOT EXISTS
