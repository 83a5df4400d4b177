"""The typing indicator, the agent's side: "Visitor is typing…" on the conversation page, and
the agent's own typing told to the visitor's widget. See ``widget.typing`` for the other side."""

from flask import render_template
from flask_login import login_required
from playhouse.flask_utils import get_object_or_404

from admin import bp
from events import broker, format_event
from models import Conversation


@bp.post("/conversations/<id:conversation_id>/typing")
@login_required
def typing(conversation_id):
    """The agent is typing a reply: the visitor's widget shows it (204)."""
    found = get_object_or_404(Conversation, Conversation.id == conversation_id)
    if found.is_open and found.note_typing("agent"):
        broker.publish(f"client:{found.client_id}")
    return "", 204


def client_typing_event(conversation, seen):
    """An SSE event that shows "Visitor is typing…", and when the visitor said so; ("",
    ``seen``) when there is nothing new. Without an id: a reconnect resumes from messages."""
    at = conversation.client_typing_since(seen)
    if at is None:
        return "", seen
    indicator = render_template("admin/_typing.html", conversation=conversation, typing=True)
    html = f'<hx-partial hx-target="#typing-indicator" hx-swap="outerHTML">{indicator}</hx-partial>'
    return format_event(html), at
