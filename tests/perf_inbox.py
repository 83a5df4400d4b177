"""A large inbox, built fast, and ``measure_inbox()``: how many statements and how long GET /admin/
takes with 10,000 conversations and 100,000 messages on a temporary SQLite database.

``build_inbox`` is shared with ``test_inbox_speed.py``, which builds a smaller one on both
databases. Run ``python tests/perf_inbox.py`` (or call ``measure_inbox()``): it prints figures and
asserts nothing (timings on a shared machine are information, not a test).
"""

import datetime
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def build_inbox(conversations, messages_per, agent, widget, read_every=3, now=None):
    """``conversations`` conversations of ``messages_per`` messages each, client and agent in
    turn (the client first), in one transaction of ``insert_many``s.

    Every third client is a contact, every fifth conversation is closed, every seventh is rated.
    ``agent`` has read every ``read_every``-th conversation to its end, and the one after it up
    to its first message. Returns the ids of the conversations the agent has unread messages in,
    by status.
    """
    from models import Client, Contact, Conversation, Message, Rating, ReadMark, database

    now = now or datetime.datetime(2030, 1, 1)
    unread = {Conversation.OPEN: set(), Conversation.CLOSED: set()}
    with database.atomic():
        base = (Message.select(Message.id).order_by(Message.id.desc()).scalar() or 0) + 1
        first_conversation = (
            Conversation.select(Conversation.id).order_by(Conversation.id.desc()).scalar() or 0
        ) + 1
        first_client = (Client.select(Client.id).order_by(Client.id.desc()).scalar() or 0) + 1
        first_contact = (Contact.select(Contact.id).order_by(Contact.id.desc()).scalar() or 0) + 1
        contacts, clients, rows, messages, ratings, marks = [], [], [], [], [], []
        for n in range(conversations):
            client_id = first_client + n
            conversation_id = first_conversation + n
            contact_id = None
            if n % 3 == 0:
                contact_id = first_contact + len(contacts)
                contacts.append(
                    {
                        "id": contact_id,
                        "widget": widget.id,
                        "email": f"c{client_id}@example.com",
                        "name": f"Contact {client_id}",
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            clients.append(
                {
                    "id": client_id,
                    "widget": widget.id,
                    "token_hash": f"h{client_id}",
                    "contact": contact_id,
                    "created_at": now,
                    "last_seen_at": now,
                }
            )
            status = Conversation.CLOSED if n % 5 == 4 else Conversation.OPEN
            at = now + datetime.timedelta(seconds=n)
            rows.append(
                {
                    "id": conversation_id,
                    "widget": widget.id,
                    "client": client_id,
                    "status": status,
                    "created_at": at,
                    "last_message_at": at,
                }
            )
            first_id = base + n * messages_per
            for k in range(messages_per):
                from_client = k % 2 == 0
                messages.append(
                    {
                        "id": first_id + k,
                        "conversation": conversation_id,
                        "client": client_id if from_client else None,
                        "sender": Message.FROM_CLIENT if from_client else Message.FROM_AGENT,
                        "agent": None if from_client else agent.id,
                        "body": f"Message {k} of conversation {conversation_id}",
                        "created_at": at,
                    }
                )
            if n % 7 == 0:
                ratings.append(
                    {
                        "conversation": conversation_id,
                        "good": n % 2 == 0,
                        "comment": "thanks",
                        "created_at": at,
                        "updated_at": at,
                    }
                )
            if n % read_every == 0:
                marks.append(
                    {
                        "agent": agent.id,
                        "conversation": conversation_id,
                        "last_read_id": first_id + messages_per - 1,
                    }
                )
            elif n % read_every == 1:
                marks.append(
                    {"agent": agent.id, "conversation": conversation_id, "last_read_id": first_id}
                )
                if messages_per > 2:
                    unread[status].add(conversation_id)
            elif messages_per:
                unread[status].add(conversation_id)
        for model, batch in (
            (Contact, contacts),
            (Client, clients),
            (Conversation, rows),
            (Message, messages),
            (Rating, ratings),
            (ReadMark, marks),
        ):
            for start in range(0, len(batch), 500):
                model.insert_many(batch[start : start + 500]).execute()
        fix_sequences(Contact, Client, Conversation, Message)
    return unread


def fix_sequences(*models):
    """On PostgreSQL, rows inserted with their ids leave the sequences behind: catch them up."""
    from peewee import PostgresqlDatabase

    from models import database

    if isinstance(database.obj, PostgresqlDatabase):
        for model in models:
            table = model._meta.table_name
            database.execute_sql(
                f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                f'(SELECT COALESCE(MAX(id), 1) FROM "{table}"))'
            )


def measure_inbox(conversations=10_000, messages_per=10, rounds=5):
    """Build the inbox on a temporary SQLite database and print GET /admin/'s statements and ms."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "tests"))
    from conftest import make_app
    from helpers import ADMIN_PASSWORD, sign_in

    import schema
    from cli import seed_demo
    from models import Agent, Conversation, Widget, database

    with tempfile.TemporaryDirectory() as tmp:
        app = make_app(f"sqlite:///{tmp}/frontdesk.db")
        with app.app_context(), database.connection_context():
            schema.upgrade()
            seed_demo(ADMIN_PASSWORD)
            agent = Agent.select().order_by(Agent.id).get()
            started = time.perf_counter()
            build_inbox(conversations, messages_per, agent, Widget.select().get())
            built = time.perf_counter() - started
            unread = Conversation.unread_count(agent)
        client = app.test_client()
        sign_in(client)
        statements = []

        def note(event):
            statements.append(event.sql)

        timings = []
        for _ in range(rounds):
            statements.clear()
            database.obj.query_hooks.append(note)
            try:
                started = time.perf_counter()
                response = client.get("/admin/")
                timings.append((time.perf_counter() - started) * 1000)
            finally:
                database.obj.query_hooks.remove(note)
            assert response.status_code == 200, response.status_code
        with app.app_context(), database.connection_context():
            started = time.perf_counter()
            for _ in range(rounds):
                Conversation.unread_count(agent)
            unread_ms = (time.perf_counter() - started) * 1000 / rounds
    timings.sort()
    print(
        f"inbox: {conversations:,} conversations, {conversations * messages_per:,} messages "
        f"(built in {built:.1f} s); GET /admin/ (200 rows): {len(statements)} statements, "
        f"median {timings[len(timings) // 2]:.0f} ms (best {timings[0]:.0f} ms); "
        f"unread count ({unread}): {unread_ms:.1f} ms"
    )
    return {"statements": len(statements), "ms": timings[len(timings) // 2], "unread_ms": unread_ms}


if __name__ == "__main__":
    measure_inbox()
