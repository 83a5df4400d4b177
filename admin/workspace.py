"""The workspace: the inbox and the open conversation side by side, with filters, search and
assignment. Everything it shows is said by the URL (``InboxView``), so a reload or a shared link
restores it: ``/admin/?conversation=42&filter=mine&status=open`` (or ``&q=refund``).
"""

from dataclasses import dataclass, replace
from urllib.parse import parse_qsl, urlsplit

from flask import render_template, request, url_for
from flask_login import current_user, login_required
from peewee import fn
from playhouse.flask_utils import get_object_or_404
from werkzeug.datastructures import MultiDict

import admin
from admin import bp, page_or_partial
from admin.canned import canned_replies_for
from events import broker
from forms import ReplyForm
from inputs import row_id
from models import Agent, Conversation, Message

STATUSES = (Conversation.OPEN, Conversation.CLOSED)
FILTERS = {
    "All": Conversation.EVERYONE,
    "Mine": Conversation.MINE,
    "Unassigned": Conversation.UNASSIGNED,
}
SEARCH_MAX_LENGTH = 200
VIEW_ARGS = {"conversation", "filter", "status", "q"}


@dataclass(frozen=True)
class InboxView:
    """What the workspace shows: a status tab, whose conversations, a search, the open one."""

    status: str = Conversation.OPEN
    assigned: str = Conversation.EVERYONE
    query: str = ""
    conversation: int | None = None

    @classmethod
    def from_args(cls, args):
        """The view a query string names; anything unknown or malformed gets the default."""
        status = args.get("status")
        assigned = args.get("filter")
        return cls(
            status=status if status in STATUSES else Conversation.OPEN,
            assigned=assigned if assigned in FILTERS.values() else Conversation.EVERYONE,
            query=args.get("q", "").strip()[:SEARCH_MAX_LENGTH],
            conversation=row_id(args.get("conversation")),
        )

    def args(self, **changes):
        """The query-string arguments of this view (defaults left out), with ``changes``."""
        view = replace(self, **changes)
        named = {
            "conversation": view.conversation,
            "filter": None if view.assigned == Conversation.EVERYONE else view.assigned,
            "status": None if view.status == Conversation.OPEN else view.status,
            "q": view.query or None,
        }
        return {name: value for name, value in named.items() if value is not None}

    def with_conversation(self, conversation_id):
        return replace(self, conversation=conversation_id)

    def url(self, **changes):
        """The workspace URL of this view with ``changes`` (e.g. ``conversation=42``)."""
        return url_for("admin.inbox", **self.args(**changes))

    def stream_args(self, newest):
        """The live stream's query: the list's rows (not for search results), the open
        conversation's messages, both from message ``newest`` on."""
        named = {
            "inbox": None if self.query else self.status,
            "filter": None
            if self.query or self.assigned == Conversation.EVERYONE
            else self.assigned,
            "conversation": self.conversation,
            "after": newest,
        }
        return {name: value for name, value in named.items() if value is not None}

    @property
    def stream_key(self):
        """Names the live stream this view needs; a view needing another stream gets a new
        element (and the old one's stream ends as it leaves the page)."""
        searching = "search" if self.query else "list"
        return f"live-{self.status}-{self.assigned}-{searching}-{self.conversation or 0}"


def current_view():
    """The view the request names; a form posted from the workspace without one (the reply
    box) gets the page's, from the address htmx sends along (``HX-Current-URL``)."""
    args = request.args
    page = request.headers.get("HX-Current-URL")
    if request.method == "POST" and page and not VIEW_ARGS & set(args):
        args = MultiDict(parse_qsl(urlsplit(page).query))
    return InboxView.from_args(args)


@bp.get("/")
@login_required
def inbox():
    """The inbox (filtered, or search results) and, beside it, the conversation the URL names."""
    view = current_view()
    opened = None
    if view.conversation is not None:
        opened = get_object_or_404(Conversation, Conversation.id == view.conversation)
    return render_workspace(view, opened)


def render_workspace(view, opened=None):
    """The workspace page (or, for htmx, the ``#workspace`` partial) for ``view``."""
    # Read first: a message stored while the list is read comes again over the live stream.
    newest = Message.select(fn.MAX(Message.id)).scalar() or 0
    pane = conversation_pane(opened) if opened else {}
    size = admin.INBOX_SIZE
    if view.query:
        rows = Conversation.search(current_user, view.query)
    else:
        rows = list(Conversation.inbox(current_user, view.status, view.assigned).limit(size + 1))
    return page_or_partial(
        "admin/inbox.html",
        "admin/_workspace.html",
        **pane,
        view=view,
        filters=FILTERS,
        conversations=rows[:size],
        more=len(rows) > size,
        newest=newest,
    )


CLOSED_QUESTION = "This conversation is closed. Reopen and send?"


def reply_box(conversation, form, mode="reply"):
    """What ``_reply.html`` needs: the form, its mode, the canned replies filled in, and the
    assignee select (the header's, which a reply may change)."""
    return {
        **assignee_context(conversation),
        "form": form,
        "mode": mode,
        "canned": canned_replies_for(conversation),
        "closed_question": CLOSED_QUESTION,
    }


def conversation_pane(found):
    """What the open conversation's pane shows (the messages, the client, the assignee select,
    a reply box); the agent has now read it."""
    messages = list(found.messages_in_order())
    found.mark_read(current_user.id)
    broker.publish("inbox")  # other tabs of this agent update their unread counts
    return {
        **reply_box(found, ReplyForm()),
        "client": found.client,
        "messages": messages,
    }


def assignee_context(found):
    """What the assignee select in a conversation's header needs (and a ``view``)."""
    return {"conversation": found, "agents": list(Agent.assignable())}


@bp.post("/conversations/<id:conversation_id>/assignee")
@login_required
def assign(conversation_id):
    """Give the conversation to an agent of the team, or to nobody; its inbox row follows."""
    found = get_object_or_404(Conversation, Conversation.id == conversation_id)
    view = current_view()
    chosen = request.form.get("assignee", "")
    agent = None
    if chosen:
        agent = Agent.assignable().where(Agent.id == (row_id(chosen) or 0)).first()
        if agent is None:
            return render_template(
                "admin/_assigned.html",
                error="Choose an agent of the team.",
                view=view,
                **assignee_context(found),
            ), 422
    found.assign(agent)
    broker.publish("inbox")  # the other agents' lists redraw its row
    row = Conversation.inbox(current_user, view.status, view.assigned).where(
        Conversation.id == found.id
    )
    return render_template(
        "admin/_assigned.html",
        row=None if view.query else row.first(),
        saved=True,
        view=view,
        **assignee_context(found),
    )
