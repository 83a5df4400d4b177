"""Live updates over Server-Sent Events: replay after Last-Event-ID, heartbeats, no duplicates."""

import datetime
import secrets

import pytest
from helpers import send_message, set_auth_type, sign_in, start_chat, visitor_headers

from db import utcnow
from events import Broker, broker, format_event
from models import Agent, AuthType, Conversation, Message


def first_events(response):
    """The stream's first chunk, the retry hint and what it replays; then close the stream."""
    first = next(iter(response.response))
    response.close()
    return first if isinstance(first, str) else first.decode()


def test_widget_stream_replays_what_came_after_last_event_id(client, widget, db):
    set_auth_type(widget, AuthType.NONE)
    token = secrets.token_hex(24)
    conversation = start_chat(client, widget, token)
    replies = [conversation.add_message(f"reply {n}", Message.FROM_AGENT) for n in range(3)]

    response = client.get(
        f"/widget/{widget.key}/stream",
        headers={**visitor_headers(token), "Last-Event-ID": str(replies[0].id)},
        buffered=False,
    )
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    assert response.headers["X-Accel-Buffering"] == "no"
    replay = first_events(response)
    assert replay.startswith("retry:")
    assert "reply 0" not in replay
    assert replay.index("reply 1") < replay.index("reply 2")
    assert f"id: {replies[1].id}\n" in replay and f"id: {replies[2].id}\n" in replay
    assert "Hello" not in replay  # the client's own messages come back from their POST


def test_widget_stream_starts_after_the_query_position(client, widget, db):
    token = secrets.token_hex(24)
    conversation = start_chat(client, widget, token)
    old = conversation.add_message("old reply", Message.FROM_AGENT)
    conversation.add_message("new reply", Message.FROM_AGENT)
    response = client.get(
        f"/widget/{widget.key}/stream?after={old.id}",
        headers=visitor_headers(token),
        buffered=False,
    )
    replay = first_events(response)
    assert "new reply" in replay and "old reply" not in replay


def test_widget_stream_of_another_visitor_sees_nothing(client, widget, db):
    conversation = start_chat(client, widget, secrets.token_hex(24))
    conversation.add_message("private reply", Message.FROM_AGENT)
    stranger = secrets.token_hex(24)
    start_chat(client, widget, stranger, body="I am someone else")
    response = client.get(
        f"/widget/{widget.key}/stream?after=0", headers=visitor_headers(stranger), buffered=False
    )
    replay = first_events(response)
    assert "private reply" not in replay


def test_stream_needs_a_client_who_may_chat(client, widget):
    response = client.get(f"/widget/{widget.key}/stream", headers=visitor_headers())
    assert response.status_code == 403


def test_closing_is_streamed_with_the_closed_notice(client, widget, db):
    token = secrets.token_hex(24)
    conversation = start_chat(client, widget, token)
    last = Message.select().order_by(Message.id.desc()).get()
    conversation.set_status(Conversation.CLOSED, agent=None)
    response = client.get(
        f"/widget/{widget.key}/stream?after={last.id}",
        headers=visitor_headers(token),
        buffered=False,
    )
    replay = first_events(response)
    assert "This conversation was closed." in replay
    assert "Start a new conversation" in replay


def test_broker_wakes_a_waiting_stream_only_for_its_topics():
    broker = Broker(local=True)
    with broker.subscribe(["client:1"]) as subscription:
        broker.publish("client:2")
        assert not subscription.wait(timeout=0.01)
        broker.publish("client:1")
        assert subscription.wait(timeout=0.01)
        assert not subscription.wait(timeout=0.01)  # one wake-up per publish
    broker.publish("client:1")  # after closing, nothing holds the subscription
    assert not broker._waiting


def test_event_format_splits_lines():
    assert format_event("a\nb", event_id=7) == "id: 7\ndata: a\ndata: b\n\n"
    assert format_event("3", event="unread") == "event: unread\ndata: 3\n\n"


# --- odd stream positions and ended agents ----------------------------------------------------


@pytest.mark.parametrize(
    "path, headers, status",
    [
        ("/stream?after=%C2%B2", {}, 200),
        ("/stream", {"Last-Event-ID": "²".encode().decode("latin-1")}, 200),  # UTF-8 on the wire
        ("/stream", {"Last-Event-ID": "²"}, 400),  # a Latin-1 byte: not UTF-8, refused
        ("/stream?after=99999999999999999999999", {}, 200),
    ],
)
def test_odd_stream_positions_are_not_a_500(client, widget, path, headers, status):
    token = secrets.token_hex(24)
    send_message(client, widget, token)
    response = client.get(
        f"/widget/{widget.key}{path}",
        headers={**visitor_headers(token), **headers},
        buffered=False,
    )
    assert response.status_code == status
    response.close()


def test_a_deactivated_agent_stream_ends(app, client, db, agent_without_admin_rights):
    agent_client = app.test_client()
    sign_in(agent_client, "agent@example.com", "agent-password-1")
    response = agent_client.get("/admin/live", buffered=False)
    chunks = iter(response.response)
    assert b"inbox-changed" in next(chunks)
    Agent.update(active=False).where(Agent.id == agent_without_admin_rights.id).execute()
    broker.publish("inbox")
    assert list(chunks) == [b"event: end\ndata: \n\n"]  # over: the page does not reconnect
    response.close()


def test_an_agent_with_the_admin_open_is_online_until_their_heartbeats_stop(
    app, db, agent_without_admin_rights
):
    assert not Agent.anyone_online()
    agent_client = app.test_client()
    sign_in(agent_client, "agent@example.com", "agent-password-1")
    response = agent_client.get("/admin/live", buffered=False)
    next(iter(response.response))
    response.close()
    assert [agent.email for agent in Agent.online()] == ["agent@example.com"]

    silent_since = Agent.ONLINE_WINDOW + datetime.timedelta(seconds=1)
    Agent.update(last_seen_at=utcnow() - silent_since).execute()
    assert not Agent.anyone_online()  # the page closed: no heartbeat refreshed it

    Agent.update(last_seen_at=utcnow()).execute()
    Agent.update(active=False).execute()
    assert not Agent.anyone_online()  # a deactivated agent is never online
