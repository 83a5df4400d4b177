"""The inbox at size: a few statements whatever the number of conversations and messages, exact
unread counts, rows sent live one by one, and the contact list and reports in bounded pages.

Statements are counted as in ``test_widget_requests.py`` (peewee's query hook), on both
databases. Timings are not asserted: ``perf_inbox.measure_inbox()`` prints them.
"""

import datetime
import re
import secrets

import pytest
from helpers import fill_in_form, set_auth_type, start_chat
from perf_inbox import build_inbox
from test_live import first_events
from test_widget_requests import counted_statements

from db import utcnow
from models import Agent, AuthType, Contact, Conversation, Message, Rating

CONVERSATIONS = 2_000
MESSAGES_PER = 10  # client and agent in turn: five client messages each


@pytest.fixture
def big_inbox(app, db, widget):
    """2,000 conversations and 20,000 messages; the admin has read some of them."""
    agent = Agent.by_email("admin@example.com")
    unread = build_inbox(CONVERSATIONS, MESSAGES_PER, agent, widget, now=utcnow())
    return agent, unread


def test_the_inbox_page_takes_a_few_statements(admin, big_inbox):
    agent, unread = big_inbox
    with counted_statements() as statements:
        response = admin.get("/admin/")
    assert response.status_code == 200
    # the agent; the newest message id; the 200 rows with everything they show; the title count
    assert len(statements) <= 10, statements
    page = response.data.decode()
    assert page.count('<li id="inbox-row-') == 200
    assert f"<title>({len(unread[Conversation.OPEN])}) Inbox" in page

    with counted_statements() as statements:
        closed = admin.get("/admin/?status=closed", headers={"HX-Request": "true"})
    assert closed.status_code == 200 and len(statements) <= 10, statements
    assert closed.data.decode().count('<li id="inbox-row-') == 200


def test_unread_counts_are_right_in_a_large_inbox(admin, big_inbox):
    agent, unread = big_inbox
    assert Conversation.unread_count(agent) == len(unread[Conversation.OPEN])
    rows = list(Conversation.inbox(agent).limit(200))
    assert [row.status for row in rows] == [Conversation.OPEN] * 200
    newest = Conversation.select().where(Conversation.status == Conversation.OPEN)
    newest = newest.order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
    assert [row.id for row in rows] == [c.id for c in newest.limit(200)]
    marks = {m.conversation_id: m.last_read_id for m in agent.read_marks}
    for row in rows:
        client_messages = Message.select().where(
            (Message.conversation == row.id) & (Message.sender == Message.FROM_CLIENT)
        )
        expected = client_messages.where(Message.id > marks.get(row.id, 0)).count()
        assert row.unread == expected, row.id
        assert (expected > 0) == (row.id in unread[Conversation.OPEN])
        # the row's last message (an agent's reply here) and its sender come with it
        last = row.last_message()
        assert last.body == f"Message {MESSAGES_PER - 1} of conversation {row.id}"
        assert last.agent.name == "Admin"
    rated = [row for row in rows if row.rating is not None]
    assert rated and {row.id for row in rated} == {
        r.conversation_id for r in Rating.select().where(Rating.conversation.in_(rows))
    }

    # Another agent has read nothing: every open conversation is unread for them.
    other = Agent.create_with_password("sam@example.com", "Sam", "password-of-sam")
    opened = Conversation.select().where(Conversation.status == Conversation.OPEN).count()
    assert Conversation.unread_count(other) == opened
    assert all(row.unread == MESSAGES_PER // 2 for row in Conversation.inbox(other).limit(50))


def test_the_unread_count_ignores_agents_and_status_changes(admin, client, widget, db):
    agent = Agent.by_email("admin@example.com")
    conversation = start_chat(client, widget, secrets.token_hex(24), "one question")
    assert Conversation.unread_count(agent) == 1
    conversation.mark_read(agent)
    conversation.add_message("an answer", Message.FROM_AGENT, agent=agent)
    assert Conversation.unread_count(agent) == 0
    [row] = Conversation.inbox(agent)
    assert row.unread == 0 and row.last_message().body == "an answer"
    conversation.set_status(Conversation.CLOSED, agent)
    [row] = Conversation.inbox(agent, Conversation.CLOSED)
    assert row.last_message().body == "an answer"  # the status change is no preview


# --- live rows -------------------------------------------------------------------------------


def live_events(admin_client, **query):
    response = admin_client.get("/admin/live", query_string=query, buffered=False)
    assert response.status_code == 200
    return first_events(response)


def test_the_inbox_stream_sends_only_the_rows_that_changed(admin, client, widget, db):
    set_auth_type(widget, AuthType.NONE)
    quiet = start_chat(client, widget, secrets.token_hex(24), "old news")
    page = admin.get("/admin/").data.decode()
    after = re.search(r"/admin/live\?inbox=open&amp;after=(\d+)", page).group(1)
    assert int(after) == Message.select().order_by(Message.id.desc()).get().id

    assert "hx-partial" not in live_events(admin, inbox="open", after=after)

    busy = start_chat(client, widget, secrets.token_hex(24), "fresh question")
    events = live_events(admin, inbox="open", after=after)
    assert f'<hx-partial hx-target="#inbox-row-{busy.id}" hx-swap="delete">' in events
    assert '<hx-partial hx-target="#inbox-rows" hx-swap="afterbegin">' in events
    assert "fresh question" in events and "old news" not in events
    assert f"inbox-row-{quiet.id}" not in events
    newest = Message.select().order_by(Message.id.desc()).get().id
    assert f"id: {newest}\n" in events  # a reconnect resumes from there
    assert "event: inbox-changed\ndata: 2\n" in events

    # Closed: the row leaves the open tab and comes to the top of the closed one.
    busy.set_status(Conversation.CLOSED, Agent.by_email("admin@example.com"))
    events = live_events(admin, inbox="open", after=newest)
    assert f'hx-target="#inbox-row-{busy.id}" hx-swap="delete"' in events
    assert "afterbegin" not in events
    events = live_events(admin, inbox="closed", after=newest)
    assert f'<li id="inbox-row-{busy.id}"' in events and "afterbegin" in events

    # Pages other than the inbox get the count only.
    assert "hx-partial" not in live_events(admin, after=0)


def test_a_new_rating_redraws_its_row_in_place(app, admin, client, widget, db):
    from admin.inbox import InboxRows

    conversation = start_chat(client, widget, secrets.token_hex(24), "rate me")
    agent = Agent.by_email("admin@example.com")
    rows = InboxRows(Conversation.OPEN, after=Message.select().get().id)
    with app.test_request_context():
        assert rows.read(agent) == ""
        Rating.rate(conversation, good=True, comment="lovely")
        events = rows.read(agent)
        assert f'hx-target="#inbox-row-{conversation.id}" hx-swap="outerHTML"' in events
        assert "Rated good" in events and "delete" not in events
        assert rows.read(agent) == ""  # shown once


# --- contacts and reports --------------------------------------------------------------------


def test_contacts_come_in_pages(admin, client, widget, monkeypatch):
    monkeypatch.setattr("admin.team.CONTACTS_PER_PAGE", 3)
    set_auth_type(widget, AuthType.FORM)
    for n in range(7):
        fill_in_form(client, widget, secrets.token_hex(24), f"Person {n}", f"p{n}@example.com")

    with counted_statements() as statements:
        first = admin.get("/admin/contacts/").data.decode()
    assert len(statements) <= 5, statements  # the widget's name comes with each contact
    assert re.findall(r"Person \d", first) == ["Person 6", "Person 5", "Person 4"]
    assert 'href="/admin/contacts/?page=2"' in first and "?page=0" not in first

    third = admin.get("/admin/contacts/?page=3", headers={"HX-Request": "true"}).data.decode()
    assert re.findall(r"Person \d", third) == ["Person 0"]
    assert 'href="/admin/contacts/?page=2"' in third and "page=4" not in third
    searched = admin.get("/admin/contacts/?q=person&page=2").data.decode()
    assert re.findall(r"Person \d", searched) == ["Person 3", "Person 2", "Person 1"]
    assert 'href="/admin/contacts/?q=person&amp;page=3"' in searched
    assert "No more contacts" in admin.get("/admin/contacts/?page=9").data.decode()
    for odd in ("0", "-1", "x", "99999999999999999999"):
        assert admin.get(f"/admin/contacts/?page={odd}").status_code == 200
    assert Contact.select().count() == 7


def test_reports_count_the_last_30_days_per_agent(admin, client, widget, db):
    agent = Agent.by_email("admin@example.com")
    recent = start_chat(client, widget, secrets.token_hex(24), "recent")
    old = start_chat(client, widget, secrets.token_hex(24), "old")
    for conversation in (recent, old):
        conversation.add_message("reply", Message.FROM_AGENT, agent=agent)
    Rating.rate(recent, good=True)
    Rating.rate(old, good=False)
    long_ago = utcnow() - datetime.timedelta(days=40)
    Rating.update(updated_at=long_ago).where(Rating.conversation == old.id).execute()
    assert Rating.share_good_per_agent() == [("Admin", 1, 1.0)]
    page = admin.get("/admin/reports").data.decode()
    assert "Share of good ratings per agent, last 30 days" in page and "100 %" in page
