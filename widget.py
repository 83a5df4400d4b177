"""The visitor-facing blueprint: the loader script, the iframe and the partials it swaps.

The iframe runs on Frontdesk's origin inside a stranger's page, where its cookies are third-party
and often dropped. So a visitor is recognised by a random token that the iframe keeps in its
localStorage and sends as the ``X-Frontdesk-Token`` header on every request; nothing here reads a
cookie, which is also why these routes need no CSRF token.
"""

import json
import re
import uuid

from email_validator import EmailNotValidError, validate_email
from flask import (
    Blueprint,
    current_app,
    jsonify,
    make_response,
    render_template,
    request,
    send_from_directory,
)
from werkzeug.exceptions import HTTPException

from events import broker, event_stream, format_event, last_event_id
from forms import ContactForm, MessageForm, RatingForm
from identity import IdentityError, verify_identity_token
from labels import SOURCE_LANGUAGE, Labels, resolve_language
from limits import allow
from mailer import send_transcript
from models import (
    NAME_MAX_LENGTH,
    Client,
    Contact,
    Message,
    Rating,
    TranscriptMail,
    Widget,
    database,
)

bp = Blueprint("widget", __name__)

TOKEN_HEADER = "X-Frontdesk-Token"
PAGE_HEADER = "X-Frontdesk-Page"
LANGUAGE_HEADER = "X-Frontdesk-Language"
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{32,128}")
CUSTOM_DATA_MAX_BYTES = 8192
WIDGET_REQUEST_MAX_BYTES = 64 * 1024
CUSTOM_FIELDS_MAX = 50


class WidgetProblem(Exception):
    """A request the widget refuses: shown inside the iframe as a notice, with a 4xx status."""

    def __init__(self, status, label_key, widget=None):
        super().__init__(label_key)
        self.status = status
        self.label_key = label_key
        self.widget = widget


@bp.errorhandler(WidgetProblem)
def show_problem(problem):
    """Render a refused request as a notice in the widget's language."""
    labels = labels_for(problem.widget)
    body = render_template("widget/_notice.html", labels=labels, message_key=problem.label_key)
    response = make_response(body, problem.status)
    if getattr(problem, "reason", None):
        response.headers["X-Frontdesk-Identity-Error"] = problem.reason
    return response


@bp.before_request
def throttle_writes():
    """Strangers cannot flood the inbox: widget writes and new visitors per address are limited.

    Behind a proxy, run with Werkzeug's ProxyFix so that the address is the visitor's.
    """
    if request.method != "POST":
        return
    if (request.content_length or 0) > WIDGET_REQUEST_MAX_BYTES:
        raise WidgetProblem(413, "error.generic", None)
    address = request.remote_addr or "unknown"
    widget = Widget.by_key((request.view_args or {}).get("key", ""))
    if not allow("widget-write", address, "WIDGET_WRITES_PER_MINUTE", 60):
        raise WidgetProblem(429, "error.too_many", widget)
    token = request.headers.get(TOKEN_HEADER, "")
    if (
        widget is not None
        and TOKEN_PATTERN.fullmatch(token)
        and Client.row_for_token(widget, token) is None
        and not allow("new-client", address, "NEW_CLIENTS_PER_HOUR", 3600)
    ):
        raise WidgetProblem(429, "error.too_many", widget)


@bp.errorhandler(HTTPException)
def show_http_error(error):
    """Any other refusal (too large, wrong method, a crash) as a notice the visitor can read."""
    widget = Widget.by_key(request.view_args.get("key", "")) if request.view_args else None
    key = "error.widget_not_found" if error.code == 404 else "error.generic"
    return show_problem(WidgetProblem(error.code, key, widget))


@bp.after_request
def no_referrer(response):
    """Widget pages never tell other sites where the visitor was.

    (They may be framed, by any site or by the allowed domains: see ``frame``.)"""
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def labels_for(widget):
    """The texts this request's visitor reads: the language the host page asked for
    (``frontdeskSettings.language``), else their browser's when the widget follows it, else the
    widget's own; with the widget's overrides."""
    requested = request.headers.get(LANGUAGE_HEADER) or request.args.get("lang")
    accept = request.accept_languages.values()
    if widget is None:
        return Labels(resolve_language(SOURCE_LANGUAGE, True, requested, accept))
    return widget.labels(requested, accept)


def widget_or_404(key):
    """The widget for ``key``, or a friendly 404 shown inside the iframe."""
    widget = Widget.by_key(key)
    if widget is None:
        raise WidgetProblem(404, "error.widget_not_found")
    return widget


def visitor_token(widget):
    """The token the iframe sent, checked for shape; a 400 notice when it is missing or odd."""
    token = request.headers.get(TOKEN_HEADER, "")
    if not TOKEN_PATTERN.fullmatch(token):
        raise WidgetProblem(400, "error.no_storage", widget)
    return token


def current_client(widget):
    """The client behind this request's token, or None before they first did anything."""
    return Client.by_token(widget, visitor_token(widget))


def render_pane(widget, client, form=None, status=200):
    """The partial the client should see now: sign-in notice, login form or chat."""
    labels = labels_for(widget)
    if widget.admits(client):
        return render_chat(widget, client, labels), status
    if widget.asks_site_user:
        return render_template(
            "widget/_notice.html", labels=labels, message_key="error.sign_in_needed"
        ), (403 if status == 200 else status)
    form = form or ContactForm(labels, formdata=None)
    return render_template("widget/_contact_form.html", widget=widget, form=form, labels=labels), (
        status
    )


def render_chat(widget, client, labels, composer=None, fresh=False):
    """The chat pane: the client's latest conversation (unless ``fresh``) and a composer."""
    conversation = None if fresh or client is None else client.latest_conversation()
    messages = list(conversation.messages_in_order()) if conversation else []
    return render_template(
        "widget/_chat.html",
        widget=widget,
        client=client,
        labels=labels,
        conversation=conversation,
        messages=messages,
        last_id=Message.last_id_for(client),
        composer=composer or new_composer(labels),
    )


def new_composer(labels):
    """An empty message form holding a fresh id for the next message."""
    return MessageForm(labels, formdata=None, data={"client_msg_id": uuid.uuid4().hex})


def refuse_with_pane(widget, client, status=403):
    """Answer a request that does not fit the widget's type with the pane that does fit."""
    body, status = render_pane(widget, client, status=status)
    response = make_response(body, status)
    response.headers["HX-Retarget"] = "#pane"
    response.headers["HX-Reswap"] = "innerHTML"
    return response


@bp.get("/embed.js")
def embed_script():
    """The loader a host page includes with one script tag."""
    response = send_from_directory(current_app.static_folder, "embed.js", max_age=300)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/widget/<key>/settings.json")
def loader_settings(key):
    """What the loader needs before drawing anything: the type and the launcher's texts.

    Public data only. With allowed domains set, only those sites may read it (the loader then
    draws nothing anywhere else); otherwise any site may.
    """
    widget = Widget.by_key(key)
    origin = request.headers.get("Origin", "")
    if widget is None:
        response = jsonify(error="unknown widget key")
        response.status_code = 404
    elif widget.allowed_domain_list and not widget.allows_origin(origin):
        response = jsonify(error="this site may not embed the widget")
        response.status_code = 403
        return response  # no CORS header: the page cannot read even the refusal
    else:
        labels = labels_for(widget)
        response = jsonify(
            auth_type=widget.auth_type,
            needs_site_user=widget.asks_site_user,
            language=labels.code,
            direction=labels.direction,
            launcher_label=labels("launcher.open"),
            close_label=labels("launcher.close"),
        )
    if widget is not None and widget.allowed_domain_list:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
    else:
        response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/widget/<key>")
def frame(key):
    """The page inside the iframe; its pane loads once the visitor token is known."""
    widget = Widget.by_key(key)
    labels = labels_for(widget)
    status = 200 if widget else 404
    response = make_response(
        render_template("widget/frame.html", widget=widget, labels=labels), status
    )
    if widget is not None and widget.allowed_domain_list:
        # The browser itself refuses to draw the chat inside any other site.
        sources = " ".join(widget.allowed_domain_list)
        response.headers["Content-Security-Policy"] = f"frame-ancestors 'self' {sources}"
    return response


@bp.get("/widget/<key>/pane")
def pane(key):
    """The partial that fits the widget's type and the visitor's state."""
    widget = widget_or_404(key)
    client = current_client(widget)
    if client:
        client.seen()
    if request.args.get("fresh") and widget.admits(client):
        return render_chat(widget, client, labels_for(widget), fresh=True)
    return render_pane(widget, client)


@bp.post("/widget/<key>/identify")
def identify(key):
    """Code type: take the user the host page described, verified by a signed token or not.

    With "Require verified identity" on, only a valid ``identity_token`` is accepted. Without it,
    unsigned ``custom_user_data`` is taken but marked unverified, and never tied to a contact or
    to another browser's history.
    """
    widget = widget_or_404(key)
    token = visitor_token(widget)
    if not widget.asks_site_user:
        raise WidgetProblem(409, "error.not_allowed", widget)
    signed = request.form.get("identity_token", "")
    if signed:
        try:
            user = clean_user_data(verify_identity_token(signed, widget), widget)
        except IdentityError as error:
            raise IdentityRefused(error.reason, widget) from error
    elif widget.require_verified_identity:
        raise IdentityRefused("missing", widget)
    else:
        user = parse_custom_user_data(request.form.get("custom_user_data", ""), widget)
    client = Client.by_token(widget, token)
    if client and client.external_id not in (None, user["id"]):
        # This browser's token belongs to another site user: the iframe starts a new token.
        raise WidgetProblem(409, "error.user_data_invalid", widget)
    if client and client.verified and not signed:
        raise IdentityRefused("missing", widget)  # a verified session is not taken over unsigned
    with database.atomic():
        if signed:
            client = Client.identify_verified(widget, token, user)
        else:
            client = client or Client.for_token(widget, token)
            client.external_id = user.pop("id")
            client.describe(user)
            client.save()
    return render_chat(widget, client, labels_for(widget))


class IdentityRefused(WidgetProblem):
    """A code-type visitor whose identity could not be verified: 401, nothing stored.

    The reason goes to the site's developer in a header (the browser console shows it); it never
    contains the token or the secret.
    """

    def __init__(self, reason, widget):
        super().__init__(401, "error.identity_invalid", widget)
        self.reason = reason


@bp.post("/widget/<key>/logout")
def logout(key):
    """The host page's ``Frontdesk('logout')``: this browser's token stops working."""
    widget = widget_or_404(key)
    with database.atomic():
        Client.revoke_token(widget, visitor_token(widget))
    return "", 204


def parse_custom_user_data(raw, widget):
    """The host page's unsigned ``custom_user_data`` (JSON text), checked like any input."""
    if len(raw.encode()) > CUSTOM_DATA_MAX_BYTES:
        raise WidgetProblem(413, "error.user_data_invalid", widget)
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, or nested beyond reason
        data = None
    return clean_user_data(data, widget)


def clean_user_data(data, widget):
    """A site user's fields as a dict of short strings with an ``id``.

    Nothing from a host page is trusted, and even signed claims are bounded: the size, the shape
    and every value are checked.
    """
    if not isinstance(data, dict) or len(data) > CUSTOM_FIELDS_MAX:
        raise WidgetProblem(422, "error.user_data_invalid", widget)
    user = {}
    for field, value in data.items():
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            continue  # nested objects and nulls are dropped, not stored half-understood
        field, value = str(field)[:64], str(value)[:500]
        if "\x00" in field or "\x00" in value:
            continue  # no database stores a NUL character
        user[field] = value
    if not user.get("id", "").strip():
        raise WidgetProblem(422, "error.user_data_invalid", widget)
    user["id"] = user["id"].strip()[:255]
    if "name" in user:
        user["name"] = user["name"].strip()[:NAME_MAX_LENGTH] or None
    if "email" in user:
        user["email"] = single_email_or_none(user["email"])
    return user


def single_email_or_none(text):
    """One valid address, normalised, or None: a site's data never smuggles in a list of
    recipients (or header-breaking characters) for the transcript mail."""
    try:
        return validate_email(text.strip(), check_deliverability=False).normalized
    except EmailNotValidError:
        return None


@bp.post("/widget/<key>/contact")
def submit_contact(key):
    """Form types: save the client as a contact (one per email) and open the chat."""
    widget = widget_or_404(key)
    token = visitor_token(widget)
    if not widget.offers_form:
        raise WidgetProblem(409, "error.not_allowed", widget)
    labels = labels_for(widget)
    form = ContactForm(labels)
    if not form.validate():
        return render_pane(widget, Client.by_token(widget, token), form=form, status=422)
    with database.atomic():
        client = Client.for_token(widget, token)
        client.contact = Contact.upsert(widget, form.name.data, form.email.data)
        client.save()
    return render_chat(widget, client, labels)


@bp.post("/widget/<key>/guest")
def continue_as_guest(key):
    """Optional form type: chat without giving a name or email."""
    widget = widget_or_404(key)
    token = visitor_token(widget)
    if not widget.offers_guest:
        raise WidgetProblem(409, "error.not_allowed", widget)
    with database.atomic():
        client = Client.for_token(widget, token)
        client.is_guest = True
        client.save()
    return render_chat(widget, client, labels_for(widget))


@bp.post("/widget/<key>/messages")
def send_message(key):
    """Store the client's message and answer with it and a fresh composer."""
    widget = widget_or_404(key)
    token = visitor_token(widget)
    client = Client.by_token(widget, token)
    if not widget.admits(client):
        return refuse_with_pane(widget, client)
    labels = labels_for(widget)
    form = MessageForm(labels)
    if not form.validate():
        return render_template(
            "widget/_composer.html", widget=widget, form=form, labels=labels
        ), 422
    first_message = client is None
    with database.atomic():
        client = client or Client.for_token(widget, token)
        conversation = client.open_conversation(host_page_url(), browser_language(), labels.code)
        message = conversation.add_message(
            form.body.data, Message.FROM_CLIENT, client_msg_id=form.client_msg_id.data or None
        )
    broker.publish(*conversation.topics)
    return render_template(
        "widget/_sent.html",
        widget=widget,
        message=message,
        labels=labels,
        composer=new_composer(labels),
        start_stream=first_message,
        last_id=message.id,
    )


def host_page_url():
    """The host page the visitor chats from, as the loader reported it (http(s) only)."""
    url = request.headers.get(PAGE_HEADER, "")
    return url[:1000] if url.startswith(("https://", "http://")) else None


def browser_language():
    """The visitor's preferred language, as their browser states it."""
    preferred = request.accept_languages.values()
    first = next(iter(preferred), None)
    return first[:35] if first else None


@bp.get("/widget/<key>/stream")
def stream(key):
    """Server-Sent Events: agents' replies and status changes in the client's conversations.

    Each event's id is the message id; a reconnect names the last one in ``Last-Event-ID`` and
    gets everything after it, once.
    """
    widget = widget_or_404(key)
    client = current_client(widget)
    if client is None or not widget.admits(client):
        raise WidgetProblem(403, "error.not_allowed", widget)
    labels = labels_for(widget)
    position = {"after": last_event_id(request)}

    def read_new():
        events = []
        for message in Message.for_client_after(client, position["after"]):
            html = render_template(
                "widget/_live_message.html",
                widget=widget,
                message=message,
                labels=labels,
                new_composer=new_composer,
            )
            events.append(format_event(html, event_id=message.id))
            position["after"] = message.id
        return "".join(events)

    return event_stream((f"client:{client.id}",), read_new)


def identified_client_conversation(widget):
    """The conversation a client with a known email may rate or have mailed; else a refusal.

    Anonymous visitors and guests have neither control: 403.
    """
    client = current_client(widget)
    if client is None or not widget.admits(client) or not client.display_email:
        raise WidgetProblem(403, "error.not_allowed", widget)
    conversation = client.latest_conversation()
    if conversation is None:
        raise WidgetProblem(409, "transcript.nothing", widget)
    return conversation


@bp.post("/widget/<key>/transcript")
def email_transcript(key):
    """Send the conversation to the email stored for this client (never one from the request)."""
    widget = widget_or_404(key)
    conversation = identified_client_conversation(widget)
    labels = labels_for(widget)
    if TranscriptMail.sent_recently(conversation):
        return render_template(
            "widget/_tool_status.html", text=labels("transcript.too_soon"), failed=True
        ), 429
    attempt = send_transcript(conversation, requested_by="client")
    if attempt.status == TranscriptMail.SENT:
        text, status = labels("transcript.sent", email=attempt.recipient), 200
    else:
        text, status = labels("transcript.failed"), 503
    return render_template("widget/_tool_status.html", text=text, failed=status != 200), status


@bp.post("/widget/<key>/rating")
def rate(key):
    """Rate the conversation good or bad, with an optional comment; again replaces it."""
    widget = widget_or_404(key)
    conversation = identified_client_conversation(widget)
    labels = labels_for(widget)
    form = RatingForm(labels)
    if not form.validate():
        return render_template(
            "widget/_rating.html", widget=widget, labels=labels, form=form, rating=None
        ), 422
    rating = Rating.rate(conversation, form.verdict.data == "good", form.comment.data)
    broker.publish("inbox")
    return render_template(
        "widget/_rating.html", widget=widget, labels=labels, form=None, rating=rating
    )


@bp.get("/widget/<key>/rating")
def rating_form(key):
    """The rating form again, to change an earlier rating."""
    widget = widget_or_404(key)
    conversation = identified_client_conversation(widget)
    labels = labels_for(widget)
    existing = conversation.rating
    form = RatingForm(
        labels,
        formdata=None,
        data={"verdict": ("good" if existing.good else "bad") if existing else None,
              "comment": existing.comment if existing else None},
    )  # fmt: skip
    return render_template(
        "widget/_rating.html", widget=widget, labels=labels, form=form, rating=None
    )
