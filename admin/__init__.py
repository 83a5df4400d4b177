"""The support team's blueprint: sign-in, conversations, reports, people and the widget's settings.

First-party pages: a cookie session (Flask-Login), CSRF on every form and htmx request, and
never framed by another site. This module makes the blueprint and the helpers its views share,
then imports the view modules, each adding its routes to ``bp``:

- ``auth``: sign in and out (each sign-in a session row on the server)
- ``account``: your sessions, password and notifications; admins end others' sessions
- ``workspace``: the inbox and the open conversation on one screen: filters, search, assignment
- ``inbox``: the live stream of every admin page (the workspace's rows and open conversation)
- ``conversation``: one conversation, replying or noting, closing and reopening, the transcript
- ``reports``: ratings over time and per agent
- ``settings``: Administration > Website widget: the list, General, Install, the identity secret
- ``brand_preview``: the live preview of a widget's looks and office hours (General)
- ``label_editor``: Administration > Website widget > Language
- ``team``: contacts and agents
- ``privacy``: deleting a contact's or a visitor's data on request
- ``canned``: Administration > Website widget > Canned replies, and the reply box's picker
- ``notify``: telling agents of visitors' messages (live stream alerts, the notify-agents mail)
"""

from functools import wraps

from flask import Blueprint, abort, render_template, request
from flask_login import current_user, login_required

from models import Conversation

bp = Blueprint("admin", __name__, url_prefix="/admin")

# The inbox shows the most recent conversations only; older ones are found through Contacts.
# A package-level setting, read as ``admin.INBOX_SIZE`` on each request (tests shrink it).
INBOX_SIZE = 200


@bp.after_request
def no_caching(response):
    """Admin pages hold customers' data: never kept by the browser or a proxy.

    (Framing is refused app-wide, see ``app.common_headers``.)"""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.context_processor
def unread_conversations():
    """The number the page title shows: open conversations with unread client messages."""
    if current_user.is_authenticated:
        return {"unread_total": Conversation.unread_count(current_user)}
    return {"unread_total": 0}


def admin_required(view):
    """Let only agents with admin rights through."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def page_or_partial(page, partial, **context):
    """The whole page, or for an htmx request only the partial it swaps."""
    return render_template(partial if request.headers.get("HX-Request") else page, **context)


# The views come last: each module adds its routes to ``bp`` and uses the helpers above.
from admin import (  # noqa: E402, F401
    account,
    auth,
    brand_preview,
    canned,
    conversation,
    inbox,
    label_editor,
    notify,
    privacy,
    reports,
    settings,
    team,
    typing,
    workspace,
)
