"""Migrations on real databases: older schemas with rows in them, upgraded on SQLite and PostgreSQL.

The older schemas are the DDL that a fresh install of those commits ran (``tests/fixtures``): the
first commit (175a045) and one from the middle of the history (68f9aab, ratings and transcripts).
"""

import datetime
import os
from pathlib import Path

import psycopg2
import pytest
from peewee import IntegrityError, SqliteDatabase, Table

import schema
from db import connect_database, database
from models import Agent, Client, Conversation, Message, Widget, hash_token

FIXTURES = Path(__file__).parent / "fixtures"
POSTGRES_URL = os.environ.get(
    "FRONTDESK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
T0 = datetime.datetime(2026, 11, 1, 9, 0, 0)
ALL = schema.migration_names()
# The migrations made after migration history existed: every older database needs them all.
NEWER = [name for name in ALL if name > schema.LAST_PRE_MIGRATION_CHANGE]


@pytest.fixture(params=["sqlite", "postgresql"])
def new_database(request, tmp_path):
    """A function giving the URL of a new, empty database (dropped after the test)."""
    made = []

    def make():
        made.append(f"frontdesk_mig_{os.getpid()}_{len(made)}")
        if request.param == "sqlite":
            return f"sqlite:///{tmp_path / made[-1]}.db"
        with server.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {made[-1]}")
            cursor.execute(f"CREATE DATABASE {made[-1]}")
        return POSTGRES_URL.rsplit("/", 1)[0] + "/" + made[-1]

    server = None
    if request.param == "postgresql":
        try:
            server = psycopg2.connect(POSTGRES_URL, connect_timeout=3)
        except psycopg2.OperationalError as error:
            pytest.skip(f"PostgreSQL is not reachable at {POSTGRES_URL}: {error}")
        server.autocommit = True
    yield make
    if not database.is_closed():
        database.close()
    if server is not None:
        with server.cursor() as cursor:
            for name in made:
                cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        server.close()


def use(url):
    if database.obj is not None and not database.is_closed():
        database.close()
    connect_database(url)
    database.connect()


def backend():
    return "sqlite" if url_is_sqlite() else "postgresql"


def url_is_sqlite():
    return isinstance(database.obj, SqliteDatabase)


def load_schema(commit):
    """Run the DDL a fresh install of ``commit`` ran on this backend."""
    text = (FIXTURES / f"schema_{commit}_{backend()}.sql").read_text()
    lines = [line for line in text.splitlines() if not line.startswith("--")]
    for statement in "\n".join(lines).split(";\n"):
        if statement.strip():
            database.execute_sql(statement)


def insert(table, **values):
    return Table(table).bind(database).insert(**values).execute()


def count(table):
    return database.execute_sql(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]


def column(table, name, order="id"):
    cursor = database.execute_sql(f'SELECT "{name}" FROM "{table}" ORDER BY "{order}"')
    return [value for (value,) in cursor.fetchall()]


def fill_first_schema(widget_columns=None, client_columns=None):
    """Rows of every table the first commit had, ids fixed so they can be checked after.

    ``widget_columns`` and ``client_columns`` give values for columns of later schemas.
    """
    for n in (1, 2):
        insert(
            "widget",
            id=n,
            key=f"key{n}",
            name=f"Shop {n}",
            auth_type="form",
            language="en",
            created_at=T0,
            **(widget_columns or {}),
        )
    insert(
        "agent",
        id=1,
        email="admin@example.com",
        name="Ada",
        password_hash="x",
        is_admin=True,
        active=True,
        created_at=T0,
    )
    insert(
        "agent",
        id=2,
        email="sam@example.com",
        name="Sam",
        password_hash="y",
        is_admin=False,
        active=True,
        created_at=T0,
    )
    insert(
        "contact",
        id=1,
        widget_id=1,
        email="grace@example.com",
        name="Grace",
        created_at=T0,
        updated_at=T0,
    )
    for n, widget, contact in ((1, 1, 1), (2, 1, None), (3, 2, None)):
        insert(
            "client",
            id=n,
            widget_id=widget,
            token_hash=hash_token(f"token{n}"),
            contact_id=contact,
            is_guest=False,
            created_at=T0,
            last_seen_at=T0,
            **(client_columns or {}),
        )
    # Client 1 wrote in conversation 1, closed it, then wrote again in conversation 4.
    for n, client, status in ((1, 1, "closed"), (2, 2, "open"), (3, 3, "open"), (4, 1, "open")):
        insert(
            "conversation",
            id=n,
            widget_id=1 if client < 3 else 2,
            client_id=client,
            status=status,
            created_at=T0,
            last_message_at=T0,
        )
    messages = [
        (1, 1, "client", None, "hello", "m1"),
        (2, 1, "agent", 1, "hi, how can I help?", None),
        (3, 1, "client", None, "my order", "m2"),
        (4, 1, "system", 1, "closed", None),
        (5, 2, "client", None, "anyone?", "m1"),  # another client's m1: not a repeat
        (6, 2, "agent", 2, "yes", None),
        (7, 3, "client", None, "bonjour", "x1"),
        (8, 3, "agent", None, "bonjour !", None),
        (9, 4, "client", None, "my order (resent)", "m2"),  # stored twice by older versions
        (10, 4, "client", None, "and a new one", "m3"),
        (11, 4, "agent", 1, "on its way", None),
        (12, 4, "client", None, "thanks", None),
    ]
    for n, conversation, sender, agent, body, msg_id in messages:
        insert(
            "message",
            id=n,
            conversation_id=conversation,
            sender=sender,
            agent_id=agent,
            body=body,
            client_msg_id=msg_id,
            created_at=T0 + datetime.timedelta(minutes=n),
        )
    restart_sequences()


def fill_middle_schema():
    """The first schema's rows, plus read marks, verified clients, ratings and transcript mails."""
    fill_first_schema({"require_verified_identity": False}, {"verified": True})
    database.execute_sql("UPDATE widget SET identity_secret = 'secret-of-widget-one' WHERE id = 1")
    insert(
        "client",
        id=4,
        widget_id=1,
        token_hash=hash_token("token4"),
        is_guest=False,
        verified=False,
        linked_to_id=1,
        created_at=T0,
        last_seen_at=T0,
    )
    insert("readmark", id=1, agent_id=1, conversation_id=1, last_read_id=4)
    insert("readmark", id=2, agent_id=2, conversation_id=2, last_read_id=5)
    insert(
        "rating", id=1, conversation_id=1, good=True, comment="quick", created_at=T0, updated_at=T0
    )
    insert(
        "transcriptmail",
        id=1,
        conversation_id=1,
        recipient="grace@example.com",
        requested_by="client",
        status="sent",
        created_at=T0,
    )
    restart_sequences()


def restart_sequences():
    """After inserts with explicit ids, PostgreSQL's serials must go on past them."""
    if url_is_sqlite():
        return
    for table in database.get_tables():
        database.execute_sql(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f'COALESCE((SELECT MAX(id) FROM "{table}"), 0) + 1, false)'
        )


def describe():
    """Everything about the schema and the rows that an upgrade must keep or may change."""
    tables = sorted(set(database.get_tables()) - {schema.HISTORY_TABLE})
    return {
        table: {
            "columns": sorted(
                (c.name, c.data_type.lower(), c.null) for c in database.get_columns(table)
            ),
            "indexes": sorted(
                (i.name, tuple(i.columns), bool(i.unique))
                for i in database.get_indexes(table)
                if not i.name.endswith("_pkey") and not i.name.startswith("sqlite_autoindex")
            ),
            "foreign_keys": sorted(
                (fk.column, fk.dest_table, fk.dest_column)
                for fk in database.get_foreign_keys(table)
            ),
            "rows": count(table),
        }
        for table in tables
    }


def unique_indexes_on(table, columns):
    return [
        index.name
        for index in database.get_indexes(table)
        if index.unique and tuple(index.columns) == columns
    ]


def foreign_key_problems():
    if not url_is_sqlite():
        return []
    return database.execute_sql("PRAGMA foreign_key_check").fetchall()


def check_first_schema_rows_kept():
    assert column("widget", "key") == ["key1", "key2"]
    assert column("agent", "email") == ["admin@example.com", "sam@example.com"]
    assert column("contact", "email") == ["grace@example.com"]
    assert column("client", "token_hash")[:3] == [hash_token(f"token{n}") for n in (1, 2, 3)]
    assert column("client", "contact_id")[:3] == [1, None, None]
    assert column("conversation", "client_id") == [1, 2, 3, 1]
    assert column("conversation", "status") == ["closed", "open", "open", "open"]
    assert count("message") == 12
    assert column("message", "body")[8] == "my order (resent)"
    assert column("message", "agent_id") == [
        None,
        1,
        None,
        1,
        None,
        2,
        None,
        None,
        None,
        None,
        1,
        None,
    ]
    # Who wrote each client message, filled in from its conversation; none for the others.
    assert column("message", "client_id") == [1, None, 1, None, 2, None, 3, None, 1, 1, None, 1]
    # The repeat of m2 keeps its row but not the id, which stays with the first one.
    assert column("message", "client_msg_id") == [
        "m1",
        None,
        "m2",
        None,
        "m1",
        None,
        "x1",
        None,
        None,
        "m3",
        None,
        None,
    ]
    secrets_now = column("widget", "identity_secret")
    assert all(secrets_now) and len(set(secrets_now)) == 2
    assert column("widget", "require_verified_identity") == [False, False]
    assert column("widget", "follow_browser_language") == [False, False]


def check_nothing_old_is_mailed_to_agents():
    """019: each conversation counts as mailed up to its newest message; agents are notified."""
    newest = database.execute_sql(
        "SELECT conversation_id, MAX(id) FROM message GROUP BY conversation_id"
    ).fetchall()
    ids, upto = column("conversation", "id"), column("conversation", "agents_mailed_upto")
    mailed = dict(zip(ids, upto, strict=True))
    assert mailed == {**dict.fromkeys(mailed, 0), **dict(newest)}
    assert set(mailed.values()) != {0}
    assert [bool(on) for on in column("agent", "notify_desktop")] == [True, True]
    assert Conversation.awaiting_agent_mail() == {}


def check_superseded_indexes_gone():
    assert unique_indexes_on("client", ("token_hash",)) == []
    assert unique_indexes_on("client", ("widget_id", "token_hash")) != []
    assert unique_indexes_on("message", ("conversation_id", "client_msg_id")) == []
    assert unique_indexes_on("message", ("client_id", "client_msg_id")) != []


def check_the_app_works():
    """The models answer on the upgraded database, and a new message goes in."""
    shop = Widget.get_by_id(1)
    client = Client.by_token(shop, "token1")
    assert client.id == 1 and client.contact.email == "grace@example.com"
    assert client.current_conversation().id == 4
    admin = Agent.get_by_id(1)
    assert [c.id for c in Conversation.inbox(admin)] == [4, 3, 2]
    conversation = Conversation.get_by_id(4)
    stored = conversation.add_message("one more", Message.FROM_CLIENT, client_msg_id="m4")
    assert stored.client_id == 1
    # A resend of a message from the closed conversation answers with the first one.
    assert conversation.add_message("hello", Message.FROM_CLIENT, client_msg_id="m1").id == 1
    assert conversation.add_message("reply", Message.FROM_AGENT, agent=admin).client_id is None
    assert Message.select().count() == 14
    # A token that a visitor of another widget holds is no longer refused (the old 500).
    other = Client.for_token(Widget.get_by_id(2), "token1")
    assert other.widget_id == 2 and other.id != client.id


def upgrade_and_check_idempotent():
    applied = schema.create_tables()
    assert schema.pending_migrations() == []
    assert foreign_key_problems() == []
    before = describe()
    assert schema.create_tables() == []  # and running it again changes nothing
    assert describe() == before
    return applied


def test_a_database_of_the_first_commit_keeps_every_row(new_database):
    use(new_database())
    load_schema("175a045")
    fill_first_schema()
    assert schema.detect_applied() == ["001_initial"]
    assert schema.pending_migrations() == ALL[1:]

    assert upgrade_and_check_idempotent() == ALL[1:]

    assert schema.applied_migrations() == ALL
    check_first_schema_rows_kept()
    check_superseded_indexes_gone()
    # 010: the form's client keeps its contact, unconfirmed, with the email it typed.
    form_client = Client.get_by_id(1)
    assert form_client.contact_id == 1 and not form_client.email_confirmed
    assert form_client.email == form_client.contact.email
    check_nothing_old_is_mailed_to_agents()
    check_the_app_works()


def test_a_database_of_a_middle_commit_keeps_every_row(new_database):
    use(new_database())
    load_schema("68f9aab")
    fill_middle_schema()
    # Widget 2 has no identity secret (versions before a2e0cef added the column empty): 004 again.
    expected = [
        "004_verified_identity",
        "006_languages",
        "007_message_client",
        "008_agent_removed_at",
        "009_inbox_indexes",
        "010_email_confirmation",
        "011_agent_sessions",
        *NEWER,
    ]
    assert schema.pending_migrations() == expected

    assert upgrade_and_check_idempotent() == expected

    check_first_schema_rows_kept()
    assert column("widget", "identity_secret")[0] == "secret-of-widget-one"  # kept, not renewed
    assert column("client", "verified") == [True, True, True, False]
    assert column("client", "linked_to_id") == [None, None, None, 1]
    assert column("readmark", "last_read_id") == [4, 5]
    assert column("rating", "comment") == ["quick"]
    assert column("transcriptmail", "recipient") == ["grace@example.com"]
    assert count("labeloverride") == 0
    assert column("conversation", "language") == [None] * 4
    assert count("client") == 4 and count("conversation") == 4
    # 013: replies written before it count as read and mailed; widgets notify by default.
    newest = max(column("message", "id"))
    assert column("client", "replies_read_upto") == [newest] * 4
    assert column("client", "replies_mailed_upto") == [newest] * 4
    assert column("widget", "unread_mail_delay") == [10] * count("widget")
    check_superseded_indexes_gone()
    check_the_app_works()


def test_a_database_an_older_version_upgraded_loses_its_superseded_index(new_database):
    """Older versions made the per-widget token index but left the old one, which then 500ed."""
    use(new_database())
    load_schema("68f9aab")
    database.execute_sql('CREATE UNIQUE INDEX "client_token_hash" ON "client" ("token_hash")')
    fill_middle_schema()
    assert "002_client_token_per_widget" not in schema.detect_applied()

    assert upgrade_and_check_idempotent() == [
        "002_client_token_per_widget",
        "004_verified_identity",
        "006_languages",
        "007_message_client",
        "008_agent_removed_at",
        "009_inbox_indexes",
        "010_email_confirmation",
        "011_agent_sessions",
        *NEWER,
    ]

    assert count("client") == 4 and count("message") == 12 and count("readmark") == 2
    check_superseded_indexes_gone()
    check_the_app_works()


def test_the_migrations_end_where_the_models_are(new_database):
    """Every migration run one by one on an empty database gives what a new install gets."""
    use(new_database())
    assert schema.run_pending() == ALL
    assert foreign_key_problems() == []
    migrated = describe()
    assert schema.pending_migrations() == []

    use(new_database())
    assert schema.pending_migrations() == ALL
    assert schema.create_tables() == ALL  # a new database: today's tables at once
    assert schema.applied_migrations() == ALL
    assert describe() == migrated
    assert schema.create_tables() == []


def test_every_migration_can_be_recognised_in_a_database_from_before_migrations():
    assert sorted(schema.PRE_MIGRATION_SIGNS) == [n for n in ALL if n not in NEWER]
    assert ALL[0] == "001_initial" and len(ALL) == len({name[:3] for name in ALL})


def test_dropped_tables_with_history_left_behind_are_made_again(new_database):
    use(new_database())
    schema.create_tables()
    database.drop_tables(list(reversed(schema.MODELS)))
    assert schema.create_tables() == ALL
    assert Widget.select().count() == 0 and schema.applied_migrations() == ALL


def resend_setup():
    schema.create_tables()
    shop = Widget.create(name="Shop")
    client = Client.for_token(shop, "visitor-token")
    first, sent = client.post_message("hello", client_msg_id="same-id")
    first.set_status(Conversation.CLOSED, agent=None)
    second = Conversation.create(widget=shop, client=client)
    return sent, second


def test_a_resend_after_the_conversation_closed_returns_the_first_message(new_database):
    """The widget's path: the answer to the first send was lost, an agent closed the chat."""
    use(new_database())
    schema.create_tables()
    client = Client.for_token(Widget.create(name="Shop"), "visitor-token")
    first, sent = client.post_message("hello", client_msg_id="same-id")
    first.set_status(Conversation.CLOSED, agent=None)

    conversation, again = client.post_message("hello", client_msg_id="same-id")

    assert again.id == sent.id and conversation.id == first.id
    assert Message.select().where(Message.client_msg_id == "same-id").count() == 1
    assert Conversation.select().count() == 1  # no empty conversation left behind


def test_a_resend_in_a_new_conversation_returns_the_first_message(new_database):
    use(new_database())
    sent, second = resend_setup()

    again = second.add_message("hello", Message.FROM_CLIENT, client_msg_id="same-id")

    assert again.id == sent.id and again.conversation_id == sent.conversation_id
    assert Message.select().where(Message.client_msg_id == "same-id").count() == 1
    assert second.messages.count() == 0


def test_a_resend_racing_the_first_request_returns_the_first_message(new_database, monkeypatch):
    """The other request stored it between our look-up and our insert: the index answers."""
    use(new_database())
    sent, second = resend_setup()
    looked_up = []
    real_sent_by = Message.sent_by.__func__

    def late_sent_by(cls, client, client_msg_id):
        looked_up.append(client_msg_id)
        return None if len(looked_up) == 1 else real_sent_by(cls, client, client_msg_id)

    monkeypatch.setattr(Message, "sent_by", classmethod(late_sent_by))
    with database.atomic():
        again = second.add_message("hello", Message.FROM_CLIENT, client_msg_id="same-id")

    assert again.id == sent.id and looked_up == ["same-id", "same-id"]
    assert Message.select().where(Message.client_msg_id == "same-id").count() == 1
    with pytest.raises(IntegrityError), database.atomic():
        Message.create(
            conversation=second,
            client=sent.client_id,
            sender="client",
            body="x",
            client_msg_id="same-id",
        )


def test_init_db_upgrades_a_first_commit_database_and_keeps_its_rows(tmp_path):
    from app import create_app

    url = f"sqlite:///{tmp_path / 'old.db'}"
    use(url)
    load_schema("175a045")
    fill_first_schema()
    database.close()
    app = create_app({"TESTING": True, "DATABASE_URL": url, "SECRET_KEY": "x"})
    web = app.test_client()
    refused = web.get("/admin/login")  # new code on the old database, before init-db
    assert refused.status_code == 503
    assert "flask --app app init-db" in refused.get_data(as_text=True)
    assert web.get("/embed.js").status_code == 200  # customers' sites keep their loader

    result = app.test_cli_runner().invoke(args=["init-db"])

    assert result.exit_code == 0, result.output
    assert web.get("/admin/login").status_code == 200
    use(url)
    check_first_schema_rows_kept()
    assert schema.pending_migrations() == []
    assert count("agent") == 2 and count("widget") == 2  # no demo rows on a used database
