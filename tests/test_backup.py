"""`flask backup FILE` and `flask restore FILE`: a populated database round-trips, every table."""

import datetime
import json
import os
import secrets

import psycopg2
import pytest

from app import create_app
from db import database
from models import (
    MODELS,
    Agent,
    Client,
    Contact,
    Conversation,
    Image,
    LabelOverride,
    Message,
    Rating,
    TranscriptMail,
    Widget,
    hash_token,
)


def populate():
    """Rows in every table, including a client linked forward to a later client."""
    widget = Widget.select().get()
    agent = Agent.select().get()
    with database.atomic():
        contact = Contact.create(widget=widget, email="ada@example.com", name="Ada")
        widget.logo = Image.store(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))  # every byte value
        widget.save()
        early = Client.create(widget=widget, token_hash=hash_token(secrets.token_hex(20)))
        later = Client.create(
            widget=widget,
            token_hash=hash_token(secrets.token_hex(20)),
            contact=contact,
            external_id="42",
            verified=True,
            custom_data=json.dumps({"plan": "Premium ✓"}),
        )
        early.linked_to = later
        early.save()
        conversation = Conversation.create(widget=widget, client=later, page_url="https://x.test/")
        for number in range(5):
            conversation.add_message(
                f"message {number} – é", Message.FROM_CLIENT, client_msg_id=f"m{number}"
            )
        conversation.add_message("Hello Ada", Message.FROM_AGENT, agent=agent)
        conversation.mark_read(agent)
        Rating.rate(conversation, good=True, comment="quick")
        LabelOverride.create(widget=widget, language="en", key="header.title", text="Hi there")
        TranscriptMail.create(
            conversation=conversation,
            recipient="ada@example.com",
            requested_by="client",
            status=TranscriptMail.SENT,
            created_at=datetime.datetime(2026, 1, 2, 3, 4, 5, 678000),
        )


def snapshot():
    """Every row of every table, in id order."""
    return {
        model._meta.table_name: list(model.select().order_by(model._meta.primary_key).tuples())
        for model in MODELS
    }


@pytest.fixture
def empty_database_url(app, tmp_path, request):
    """A second, empty database on the same backend as ``app``."""
    url = app.config["DATABASE_URL"]
    if url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    server_url, name = url.rsplit("/", 1)[0], f"frontdesk_restore_{os.getpid()}"
    server = psycopg2.connect(f"{server_url}/postgres")
    server.autocommit = True
    with server.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name}")
        cursor.execute(f"CREATE DATABASE {name}")
    yield f"{server_url}/{name}"
    if not database.is_closed():
        database.close()
    with server.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    server.close()


def restored_app(url, tmp_path):
    return create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "x" * 32})


def run(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    return result.exit_code, result.output


@pytest.mark.parametrize("kind", ["native", "json"])
def test_a_populated_database_round_trips(app, db, tmp_path, empty_database_url, kind):
    populate()
    before = snapshot()
    database.close()
    backup_file = tmp_path / "backup.out"
    args = ["backup", str(backup_file)] + (["--json"] if kind == "json" else [])
    code, output = run(app, *args)
    assert code == 0, output
    assert backup_file.stat().st_size > 0

    target = restored_app(empty_database_url, tmp_path)
    code, output = run(target, "restore", str(backup_file))
    assert code == 0, output
    with target.app_context():
        database.connect(reuse_if_open=True)
        assert snapshot() == before
        # ids continue after the restored ones
        widget = Widget.select().get()
        fresh = Client.create(widget=widget, token_hash=hash_token("fresh"))
        assert fresh.id > max(row[0] for row in before["client"])
        database.close()


def test_restore_refuses_a_database_with_rows(app, db, tmp_path):
    backup_file = tmp_path / "backup.json"
    database.close()
    assert run(app, "backup", "--json", str(backup_file))[0] == 0
    code, output = run(app, "restore", str(backup_file))
    assert code != 0
    assert "not empty" in output
    database.connect(reuse_if_open=True)
    assert Widget.select().count() == 1  # nothing doubled


@pytest.mark.parametrize(
    "content",
    [b"", b"hello", b'{"format": "something-else"}', b"SQLite format 3\x00" + b"\x00" * 200],
)
def test_a_foreign_or_corrupt_file_is_refused_and_nothing_is_written(
    app, tmp_path, empty_database_url, content
):
    bad = tmp_path / "bad.backup"
    bad.write_bytes(content)
    target = restored_app(empty_database_url, tmp_path)
    code, output = run(target, "restore", str(bad))
    assert code != 0
    assert "Error:" in output and "Traceback" not in output
    with target.app_context():
        database.connect(reuse_if_open=True)
        for model in MODELS:
            if model._meta.table_name in database.get_tables():
                assert not model.select().exists()
        database.close()


def test_backup_never_overwrites_a_file(app, tmp_path):
    existing = tmp_path / "keep.db"
    existing.write_text("precious")
    code, output = run(app, "backup", str(existing))
    assert code != 0 and "already exists" in output
    assert existing.read_text() == "precious"
