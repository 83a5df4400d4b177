"""The workspace on both databases: the URL's view, filters, assignment, search and its live
stream. (Its layout and keyboard are checked in Chromium: tests/browser/test_workspace.py.)
"""

import re
import secrets

import pytest
from helpers import (
    admin_post,
    fill_in_form,
    post_reply,
    send_message,
    set_auth_type,
    start_chat,
)
from markupsafe import Markup
from test_inbox_speed import big_inbox, live_events  # noqa: F401  (a fixture, and a helper)
from test_migrations import (  # noqa: F401  (new_database is a fixture)
    fill_middle_schema,
    load_schema,
    new_database,
    upgrade_and_check_idempotent,
    use,
)
from test_widget_requests import counted_statements

import fulltext
from models import Agent, AuthType, Conversation, Message, database

ROW = re.compile(r'<li id="inbox-row-(\d+)"')


def row_ids(html):
    return [int(found) for found in ROW.findall(html)]


def chat(client, widget, body):
    return start_chat(client, widget, secrets.token_hex(24), body)


@pytest.fixture
def team(db):
    """The seeded admin and two more agents."""
    admin = Agent.by_email("admin@example.com")
    sam = Agent.create_with_password("sam@example.com", "Sam", "password-of-sam")
    kim = Agent.create_with_password("kim@example.com", "Kim", "password-of-kim")
    return admin, sam, kim


def assign(admin_client, conversation, agent_id, **view):
    """Choose in the conversation header's select, as htmx posts it."""
    page = f"/admin/conversations/{conversation.id}"
    return admin_post(
        admin_client,
        page,
        f"{page}/assignee" + ("?" + "&".join(f"{k}={v}" for k, v in view.items()) if view else ""),
        {"assignee": agent_id},
        {"HX-Request": "true"},
    )


# --- the view in the URL ---------------------------------------------------------------------


def test_the_url_opens_a_conversation_beside_the_list(admin, client, widget):
    set_auth_type(widget, AuthType.NONE)
    first = chat(client, widget, "first question")
    second = chat(client, widget, "second question")
    page = admin.get(f"/admin/?conversation={first.id}&filter=all&status=open").data.decode()
    assert row_ids(page) == [second.id, first.id]  # the list, and beside it
    assert 'id="thread"' in page and "first question" in page[page.index('id="thread"') :]
    assert f'href="/admin/?conversation={first.id}" hx-get' in page
    assert re.search(rf'href="/admin/\?conversation={first.id}"[^>]*aria-current="true"', page)
    # The stream names the list and the open conversation.
    assert re.search(rf"/admin/live\?inbox=open&amp;conversation={first.id}&amp;after=\d+", page)
    # Opening read it: its unread badge is gone, the other's stays.
    assert first.id not in unread_rows(page) and second.id in unread_rows(page)

    # The old address shows the same, and htmx gets the workspace alone.
    old = admin.get(f"/admin/conversations/{first.id}").data.decode()
    assert 'id="workspace"' in old and 'id="thread"' in old and "<html" in old
    partial = admin.get(f"/admin/?conversation={second.id}", headers={"HX-Request": "true"})
    partial = partial.data.decode()
    assert partial.lstrip().startswith("{#") is False and "<html" not in partial
    assert (
        f'<div id="workspace" class="workspace is-open" data-conversation="{second.id}">' in partial
    )

    for odd in ("abc", "-1", "0", "99999999999999999999", "1e3"):
        response = admin.get(f"/admin/?conversation={odd}&filter=nobody&status=x")
        assert response.status_code == 200 and 'id="thread"' not in response.data.decode()
    assert admin.get("/admin/?conversation=999999").status_code == 404


def unread_rows(html):
    return {int(n) for n in re.findall(r'<li id="inbox-row-(\d+)" class="unread">', html)}


# --- filters and assignment ------------------------------------------------------------------


def test_filters_show_mine_unassigned_or_all(admin, client, widget, team):
    admin_agent, sam, _ = team
    set_auth_type(widget, AuthType.NONE)
    mine, sams, nobodys = (chat(client, widget, f"question {n}") for n in range(3))
    mine.assign(admin_agent)
    sams.assign(sam)
    closed_mine = chat(client, widget, "closed one")
    closed_mine.assign(admin_agent)
    closed_mine.set_status(Conversation.CLOSED, admin_agent)

    def shown(query):
        return row_ids(admin.get(f"/admin/{query}").data.decode())

    assert shown("") == shown("?filter=all") == [nobodys.id, sams.id, mine.id]
    assert shown("?filter=mine") == [mine.id]
    assert shown("?filter=unassigned") == [nobodys.id]
    assert shown("?filter=mine&status=closed") == [closed_mine.id]
    assert shown("?filter=unassigned&status=closed") == []
    assert (
        "No unassigned closed conversations."
        in admin.get("/admin/?filter=unassigned&status=closed").data.decode()
    )
    assert [c.id for c in Conversation.inbox(sam, assigned=Conversation.MINE)] == [sams.id]
    # A row says who has it.
    page = admin.get("/admin/").data.decode()
    assert "→ you" in page and "→ Sam" in page

    # An agent removed from the team leaves their conversations unassigned.
    sam.remove_from_team()
    assert shown("?filter=unassigned") == [nobodys.id, sams.id]
    assert Conversation.get_by_id(sams.id).assignee_id is None


def test_assigning_in_the_header(admin, client, widget, team):
    admin_agent, sam, kim = team
    set_auth_type(widget, AuthType.NONE)
    conversation = chat(client, widget, "who answers me?")
    page = admin.get(f"/admin/?conversation={conversation.id}").data.decode()
    assert '<option value="" selected>Nobody</option>' in page
    assert f'<option value="{sam.id}" >Sam</option>' in page and "Admin (you)" in page

    response = assign(admin, conversation, sam.id, filter="unassigned")
    assert response.status_code == 200
    assert Conversation.get_by_id(conversation.id).assignee_id == sam.id
    html = response.data.decode()
    assert f'<option value="{sam.id}" selected>Sam</option>' in html and "Saved" in html
    # It left the unassigned list the page shows.
    assert f'hx-target="#inbox-row-{conversation.id}" hx-swap="delete"' in html

    html = assign(admin, conversation, kim.id).data.decode()  # the "all" list: redrawn in place
    assert f'hx-target="#inbox-row-{conversation.id}" hx-swap="outerHTML"' in html
    assert "→ Kim" in html
    assert assign(admin, conversation, "").status_code == 200
    assert Conversation.get_by_id(conversation.id).assignee_id is None

    kim.remove_from_team()
    for bad in (kim.id, 999999, "x", "-1", "1 OR 1=1"):
        response = assign(admin, conversation, bad)
        assert response.status_code == 422, bad
        assert "Choose an agent of the team." in response.data.decode()
    assert Conversation.get_by_id(conversation.id).assignee_id is None
    assert admin.post(f"/admin/conversations/{conversation.id}/assignee").status_code == 400


def test_replying_to_an_unassigned_conversation_takes_it(admin, client, widget, team):
    admin_agent, sam, _ = team
    set_auth_type(widget, AuthType.NONE)
    free = chat(client, widget, "anyone?")
    response = post_reply(admin, free, "Me!")
    assert response.status_code == 200
    assert Conversation.get_by_id(free.id).assignee_id == admin_agent.id
    assert 'hx-target="#assignee"' in response.data.decode()  # the header's select follows

    # The select that follows keeps the page's view (the reply form's address names none).
    other = chat(client, widget, "another")
    page = f"/admin/conversations/{other.id}"
    response = admin_post(
        admin,
        page,
        f"{page}/reply",
        {"body": "On it"},
        {
            "HX-Request": "true",
            "HX-Current-URL": f"http://localhost/admin/?conversation={other.id}&filter=mine",
        },
    )
    assert f"/admin/conversations/{other.id}/assignee?filter=mine" in response.data.decode()

    taken = chat(client, widget, "for Sam")
    taken.assign(sam)
    response = post_reply(admin, taken, "Sam is away, I can help")
    assert Conversation.get_by_id(taken.id).assignee_id == sam.id  # never taken from Sam
    assert 'hx-target="#assignee"' not in response.data.decode()


# --- search ----------------------------------------------------------------------------------


def test_search_finds_messages_and_people_as_inbox_rows(admin, client, widget, team):
    set_auth_type(widget, AuthType.NONE)
    refund = chat(client, widget, "I would like a refund for order 1234, it came broken")
    other = chat(client, widget, "What are your opening hours?")
    other.add_message("We refunded <b>everything</b> already", Message.FROM_AGENT)
    other.set_status(Conversation.CLOSED, team[0])  # closed ones are found too
    set_auth_type(widget, AuthType.FORM)
    token = secrets.token_hex(24)
    fill_in_form(client, widget, token, "Grace Hopper", "grace@example.com")
    grace = start_chat(client, widget, token, "hi")

    def found(query):
        return row_ids(admin.get("/admin/", query_string={"q": query}).data.decode())

    # Every word as a word prefix, any case, newest activity first.
    assert found("refund") == [other.id, refund.id]
    assert found("REFUND order") == [refund.id]
    assert found("ord 12") == [refund.id]
    assert found("broken refund") == [refund.id]
    assert found("fund") == []  # a word's start, not its middle
    page = admin.get("/admin/?q=refunded").data.decode()
    # The matching words come marked, the message's own markup escaped.
    assert "<mark>refunded</mark> &lt;b&gt;everything&lt;/b&gt; already" in page
    assert "<b>everything</b>" not in page
    assert "Closed" in page
    # People: a contact's name or email.
    assert found("grace hop") == [grace.id]
    assert found("grace@example") == [grace.id]
    # Status changes are no messages: "closed" matches none.
    assert found("closed") == []

    set_auth_type(widget, AuthType.NONE)
    stored_now = chat(client, widget, "Brand new xylophone question")
    assert found("xylophone") == [stored_now.id]  # kept in step as messages are stored


@pytest.mark.parametrize(
    "query",
    [
        '"',
        "AND(",
        "NEAR(a b",
        "*",
        "a OR",
        "'; DROP TABLE message; --",
        "\\",
        "%",
        "_",
        "a:*",
        "!(",
        "é",
        "👋",
        "x" * 500,
        "   ",
        "&|!",
        'body:"x"',
        "^",
    ],
)
def test_search_syntax_is_plain_text(admin, client, widget, query):
    set_auth_type(widget, AuthType.NONE)
    chat(client, widget, "100% sure_thing, really")
    response = admin.get("/admin/", query_string={"q": query})
    assert response.status_code == 200
    assert Message.select().count() == 1


def test_search_matches_like_wildcards_literally(admin, client, widget):
    set_auth_type(widget, AuthType.FORM)
    fill_in_form(client, widget, secrets.token_hex(24), "Percy", "percy@example.com")
    assert row_ids(admin.get("/admin/?q=%25").data.decode()) == []
    assert row_ids(admin.get("/admin/?q=_").data.decode()) == []


def test_search_takes_a_few_statements(admin, big_inbox):  # noqa: F811
    with counted_statements() as statements:
        response = admin.get("/admin/?q=message%20conversation")
    assert response.status_code == 200
    assert len(row_ids(response.data.decode())) == Conversation.SEARCH_RESULTS
    # the agent; newest id; matching messages; their bodies; the rows; the title count
    assert len(statements) <= 10, statements


def test_the_filters_take_a_few_statements(admin, big_inbox):  # noqa: F811
    agent, _ = big_inbox
    every_third = [c.id for c in Conversation.select(Conversation.id) if c.id % 3 == 0]
    Conversation.update(assignee=agent).where(Conversation.id.in_(every_third)).execute()
    with counted_statements() as unfiltered:
        admin.get("/admin/")
    assert len(unfiltered) == 4  # the sign-in, the newest message id, the rows, the title count
    for query in ("?filter=mine", "?filter=unassigned", "?filter=mine&status=closed"):
        with counted_statements() as statements:
            response = admin.get(f"/admin/{query}")
        assert response.status_code == 200
        rows = row_ids(response.data.decode())
        # every fifth conversation is closed: 400 of them, a third of those assigned
        assert len(rows) == (133 if "closed" in query else 200), query
        assert len(statements) == len(unfiltered), (query, statements)  # no more than "all"
        mine = {c.id for c in Conversation.select().where(Conversation.assignee == agent.id)}
        assert (set(rows) <= mine) == ("mine" in query)
        assert set(rows).isdisjoint(mine) == ("unassigned" in query)


# --- the live stream -------------------------------------------------------------------------


def test_one_stream_carries_the_open_conversation_and_the_filtered_list(
    admin, client, widget, team
):
    admin_agent, sam, _ = team
    set_auth_type(widget, AuthType.NONE)
    token = secrets.token_hex(24)
    viewed = start_chat(client, widget, token, "first")
    sams = chat(client, widget, "for Sam")
    sams.assign(sam)
    viewed.assign(admin_agent)
    after = Message.select().order_by(Message.id.desc()).get().id

    assert send_message(client, widget, token, "second").status_code == 200
    sams.add_message("new for Sam", Message.FROM_CLIENT)
    viewed.add_message("third", Message.FROM_CLIENT)
    events = live_events(admin, inbox="open", filter="mine", conversation=viewed.id, after=after)
    # The open conversation's new messages, for the thread...
    assert '<li class="message from-client"' in events and "third" in events
    # ...and the rows of the list ("mine"): the viewed one moves up, Sam's is not in it.
    assert '<hx-partial hx-target="#inbox-rows" hx-swap="afterbegin">' in events
    assert f'<li id="inbox-row-{viewed.id}"' in events
    assert f'<li id="inbox-row-{sams.id}"' not in events
    assert f'hx-target="#inbox-row-{sams.id}" hx-swap="delete"' in events  # if it was there
    # Every id the round sends is at most the last one: Last-Event-ID resumes both parts.
    ids = [int(n) for n in re.findall(r"^id: (\d+)$", events, re.M)]
    assert (
        ids
        and ids == sorted(ids)
        and ids[-1] == Message.select().order_by(Message.id.desc()).get().id
    )
    # Shown as it arrived: read.
    assert Conversation.unread_count(admin_agent) == 1  # Sam's only


# --- the migrations --------------------------------------------------------------------------


def test_an_upgraded_database_finds_the_messages_it_had(new_database):  # noqa: F811
    """Migration 018 fills the search index from the messages already stored; 017 leaves every
    conversation unassigned; both filters and search answer at once."""
    use(new_database())
    load_schema("68f9aab")
    fill_middle_schema()
    upgrade_and_check_idempotent()
    admin = Agent.get_by_id(1)
    assert [c.id for c in Conversation.search(admin, "bonjour")] == [3]
    assert [c.id for c in Conversation.search(admin, "order")] == [4, 1]  # closed ones too
    assert Conversation.search(admin, "order")[0].snippet == Markup(
        "my <mark>order</mark> (resent)"
    )
    assert [c.id for c in Conversation.inbox(admin, assigned=Conversation.UNASSIGNED)] == [4, 3, 2]
    assert list(Conversation.inbox(admin, assigned=Conversation.MINE)) == []
    # And a message stored after the upgrade is found.
    Conversation.get_by_id(2).add_message("a zeppelin question", Message.FROM_CLIENT)
    assert [c.id for c in Conversation.search(admin, "zepp")] == [2]
    database.close()


def test_an_assignment_redraws_or_removes_the_row_live(app, client, widget, team):
    from admin.inbox import InboxRows

    admin_agent, sam, _ = team
    set_auth_type(widget, AuthType.NONE)
    conversation = chat(client, widget, "assign me")
    conversation.assign(admin_agent)
    after = Message.select().get().id
    everyone = InboxRows(Conversation.OPEN, after)
    mine = InboxRows(Conversation.OPEN, after, Conversation.MINE)
    with app.test_request_context():
        assert everyone.read(admin_agent) == "" and mine.read(admin_agent) == ""
        conversation.assign(sam)
        events = everyone.read(admin_agent)  # still in "all": redrawn where it is
        assert f'hx-target="#inbox-row-{conversation.id}" hx-swap="outerHTML"' in events
        assert "→ Sam" in events and "delete" not in events
        events = mine.read(admin_agent)  # no longer the admin's: out of "mine"
        assert f'hx-target="#inbox-row-{conversation.id}" hx-swap="delete"' in events
        assert "outerHTML" not in events and "afterbegin" not in events
        assert everyone.read(admin_agent) == ""  # shown once


def test_the_search_is_served_by_its_index(db):
    """The match goes through the FTS5 table on SQLite and the GIN index on PostgreSQL (the
    expression must repeat the index's exactly for the planner to use it)."""
    sql, params = Message.select(Message.id).where(fulltext.matches(Message, ["refu"])).sql()
    if fulltext.on_sqlite():
        plan = str(db.execute_sql(f"EXPLAIN QUERY PLAN {sql}", params).fetchall())
        assert "VIRTUAL TABLE INDEX" in plan and "message_fts" in plan, plan
    else:
        with db.atomic():
            db.execute_sql("SET LOCAL enable_seqscan = off")  # a tiny table: force the choice
            plan = str(db.execute_sql(f"EXPLAIN {sql}", params).fetchall())
        assert "message_body_search" in plan, plan


def test_closing_comes_back_to_the_same_view(admin, client, widget):
    set_auth_type(widget, AuthType.NONE)
    conversation = chat(client, widget, "close me")
    page = f"/admin/?conversation={conversation.id}&filter=unassigned&q=close"
    html = admin.get(page).data.decode()
    action = f"/admin/conversations/{conversation.id}/status?filter=unassigned&amp;q=close"
    assert f'action="{action}"' in html  # the form carries the view
    response = admin_post(
        admin, page, action.replace("&amp;", "&"), {"status": Conversation.CLOSED}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == page
    assert Conversation.get_by_id(conversation.id).status == Conversation.CLOSED
