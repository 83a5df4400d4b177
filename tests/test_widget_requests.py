"""How much database work a widget request does: the visitor is looked up once per request.

Counted on the real databases (both ``app`` params) through peewee's query hook: every statement
the app sends, savepoints included. (A transaction's own BEGIN and COMMIT go to the driver's cursor
directly and are not counted: one pair per ``atomic()`` block that is not nested.) On
PostgreSQL the live event is a NOTIFY, which is the message reaching other processes, not a lookup;
it is left out of the count.
"""

import contextlib
import re
import secrets

import pytest
from helpers import fill_in_form, send_message, set_auth_type

from models import AuthType, Client, Conversation, Message, database


@contextlib.contextmanager
def counted_statements():
    """Collect the SQL of every statement the app sends inside the ``with`` block."""
    statements = []

    def note(event):
        if not event.sql.startswith("SELECT pg_notify("):  # the live event itself, not a query
            statements.append(event.sql)

    hooks = database.obj.query_hooks
    hooks.append(note)
    try:
        yield statements
    finally:
        hooks.remove(note)


def lookups_of(table, statements):
    """How many of ``statements`` read ``table``."""
    pattern = re.compile(rf'^SELECT .* FROM "{table}" ', re.IGNORECASE)
    return sum(1 for sql in statements if pattern.match(sql))


def test_a_second_message_in_an_open_conversation_takes_at_most_five_statements(client, widget):
    token = secrets.token_hex(24)
    assert send_message(client, widget, token, "first").status_code == 200
    with counted_statements() as statements:
        response = send_message(client, widget, token, "second")
    assert response.status_code == 200
    assert [m.body for m in Message.select().order_by(Message.id)] == ["first", "second"]
    # widget, client, labels; the open conversation touched; the message stored
    assert len(statements) <= 5, statements
    assert lookups_of("widget", statements) == 1, statements
    assert lookups_of("client", statements) == 1, statements


def test_a_first_message_starts_the_conversation_in_few_statements(client, widget):
    with counted_statements() as statements:
        response = send_message(client, widget, secrets.token_hex(24), "hello")
    assert response.status_code == 200
    assert [m.body for m in Message.select()] == ["hello"]
    # widget, client, labels; the new client; no open conversation, none after locking the
    # client's row either; the conversation and the message stored
    assert len(statements) <= 9, statements
    assert lookups_of("widget", statements) == 1, statements
    assert lookups_of("client", statements) == 1, statements


@pytest.mark.parametrize("auth_type", [AuthType.FORM, AuthType.OPTIONAL_FORM])
def test_a_contact_s_message_reads_the_widget_and_client_once(client, widget, auth_type):
    set_auth_type(widget, auth_type)
    token = secrets.token_hex(24)
    assert fill_in_form(client, widget, token).status_code == 200
    assert send_message(client, widget, token, "first").status_code == 200
    with counted_statements() as statements:
        response = send_message(client, widget, token, "second")
    assert response.status_code == 200
    assert len(statements) <= 5, statements
    assert lookups_of("widget", statements) == 1, statements
    assert lookups_of("client", statements) == 1, statements


def test_a_message_notes_a_visitor_seen_long_ago_once_more(client, widget, db):
    token = secrets.token_hex(24)
    send_message(client, widget, token, "first")
    long_ago = Client.get().last_seen_at - Client.SEEN_PRECISION * 10
    Client.update(last_seen_at=long_ago).execute()
    with counted_statements() as statements:
        assert send_message(client, widget, token, "second").status_code == 200
    assert len(statements) <= 6, statements
    assert Client.get().last_seen_at > long_ago
    assert Conversation.select().count() == 1


def test_a_message_after_the_conversation_closed_starts_a_new_one(client, widget, db):
    token = secrets.token_hex(24)
    send_message(client, widget, token, "first")
    Conversation.update(status=Conversation.CLOSED).execute()
    assert send_message(client, widget, token, "second").status_code == 200
    newest = Conversation.select().order_by(Conversation.id.desc()).get()
    assert newest.is_open
    assert [m.body for m in newest.messages_in_order()] == ["second"]
