"""Test fixtures: the app on a fresh database, once on SQLite and once on PostgreSQL.

Request-level tests run against both real databases. One app per database kind serves the whole
session (building an app compiles every route, which costs more than most tests); each test gets
it with the configuration it was built with, no rate-limit counts, a fresh test client and a
database holding only the demo widget and admin:

- SQLite: a copy of a seeded template file, a new file per test;
- PostgreSQL, at ``FRONTDESK_TEST_POSTGRES_URL`` (default: the local server's ``test`` database,
  trust auth): a database of this session's own gets the tables once, each test starts from
  emptied tables, restarted sequences and a fresh seed, and the database is dropped at the end.
  Without a reachable PostgreSQL its tests are skipped, or fail the run when ``CI`` is set.

Passwords are hashed with one PBKDF2 round (``PASSWORD_HASH_METHOD``): the tests check what is
done with a hash, not how slow it is to guess. Helpers live in ``helpers.py``.
"""

import os
import secrets
import shutil

import pytest
from helpers import ADMIN_PASSWORD, CHEAP_PASSWORD_HASH, postgres_database, sign_in
from peewee import sort_models

import schema
import throttle
from app import create_app
from cli import seed_demo
from db import connect_database
from models import MODELS, Agent, Widget, database


def make_app(database_url):
    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": secrets.token_hex(16),
            "DEMO": True,
            "PASSWORD_HASH_METHOD": CHEAP_PASSWORD_HASH,
        }
    )


def seed():
    """The demo widget and the admin, as `make run` seeds them."""
    seed_demo(ADMIN_PASSWORD)


def empty_postgres_tables():
    """Every model's rows gone and its ids starting at 1 again, as after ``TRUNCATE ... RESTART
    IDENTITY``; a DELETE per table is far quicker than TRUNCATE on tables this small."""
    with database.atomic():
        for model in reversed(sort_models(MODELS)):
            database.execute_sql(f'DELETE FROM "{model._meta.table_name}"')
        database.execute_sql("SELECT setval(oid, 1, false) FROM pg_class WHERE relkind = 'S'")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A seeded SQLite file that each SQLite test starts from a copy of."""
    path = tmp_path_factory.mktemp("template") / "frontdesk.db"
    app = make_app(f"sqlite:///{path}")
    with app.app_context():
        database.connect()
        schema.upgrade()
        seed()
        database.close()
        database.obj.close_all()  # closing the pool's last connection checkpoints the WAL
    return path


@pytest.fixture(scope="session")
def postgres_url():
    """A PostgreSQL database of this test session's own, with the tables; dropped at the end."""
    with postgres_database(f"frontdesk_test_{os.getpid()}") as url:
        connect_database(url)
        with database.connection_context():
            schema.upgrade()
        yield url
        if not database.is_closed():
            database.close()


@pytest.fixture(scope="session")
def apps():
    """The session's apps, one per database kind, each with its configuration as built."""
    built = {}

    def get(kind, database_url):
        if kind not in built:
            app = make_app(database_url)
            built[kind] = (app, dict(app.config), set(app.extensions))
        return built[kind]

    return get


@pytest.fixture(params=["sqlite", "postgresql"])
def app(request, tmp_path, apps):
    """The app on a database holding only the demo widget and admin, as `make run` seeds it."""
    if request.param == "sqlite":
        path = tmp_path / "frontdesk.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_url")
    app, config, extensions = apps(request.param, url)
    app.config.clear()  # what an earlier test changed is forgotten
    app.config.update(config, DATABASE_URL=url, OUTBOX_DIR=str(tmp_path / "outbox"))
    for name in set(app.extensions) - extensions:  # such as the rate limiter and its counts
        del app.extensions[name]
    connect_database(url)
    with app.app_context():
        throttle.limiter.reset()  # no counts from an earlier test
    if request.param == "postgresql":
        with app.app_context(), database.connection_context():
            empty_postgres_tables()
            seed()
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


@pytest.fixture
def admin(client):
    """A test client signed in as the seeded admin."""
    response = sign_in(client)
    assert response.status_code == 302
    return client


@pytest.fixture
def agent_without_admin_rights(app, db):
    with app.app_context():  # hashed as the app's settings say
        return Agent.create_with_password("agent@example.com", "Sam Agent", "agent-password-1")
