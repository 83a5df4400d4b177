"""Replies the visitor has not seen: the iframe asks for their count and the newest one's first
words, which it hands to the host page's launcher while the chat is closed, and marks them read
once the open chat has shown them."""

from flask import jsonify

from widget import bp
from widget.visitor import current_visitor


def unread_json(visitor):
    """``{chatting, unread, preview}``: whether the visitor has a conversation, how many agent
    replies they have not seen, and the newest one's first words (plain text)."""
    client = visitor.client
    if client is None or not visitor.widget.admits(client):
        return jsonify(chatting=False, unread=0, preview="")
    unread, preview = client.unread_notice()
    chatting = unread > 0 or client.latest_conversation() is not None
    return jsonify(chatting=chatting, unread=unread, preview=preview)


@bp.get("/widget/<key>/unread")
def unread():
    """The visitor's unread replies, for the launcher of the host page."""
    return unread_json(current_visitor())


@bp.post("/widget/<key>/unread")
def mark_read():
    """The open chat showed the visitor every reply: none is unread any more."""
    visitor = current_visitor()
    if visitor.client is not None:
        visitor.client.mark_replies_read()
    return unread_json(visitor)
