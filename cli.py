"""Frontdesk's commands (``flask --app app ...``): ``init-db``, ``create-agent``, ``backup``,
``restore``, ``labels``, ``send-unread-replies``, ``notify-agents`` (in ``admin.notify``).

``register(app)`` adds them to the app's CLI; the ``labels`` group lives in ``labels.py``.
"""

import os
import secrets

import click
from flask import current_app
from flask.cli import with_appcontext

import backup
from admin.notify import notify_agents_command
from db import database
from labels import labels_cli
from models import Agent, Widget
from schema import create_tables
from unread_mail import send_unread_replies_command


def register(app):
    """Add every command to ``app.cli``."""
    app.cli.add_command(init_db_command)
    app.cli.add_command(create_agent_command)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)
    app.cli.add_command(labels_cli)
    app.cli.add_command(send_unread_replies_command)
    app.cli.add_command(notify_agents_command)


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


@click.command("backup")
@with_appcontext
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "--json", "portable", is_flag=True, help="A portable JSON export, whatever the database."
)
def backup_command(file, portable):
    """Write a consistent snapshot of the database to FILE, while the app keeps running."""
    try:
        kind = backup.backup(current_app.config["DATABASE_URL"], file, portable=portable)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Backup written to {file} ({kind}).")


@click.command("restore")
@with_appcontext
@click.argument("file", type=click.Path(dir_okay=False))
def restore_command(file):
    """Bring the backup FILE back into this (empty) database."""
    try:
        counts = backup.restore(current_app.config["DATABASE_URL"], file, create_tables)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Restored {sum(counts.values())} rows from {file}.")
