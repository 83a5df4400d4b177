"""The visitor-facing blueprint: the loader script, the iframe and the partials it swaps.

The iframe runs on Frontdesk's origin inside a stranger's page, where its cookies are third-party
and often dropped. So a visitor is recognised by a random token that the iframe keeps in its
localStorage and sends as the ``X-Frontdesk-Token`` header on every request; nothing here reads a
cookie, which is also why these routes need no CSRF token.

This module holds the blueprint and what every widget request shares: the throttle, and how a
refusal is shown inside the iframe. Who is asking is resolved once per request (``visitor``); the
views are in ``chat`` (the chat itself), ``tools`` (transcript and rating) and ``notice`` (replies
the visitor has not seen).
"""

from flask import Blueprint, g, make_response, render_template, request
from werkzeug.exceptions import HTTPException

from labels import SOURCE_LANGUAGE, Labels, resolve_language
from throttle import allow

bp = Blueprint("widget", __name__)

TOKEN_HEADER = "X-Frontdesk-Token"
LANGUAGE_HEADER = "X-Frontdesk-Language"
WIDGET_REQUEST_MAX_BYTES = 64 * 1024


class WidgetProblem(Exception):
    """A request the widget refuses: shown inside the iframe as a notice, with a 4xx status.

    The notice is in the widget's language, unless ``in_widget_language`` is False (then in the
    visitor's browser language, as for requests refused before the widget counts).
    """

    reason = None  # for the site's developer: see IdentityRefused

    def __init__(self, status, label_key, in_widget_language=True):
        super().__init__(label_key)
        self.status = status
        self.label_key = label_key
        self.in_widget_language = in_widget_language


def labels_for(widget):
    """The texts this request's visitor reads: the language the host page asked for
    (``frontdeskSettings.language``), else their browser's when the widget follows it, else the
    widget's own; with the widget's overrides."""
    requested = request.headers.get(LANGUAGE_HEADER) or request.args.get("lang")
    accept = request.accept_languages.values()
    if widget is None:
        return Labels(resolve_language(SOURCE_LANGUAGE, True, requested, accept))
    return widget.labels(requested, accept)


@bp.errorhandler(WidgetProblem)
def show_problem(problem):
    """Render a refused request as a notice in the widget's language."""
    current = g.get("visitor")
    if current is not None and problem.in_widget_language:
        labels = current.labels
    else:
        labels = labels_for(None)
    body = render_template("widget/_notice.html", labels=labels, message_key=problem.label_key)
    response = make_response(body, problem.status)
    if problem.reason:
        response.headers["X-Frontdesk-Identity-Error"] = problem.reason
    return response


@bp.before_request
def throttle_writes():
    """Strangers cannot flood the inbox: widget writes and new visitors per address are limited.

    Behind a proxy, run with Werkzeug's ProxyFix so that the address is the visitor's. The
    visitor's token row looked up here is the one the view uses.
    """
    if request.method != "POST":
        return
    if (request.content_length or 0) > WIDGET_REQUEST_MAX_BYTES:
        raise WidgetProblem(413, "error.generic", in_widget_language=False)
    address = request.remote_addr or "unknown"
    if not allow("widget-write", address, "WIDGET_WRITES_PER_MINUTE", 60):
        raise WidgetProblem(429, "error.too_many")
    current = g.visitor
    if (
        current.widget is not None
        and current.has_token
        and current.row is None
        and not allow("new-client", address, "NEW_CLIENTS_PER_HOUR", 3600)
    ):
        raise WidgetProblem(429, "error.too_many")


@bp.errorhandler(HTTPException)
def show_http_error(error):
    """Any other refusal (too large, wrong method, a crash) as a notice the visitor can read."""
    key = "error.widget_not_found" if error.code == 404 else "error.generic"
    return show_problem(WidgetProblem(error.code, key))


# Public, the same for every visitor: the loader and its settings set their own caching.
SHARED_RESPONSES = frozenset({"widget.embed_script", "widget.loader_settings"})


@bp.after_request
def private_headers(response):
    """Widget pages never tell other sites where the visitor was, and what a visitor's token
    gets (their chat, their stream, a notice about them) is kept by no browser cache or proxy.

    (They may be framed, by any site or by the allowed domains: see ``chat.frame``.)"""
    response.headers["Referrer-Policy"] = "no-referrer"
    if request.endpoint not in SHARED_RESPONSES:
        response.headers["Cache-Control"] = "private, no-store"
    return response


# The visitor's lookup and the views register themselves on ``bp``, importing the names above.
from widget import chat, notice, reach, tools, typing, visitor  # noqa: E402, F401
