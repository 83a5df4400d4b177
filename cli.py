"""Frontdesk's commands (``flask --app app ...``): ``init-db``, ``create-agent``, ``labels``.

``register(app)`` adds them to the app's CLI; the ``labels`` group lives in ``labels.py``.
"""

import os
import secrets

import click

from db import database
from labels import labels_cli
from models import Agent, Widget
from schema import create_tables


def register(app):
    """Add every command to ``app.cli``."""
    app.cli.add_command(init_db_command)
    app.cli.add_command(create_agent_command)
    app.cli.add_command(labels_cli)


def seed_demo(admin_password=None):
    """On an empty database: a demo widget and an admin. Returns the generated password, if any."""
    generated = None
    with database.atomic():
        if not Widget.select().exists():
            Widget.create(name="Demo shop")
        if not Agent.select().exists():
            generated = None if admin_password else secrets.token_urlsafe(12)
            Agent.create_with_password(
                "admin@example.com", "Admin", admin_password or generated, is_admin=True
            )
    return generated


@click.command("init-db")
def init_db_command():
    """Create the tables; on an empty database add the demo widget and admin@example.com."""
    create_tables()
    generated = seed_demo(os.environ.get("FRONTDESK_ADMIN_PASSWORD"))
    click.echo("Database ready.")
    if generated:
        click.echo(f"Admin created: admin@example.com / {generated}  (shown once; keep it)")


@click.command("create-agent")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True)
@click.password_option()
@click.option("--admin", "is_admin", is_flag=True, help="Also change settings and manage agents.")
def create_agent_command(email, name, password, is_admin):
    """Add a support agent; --admin gives admin rights (settings, managing agents)."""
    create_tables()
    if Agent.by_email(email):
        raise click.ClickException(f"{email} already has an account.")
    Agent.create_with_password(email, name, password, is_admin=is_admin)
    click.echo(f"Created {'admin' if is_admin else 'agent'} {email}.")
