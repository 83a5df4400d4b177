"""The inbox, and the live stream every admin page holds open."""

import re

from flask import render_template, request
from flask_login import current_user, login_required

import admin
from admin import bp, page_or_partial
from events import event_stream, format_event, last_event_id
from models import Agent, Conversation

INBOX_TABS = {"open": Conversation.OPEN, "closed": Conversation.CLOSED}
STREAMS_PER_AGENT = 6  # an agent's open admin pages: the newest stream ends the oldest


def inbox_status():
    """The inbox tab named in the URL (``?status=closed``), open by default."""
    return INBOX_TABS.get(request.args.get("status"), Conversation.OPEN)


@bp.get("/")
@login_required
def inbox():
    """Open (or closed) conversations, the latest activity first, with unread counts."""
    status = inbox_status()
    size = admin.INBOX_SIZE
    conversations = list(Conversation.inbox(current_user, status).limit(size + 1))
    return page_or_partial(
        "admin/inbox.html",
        "admin/_inbox_list.html",
        conversations=conversations[:size],
        more=len(conversations) > size,
        status=status,
    )


@bp.get("/live")
@login_required
def live():
    """One stream per admin page: inbox changes, and the open conversation's new messages.

    Unnamed events are messages by others (id = message id, replayed after ``Last-Event-ID``);
    named ``inbox-changed`` events carry the number of conversations with unread messages.
    """
    agent_id = current_user.id
    viewed = None
    if re.fullmatch(r"[0-9]{1,18}", request.args.get("conversation", "")):
        viewed = Conversation.get_or_none(Conversation.id == int(request.args["conversation"]))
    after = last_event_id(request)

    def read_new():
        """This round's events: the viewed conversation's new messages, then the unread count."""
        nonlocal after
        agent = Agent.get_or_none(Agent.id == agent_id)
        if agent is None or not agent.active:
            return None  # deactivated or removed: the stream ends with their access
        events = []
        if viewed is not None:
            messages = list(viewed.messages_for_agent_after(agent, after))
            for message in messages:
                html = render_template("admin/_message.html", message=message, conversation=viewed)
                events.append(format_event(html, event_id=message.id))
            if messages:
                after = messages[-1].id
                viewed.mark_read(agent, after)
        # Inbox events carry no id to resume from, so every round (the first of each connection
        # too) says "look again": a reconnect catches up on what changed while it was away.
        unread = Conversation.unread_count(agent)
        events.append(format_event(str(unread), event="inbox-changed"))
        return "".join(events)

    topics = ("inbox", f"conversation:{viewed.id}") if viewed else ("inbox",)
    return event_stream(topics, read_new, holder=(f"agent:{agent_id}", STREAMS_PER_AGENT))
