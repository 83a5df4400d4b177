"""The typing indicator: each side's word reaches the other over its live stream, at most once
every few seconds, and an old word is not shown."""

import datetime
import secrets

from helpers import admin_post, start_chat, visitor_headers

from events import Broker
from models import Conversation


def first_events(response):
    """The stream's first chunk (what it replays), then close it."""
    first = next(iter(response.response))
    response.close()
    return first if isinstance(first, str) else first.decode()


def visitor_types(client, widget, token):
    return client.post(f"/widget/{widget.key}/typing", headers=visitor_headers(token))


def agent_types(admin, conversation):
    page = f"/admin/conversations/{conversation.id}"
    return admin_post(admin, page, f"{page}/typing", headers={"HX-Request": "true"})


def admin_stream(admin, conversation):
    return admin.get(f"/admin/live?conversation={conversation.id}", buffered=False)


def widget_stream(client, widget, token):
    return client.get(
        f"/widget/{widget.key}/stream", headers=visitor_headers(token), buffered=False
    )


def reload(conversation):
    return Conversation.get_by_id(conversation.id)


def test_the_visitor_typing_reaches_the_agents_conversation_page(admin, client, widget, db):
    token = secrets.token_hex(24)
    conversation = start_chat(client, widget, token)
    assert "Visitor is typing" not in first_events(admin_stream(admin, conversation))
    assert visitor_types(client, widget, token).status_code == 204
    events = first_events(admin_stream(admin, conversation))
    assert '<hx-partial hx-target="#typing-indicator"' in events
    assert "Visitor is typing…" in events
    page = admin.get(f"/admin/conversations/{conversation.id}").data.decode()
    assert 'id="typing-indicator"' in page and "Visitor is typing" not in page


def test_an_agent_typing_reaches_the_visitors_widget(admin, client, widget, db):
    token = secrets.token_hex(24)
    conversation = start_chat(client, widget, token)
    assert "Agent is typing" not in first_events(widget_stream(client, widget, token))
    assert agent_types(admin, conversation).status_code == 204
    events = first_events(widget_stream(client, widget, token))
    assert '<hx-partial hx-target="#fd-typing"' in events and "Agent is typing…" in events
    typing_event = events.split("Agent is typing…")[0].rsplit("\n\n", 1)[-1]
    assert "id:" not in typing_event  # a reconnect resumes from the messages, not from it
    # Another visitor's widget hears nothing of it.
    stranger = secrets.token_hex(24)
    start_chat(client, widget, stranger, body="someone else")
    assert "Agent is typing" not in first_events(widget_stream(client, widget, stranger))


def test_typing_is_throttled_and_wakes_only_its_conversation(client, widget, db, monkeypatch):
    token = secrets.token_hex(24)
    conversation = start_chat(client, widget, token)
    local = Broker(local=True)
    monkeypatch.setattr("widget.typing.broker", local)
    own = local.subscribe([f"conversation:{conversation.id}"])
    inbox = local.subscribe(["inbox"])

    visitor_types(client, widget, token)
    first = reload(conversation).client_typing_at
    assert first is not None and own.wait(0) is True
    for _ in range(5):  # a fast typist: the server takes one word per few seconds
        assert visitor_types(client, widget, token).status_code == 204
    assert reload(conversation).client_typing_at == first
    assert own.wait(0) is False and inbox.wait(0) is False

    earlier = first - Conversation.TYPING_EVERY
    Conversation.update(client_typing_at=earlier).where(
        Conversation.id == conversation.id
    ).execute()
    visitor_types(client, widget, token)
    assert reload(conversation).client_typing_at > earlier and own.wait(0) is True


def test_an_old_word_is_not_shown(admin, client, widget, db):
    token = secrets.token_hex(24)
    conversation = start_chat(client, widget, token)
    stale = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) - datetime.timedelta(
        seconds=30
    )
    Conversation.update(client_typing_at=stale, agent_typing_at=stale).where(
        Conversation.id == conversation.id
    ).execute()
    assert "Visitor is typing" not in first_events(admin_stream(admin, conversation))
    assert "Agent is typing" not in first_events(widget_stream(client, widget, token))


def test_nobody_is_told_about_a_closed_conversation_or_a_stranger(admin, client, widget, db):
    token = secrets.token_hex(24)
    conversation = start_chat(client, widget, token)
    conversation.set_status(Conversation.CLOSED, agent=None)
    assert visitor_types(client, widget, token).status_code == 204
    assert agent_types(admin, conversation).status_code == 204
    closed = reload(conversation)
    assert closed.client_typing_at is None and closed.agent_typing_at is None
    assert visitor_types(client, widget, secrets.token_hex(24)).status_code == 204
    assert client.post(f"/widget/{widget.key}/typing").status_code == 400  # no token
