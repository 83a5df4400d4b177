"""The live stream every admin page holds open: the inbox's rows, the open conversation."""

import datetime

from flask import render_template, request
from flask_login import current_user, login_required
from peewee import fn

from admin import bp
from admin.notify import VisitorAlerts
from admin.typing import client_typing_event
from admin.workspace import FILTERS, STATUSES, InboxView
from db import utcnow
from events import event_stream, format_event, last_event_id
from inputs import row_id
from models import Agent, Conversation, Message, Rating

# How far back (in message ids) each live round looks again for messages that committed after a
# higher id was seen (PostgreSQL hands out ids before commit), and how far back (in time) for
# ratings and assignments.
LOOKBACK_IDS = 100
RECENT_LOOKBACK = datetime.timedelta(seconds=10)
STREAMS_PER_AGENT = 6  # an agent's open admin pages: the newest stream ends the oldest


@bp.get("/live")
@login_required
def live():
    """One stream per admin page: inbox changes, and the open conversation's new messages.

    ``?conversation=`` names the open conversation: its messages by others come as unnamed
    events (id = message id, replayed after ``Last-Event-ID``) that the page appends to its
    thread. ``?inbox=open|closed`` (and ``&filter=mine|unassigned``) names the list the page
    shows: the rows of the conversations that changed come as ``<hx-partial>``s that move each
    to the top of the list (or take it out of a list it left), in an event whose id is the
    newest message id seen. A page with both gets both; a round's message events never pass
    its rows' id, so ``Last-Event-ID`` resumes both. Named ``inbox-changed`` events carry the
    number of conversations with unread messages, every round; ``visitor-message`` events
    announce each new visitor message (``admin.notify``).
    """
    agent_id = current_user.id
    viewed = None
    if row_id(request.args.get("conversation")):
        viewed = Conversation.get_or_none(Conversation.id == row_id(request.args["conversation"]))
    status = request.args.get("inbox")
    assigned = request.args.get("filter")
    after = last_event_id(request)
    inbox_rows = None
    if status in STATUSES:
        assigned = assigned if assigned in FILTERS.values() else Conversation.EVERYONE
        inbox_rows = InboxRows(status, after, assigned, viewed.id if viewed else None)
    shown = after  # the newest message of the viewed conversation shown
    alerts = VisitorAlerts()
    typing_seen = None

    def read_new():
        """This round's events: the viewed conversation's new messages, the inbox rows that
        changed, then the unread count."""
        nonlocal shown, typing_seen
        agent = Agent.get_or_none(Agent.id == agent_id)
        if agent is None or not agent.active:
            return None  # deactivated or removed: the stream ends with their access
        events = []
        upto = inbox_rows.scan() if inbox_rows is not None else None
        if viewed is not None:
            typing, typing_seen = client_typing_event(viewed, typing_seen)
            events.append(typing)
            messages = list(viewed.messages_for_agent_after(agent, shown, upto))
            for message in messages:
                html = render_template("admin/_message.html", message=message, conversation=viewed)
                events.append(format_event(html, event_id=message.id))
            if messages:
                shown = messages[-1].id
                viewed.mark_read(agent, shown)
        if inbox_rows is not None:
            events.append(inbox_rows.render(agent))
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
    goes to the top of its list, or out of a list it left. A new rating or assignment redraws
    the row in place (or takes it out of a list it left).
    Messages are found by id past the last one seen, looking ``LOOKBACK_IDS`` further back for
    one that committed late; ratings by time.
    """

    def __init__(self, tab, after, assigned=Conversation.EVERYONE, open_id=None):
        self.view = InboxView(status=tab, assigned=assigned, conversation=open_id)
        self.after = after
        self.seen = None  # {conversation id: newest message id} in the look-back window
        self.ratings = RecentChanges(Rating.conversation, Rating.updated_at)
        self.assignments = RecentChanges(Conversation.id, Conversation.assigned_at)
        self.moved = set()
        self.redrawn = set()

    def read(self, agent):
        """The rows that changed since the last read, as one event ("" when none did)."""
        self.scan()
        return self.render(agent)

    def scan(self):
        """Find the conversations that changed; returns the newest message id seen."""
        window = dict(
            Message.select(Message.conversation, fn.MAX(Message.id))
            .where(Message.id > max(0, self.after - LOOKBACK_IDS))
            .group_by(Message.conversation)
            .tuples()
        )
        if self.seen is None:  # this connection's first round: the page showed the rest
            self.moved = {cid for cid, newest in window.items() if newest > self.after}
        else:
            self.moved = {cid for cid, newest in window.items() if newest > self.seen.get(cid, 0)}
        self.seen = window
        self.after = max([self.after, *window.values()])
        self.redrawn = self.ratings.changed() | self.assignments.changed()
        return self.after

    def render(self, agent):
        """The last scan's changes as ``<hx-partial>``s: the changed rows that belong in this
        list (read with its filter), the moved ones out of their old place first."""
        changed = self.moved | self.redrawn
        if not changed:
            return ""
        rows = (
            Conversation.inbox(agent, self.view.status, self.view.assigned)
            .where(Conversation.id.in_(sorted(changed)))
            .order_by(Conversation.last_message_at, Conversation.id)  # the newest goes on top
        )
        rows = list(rows)
        # A redrawn row that no longer belongs (assigned away from "mine") leaves the list.
        gone = changed - {row.id for row in rows}
        html = render_template(
            "admin/_inbox_changes.html",
            rows=rows,
            gone=sorted(gone),
            moved=self.moved,
            view=self.view,
        )
        return format_event(html, event_id=self.after)


class RecentChanges:
    """The conversations whose ``changed_at`` (a time column, keyed by ``conversation``) moved
    since the last look: ratings given or changed, assignments. Looks ``RECENT_LOOKBACK``
    further back each time for a change that committed late; the first look finds nothing
    (the page showed the rest)."""

    def __init__(self, conversation, changed_at):
        self.conversation = conversation
        self.changed_at = changed_at
        self.since = None
        self.seen = {}

    def changed(self):
        now = utcnow()
        found = set()
        if self.since is not None:
            recent = self.changed_at.model.select(self.conversation, self.changed_at).where(
                self.changed_at > self.since
            )
            for cid, at in recent.tuples():
                if self.seen.get(cid) != at:
                    found.add(cid)
                self.seen[cid] = at
        self.since = now - RECENT_LOOKBACK
        self.seen = {cid: at for cid, at in self.seen.items() if at > self.since}
        return found
