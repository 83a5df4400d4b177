"""The inbox, and the live stream every admin page holds open."""

import datetime
import re

from flask import render_template, request
from flask_login import current_user, login_required
from peewee import fn

import admin
from admin import bp, page_or_partial
from admin.notify import VisitorAlerts
from admin.typing import client_typing_event
from db import utcnow
from events import event_stream, format_event, last_event_id
from models import Agent, Conversation, Message, Rating

INBOX_TABS = {"open": Conversation.OPEN, "closed": Conversation.CLOSED}
# How far back (in message ids) each live round looks again for messages that committed after a
# higher id was seen (PostgreSQL hands out ids before commit), and how far back (in time) for
# ratings.
LOOKBACK_IDS = 100
RATING_LOOKBACK = datetime.timedelta(seconds=10)
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
    # Read first: a message stored while the list is read comes again over the live stream.
    newest = Message.select(fn.MAX(Message.id)).scalar() or 0
    conversations = list(Conversation.inbox(current_user, status).limit(size + 1))
    return page_or_partial(
        "admin/inbox.html",
        "admin/_inbox_list.html",
        conversations=conversations[:size],
        more=len(conversations) > size,
        status=status,
        newest=newest,
    )


@bp.get("/live")
@login_required
def live():
    """One stream per admin page: inbox changes, and the open conversation's new messages.

    Unnamed events are either messages by others (``?conversation=``: id = message id, replayed
    after ``Last-Event-ID``) or, for the inbox (``?inbox=open|closed``), the rows of the
    conversations that changed, as ``<hx-partial>``s that move each to the top of its tab (or
    take it out of a tab it left); their id is the newest message id seen, so a reconnect
    replays what changed meanwhile. Named ``inbox-changed`` events carry the number of
    conversations with unread messages, every round; ``visitor-message`` events announce each
    new visitor message (``admin.notify``).
    """
    agent_id = current_user.id
    viewed = None
    if re.fullmatch(r"[0-9]{1,18}", request.args.get("conversation", "")):
        viewed = Conversation.get_or_none(Conversation.id == int(request.args["conversation"]))
    tab = INBOX_TABS.get(request.args.get("inbox")) if viewed is None else None
    after = last_event_id(request)
    inbox_rows = InboxRows(tab, after) if tab else None
    alerts = VisitorAlerts()
    typing_seen = None

    def read_new():
        """This round's events: the viewed conversation's new messages or the inbox rows that
        changed, then the unread count."""
        nonlocal after, typing_seen
        agent = Agent.get_or_none(Agent.id == agent_id)
        if agent is None or not agent.active:
            return None  # deactivated or removed: the stream ends with their access
        events = []
        if viewed is not None:
            typing, typing_seen = client_typing_event(viewed, typing_seen)
            events.append(typing)
            messages = list(viewed.messages_for_agent_after(agent, after))
            for message in messages:
                html = render_template("admin/_message.html", message=message, conversation=viewed)
                events.append(format_event(html, event_id=message.id))
            if messages:
                after = messages[-1].id
                viewed.mark_read(agent, after)
        elif inbox_rows is not None:
            events.append(inbox_rows.read(agent))
        events.append(alerts.read())  # the page notifies an agent who looks elsewhere
        # The count carries no id to resume from, so every round (the first of each connection
        # too) sends it: a reconnect catches up on what changed while it was away.
        unread = Conversation.unread_count(agent)
        events.append(format_event(str(unread), event="inbox-changed"))
        return "".join(events)

    def still_here():
        """The open page keeps the agent online (``Agent.anyone_online``)."""
        Agent(id=agent_id).mark_online()

    topics = ("inbox", f"conversation:{viewed.id}") if viewed else ("inbox",)
    return event_stream(
        topics,
        read_new,
        holder=(f"agent:{agent_id}", STREAMS_PER_AGENT),
        on_heartbeat=still_here,
    )


class InboxRows:
    """What an inbox page's stream has shown, and the rows that changed since.

    A conversation changes when it gets a message (a status change is a message too): its row
    goes to the top of its tab, or out of a tab it left. A new rating redraws the row in place.
    Messages are found by id past the last one seen, looking ``LOOKBACK_IDS`` further back for
    one that committed late; ratings by time.
    """

    def __init__(self, tab, after):
        self.tab = tab
        self.after = after
        self.seen = None  # {conversation id: newest message id} in the look-back window
        self.ratings_since = None
        self.ratings_seen = {}

    def read(self, agent):
        window = dict(
            Message.select(Message.conversation, fn.MAX(Message.id))
            .where(Message.id > max(0, self.after - LOOKBACK_IDS))
            .group_by(Message.conversation)
            .tuples()
        )
        if self.seen is None:  # this connection's first round: the page showed the rest
            moved = {cid for cid, newest in window.items() if newest > self.after}
        else:
            moved = {cid for cid, newest in window.items() if newest > self.seen.get(cid, 0)}
        self.seen = window
        self.after = max([self.after, *window.values()])

        now = utcnow()
        redrawn = set()
        if self.ratings_since is not None:
            rated = Rating.select(Rating.conversation, Rating.updated_at).where(
                Rating.updated_at > self.ratings_since
            )
            for cid, updated_at in rated.tuples():
                if self.ratings_seen.get(cid) != updated_at:
                    redrawn.add(cid)
                self.ratings_seen[cid] = updated_at
        self.ratings_since = now - RATING_LOOKBACK
        self.ratings_seen = {
            cid: at for cid, at in self.ratings_seen.items() if at > self.ratings_since
        }

        changed = moved | redrawn
        if not changed:
            return ""
        rows = (
            Conversation.inbox(agent, status=None)
            .where(Conversation.id.in_(sorted(changed)))
            .order_by(Conversation.last_message_at, Conversation.id)  # the newest goes on top
        )
        html = render_template(
            "admin/_inbox_changes.html", rows=list(rows), tab=self.tab, moved=moved
        )
        return format_event(html, event_id=self.after)
