"""The typing indicator, the visitor's side: "I am typing" to the agent, "Agent is typing…" back.

Both go over the live streams that already exist (``events`` topics): the visitor's word wakes the
agent's conversation page, an agent's wakes the visitor's stream. The server takes one word per
side every few seconds (``Conversation.note_typing``); the indicator goes away by itself.
"""

from flask import render_template

from events import broker, format_event
from models import Conversation
from widget import bp
from widget.visitor import current_visitor


@bp.post("/widget/<key>/typing")
def typing():
    """The visitor is typing in their open conversation: tell the agents viewing it (204)."""
    visitor = current_visitor()
    client = visitor.client
    conversation = client.latest_conversation() if client is not None else None
    if (
        conversation is not None
        and conversation.is_open
        and visitor.widget.admits(client)
        and conversation.note_typing("client")
    ):
        broker.publish(f"conversation:{conversation.id}")
    return "", 204


def agent_typing_event(widget, client, labels, seen):
    """An SSE event that shows "Agent is typing…" in the widget, and when the agent said so;
    ("", ``seen``) when there is nothing new to show. The event has no id: a reconnect resumes
    from the last message, and an old typing word is not worth replaying."""
    at = Conversation.agent_typing_since(client, seen)
    if at is None:
        return "", seen
    html = render_template("widget/_typing_event.html", widget=widget, labels=labels, typing=True)
    return format_event(html), at
