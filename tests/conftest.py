"""Test fixtures: the app on a fresh database, once on SQLite and once on PostgreSQL.

Request-level tests run against both real databases; PostgreSQL is the one at
``FRONTDESK_TEST_POSTGRES_URL`` (default: the local server's ``test`` database, trust auth), where a
database of our own is created for the session and dropped at the end.
"""

import os
import re
import secrets

import psycopg2
import pytest

from app import create_app
from cli import seed_demo
from models import MODELS, Agent, Widget, database

POSTGRES_URL = os.environ.get(
    "FRONTDESK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
ADMIN_PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def postgres_url():
    """A PostgreSQL database of this test session's own, dropped at the end."""
    try:
        server = psycopg2.connect(POSTGRES_URL, connect_timeout=3)
    except psycopg2.OperationalError as error:
        pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_URL}: {error}")
    server.autocommit = True
    name = f"frontdesk_test_{os.getpid()}"
    with server.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name}")
        cursor.execute(f"CREATE DATABASE {name}")
    yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    if not database.is_closed():
        database.close()
    with server.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    server.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request, tmp_path):
    """The app on an empty database with the demo widget and admin, as `make run` seeds it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'frontdesk.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "SECRET_KEY": secrets.token_hex(16),
            "DEMO": True,
            "OUTBOX_DIR": str(tmp_path / "outbox"),
        }
    )
    with app.app_context():
        database.connect(reuse_if_open=True)
        database.drop_tables(MODELS, safe=True)
        database.create_tables(MODELS)
        seed_demo(ADMIN_PASSWORD)
        database.close()
    yield app
    if not database.is_closed():
        database.close()


@pytest.fixture
def db(app):
    """An open connection for a test that queries the models directly."""
    database.connect(reuse_if_open=True)
    yield database
    database.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def widget(db):
    """The demo widget."""
    return Widget.select().order_by(Widget.id).get()


def set_auth_type(widget, auth_type, language="en"):
    """Change the widget's type directly (the admin form has tests of its own)."""
    widget.auth_type = auth_type
    widget.language = language
    widget.save()
    return widget


def visitor_headers(token=None):
    """Headers the widget iframe sends: the visitor token, as htmx would."""
    return {"X-Frontdesk-Token": token or secrets.token_hex(24), "HX-Request": "true"}


def csrf_token_from(response):
    match = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', response.data)
    if not match:
        match = re.search(rb'name="csrf_token" value="([^"]+)"', response.data)
    assert match, "no CSRF token in the page"
    return match.group(1).decode()


def sign_in(test_client, email="admin@example.com", password=ADMIN_PASSWORD):
    """Sign in through the real login form, CSRF token included."""
    page = test_client.get("/admin/login")
    return test_client.post(
        "/admin/login",
        data={"email": email, "password": password, "csrf_token": csrf_token_from(page)},
    )


@pytest.fixture
def admin(client):
    """A test client signed in as the seeded admin."""
    response = sign_in(client)
    assert response.status_code == 302
    return client


@pytest.fixture
def agent_without_admin_rights(app, db):
    return Agent.create_with_password("agent@example.com", "Sam Agent", "agent-password-1")


def post_reply(admin_client, conversation, body):
    """An agent's reply through the conversation page's form, as htmx sends it."""
    page = admin_client.get(f"/admin/conversations/{conversation.id}")
    return admin_client.post(
        f"/admin/conversations/{conversation.id}/reply",
        data={"body": body, "csrf_token": csrf_token_from(page)},
        headers={"HX-Request": "true"},
    )


def fill_in_form(test_client, widget, token, name="Grace Hopper", email="grace@example.com"):
    """A visitor fills in the widget's login form (form and optional form types)."""
    return test_client.post(
        f"/widget/{widget.key}/contact",
        data={"name": name, "email": email},
        headers=visitor_headers(token),
    )


def send_message(test_client, widget, token, body="hello", msg_id=None):
    """A visitor sends a message from the widget's composer."""
    return test_client.post(
        f"/widget/{widget.key}/messages",
        data={"body": body, "client_msg_id": msg_id or secrets.token_hex(8)},
        headers=visitor_headers(token),
    )
