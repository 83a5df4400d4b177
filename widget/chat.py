"""The chat: the loader and its settings, the iframe, the sign-in step each type asks for, the
messages a visitor sends and the stream of replies they receive."""

import json
import uuid

from email_validator import EmailNotValidError, validate_email
from flask import (
    current_app,
    g,
    jsonify,
    make_response,
    render_template,
    request,
)

import assets
from events import TooManyStreams, broker, event_stream, format_event, last_event_id
from forms import ContactForm, MessageForm
from identity import IdentityError, verify_identity_token
from inputs import json_problem
from models import NAME_MAX_LENGTH, Client, Message, database, hash_token
from widget import WidgetProblem, bp
from widget.reach import may_leave_email, reach_now
from widget.typing import agent_typing_event
from widget.visitor import current_visitor

PAGE_HEADER = "X-Frontdesk-Page"
STREAMS_PER_TOKEN = 3  # a visitor's tabs: the newest stream ends the oldest
STREAMS_PER_ADDRESS = 20  # FRONTDESK_STREAMS_PER_ADDRESS: past it, new streams get a 429
CUSTOM_DATA_MAX_BYTES = 8192
CUSTOM_FIELDS_MAX = 50


def render_pane(visitor, form=None, status=200):
    """The partial the visitor should see now: sign-in notice, login form or chat."""
    widget, client, labels = visitor.widget, visitor.client, visitor.labels
    if widget.admits(client):
        return render_chat(visitor, client), status
    if widget.asks_site_user:
        return render_template(
            "widget/_notice.html", labels=labels, message_key="error.sign_in_needed"
        ), (403 if status == 200 else status)
    form = form or ContactForm(labels, formdata=None)
    return render_template("widget/_contact_form.html", widget=widget, form=form, labels=labels), (
        status
    )


def render_chat(visitor, client, fresh=False):
    """The chat pane: the client's latest conversation (unless ``fresh``) and a composer."""
    conversation = None if fresh or client is None else client.latest_conversation()
    messages = list(conversation.messages_for_client()) if conversation else []
    return render_template(
        "widget/_chat.html",
        widget=visitor.widget,
        client=client,
        labels=visitor.labels,
        conversation=conversation,
        messages=messages,
        last_id=Message.last_id_for(client),
        composer=new_composer(visitor.labels),
        reach=reach_now(visitor.widget, visitor.labels),
        offer_email=may_leave_email(visitor.widget, client),
    )


def new_composer(labels):
    """An empty message form holding a fresh id for the next message."""
    return MessageForm(labels, formdata=None, data={"client_msg_id": uuid.uuid4().hex})


def refuse_with_pane(visitor, status=403):
    """Answer a request that does not fit the widget's type with the pane that does fit."""
    body, status = render_pane(visitor, status=status)
    response = make_response(body, status)
    response.headers["HX-Retarget"] = "#pane"
    response.headers["HX-Reswap"] = "innerHTML"
    return response


@bp.get("/embed.js")
def embed_script():
    """The loader a host page includes with one script tag: small, precompressed, cached for five
    minutes (pages name it without a hash); it fetches the rest when the chat is opened."""
    response = assets.send_loader()
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/widget/<key>/settings.json")
def loader_settings():
    """What the loader needs before drawing anything: the type and the launcher's texts.

    Public data only. With allowed domains set, only those sites may read it (the loader then
    draws nothing anywhere else); otherwise any site may.
    """
    visitor = g.visitor
    widget = visitor.widget
    origin = request.headers.get("Origin", "")
    if widget is None:
        response = jsonify(error="unknown widget key")
        response.status_code = 404
    elif widget.allowed_domain_list and not widget.allows_origin(origin):
        response = jsonify(error="this site may not embed the widget")
        response.status_code = 403
        return response  # no CORS header: the page cannot read even the refusal
    else:
        labels = visitor.labels
        response = jsonify(
            auth_type=widget.auth_type,
            needs_site_user=widget.asks_site_user,
            language=labels.code,
            direction=labels.direction,
            launcher_label=labels("launcher.open"),
            close_label=labels("launcher.close"),
            **notice_settings(widget, labels),
            **widget.launcher_look,
        )
    if widget is not None and widget.allowed_domain_list:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
    else:
        response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = "no-cache"
    return response


def notice_settings(widget, labels):
    """What the loader needs to tell of a reply while the chat is closed: the launcher's name
    with a count (``{count}`` left in), the preview's texts, and whether to sound or flash."""
    return {
        "unread_one": labels("launcher.unread_one"),
        "unread_many": labels("launcher.unread_many", count="{count}"),
        "new_message": labels("notice.new_message"),
        "dismiss": labels("notice.dismiss"),
        "notify_sound": widget.notify_sound,
        "notify_title": widget.notify_title,
    }


@bp.get("/widget/<key>")
def frame():
    """The page inside the iframe; its pane loads once the visitor token is known."""
    visitor = g.visitor
    widget = visitor.widget
    status = 200 if widget else 404
    response = make_response(
        render_template(
            "widget/frame.html",
            widget=widget,
            labels=visitor.labels,
            reach=reach_now(widget, visitor.labels) if widget else None,
        ),
        status,
    )
    if widget is not None and widget.allowed_domain_list:
        # The browser itself refuses to draw the chat inside any other site.
        sources = " ".join(widget.allowed_domain_list)
        response.headers["Content-Security-Policy"] = f"frame-ancestors 'self' {sources}"
    return response


@bp.get("/widget/<key>/pane")
def pane():
    """The partial that fits the widget's type and the visitor's state."""
    visitor = current_visitor()
    client = visitor.client
    if client:
        client.seen()
    if request.args.get("fresh") and visitor.widget.admits(client):
        return render_chat(visitor, client, fresh=True)
    return render_pane(visitor)


@bp.post("/widget/<key>/identify")
def identify():
    """Code type: take the user the host page described, verified by a signed token or not.

    With "Require verified identity" on, only a valid ``identity_token`` is accepted. Without it,
    unsigned ``custom_user_data`` is taken but marked unverified, and never tied to a contact or
    to another browser's history.
    """
    visitor = current_visitor()
    widget, token = visitor.widget, visitor.token
    if not widget.asks_site_user:
        raise WidgetProblem(409, "error.not_allowed")
    signed = request.form.get("identity_token", "")
    if signed:
        try:
            user = clean_user_data(verify_identity_token(signed, widget))
        except IdentityError as error:
            raise IdentityRefused(error.reason) from error
    elif widget.require_verified_identity:
        raise IdentityRefused("missing")
    else:
        user = parse_custom_user_data(request.form.get("custom_user_data", ""))
    client = visitor.client
    if client and client.external_id not in (None, user["id"]):
        # This browser's token belongs to another site user: the iframe starts a new token.
        raise WidgetProblem(409, "error.user_data_invalid")
    if client and client.verified and not signed:
        raise IdentityRefused("missing")  # a verified session is not taken over unsigned
    with database.atomic():
        if signed:
            client = Client.identify_verified(widget, token, user)
        else:
            client = visitor.client_or_new()
            client.external_id = user.pop("id")
            client.describe(user)
            if not client.email_confirmed:
                client.contact = None  # unsigned data is tied to no contact, until confirmed
            client.save()
    return render_chat(visitor, client)


class IdentityRefused(WidgetProblem):
    """A code-type visitor whose identity could not be verified: 401, nothing stored.

    The reason goes to the site's developer in a header (the browser console shows it); it never
    contains the token or the secret.
    """

    def __init__(self, reason):
        super().__init__(401, "error.identity_invalid")
        self.reason = reason


@bp.post("/widget/<key>/logout")
def logout():
    """The host page's ``Frontdesk('logout')``: this browser's token stops working."""
    visitor = current_visitor()
    with database.atomic():
        client = Client.revoke_token(visitor.widget, visitor.token)
        if client is not None:  # its open streams look again, and end (see ``stream``)
            broker.publish(f"client:{client.id}")
    return "", 204


def parse_custom_user_data(raw):
    """The host page's unsigned ``custom_user_data`` (JSON text), checked like any input."""
    if len(raw.encode()) > CUSTOM_DATA_MAX_BYTES:
        raise WidgetProblem(413, "error.user_data_invalid")
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON, or nested beyond reason
        data = None
    return clean_user_data(data)


def clean_user_data(data):
    """A site user's fields as a dict of short strings with an ``id``.

    Nothing from a host page is trusted, and even signed claims are bounded: the size, the shape
    and every value are checked. Text no page could show (control characters, lone surrogates
    from ``\ud800`` escapes), at any depth, refuses the whole: 422.
    """
    if not isinstance(data, dict) or len(data) > CUSTOM_FIELDS_MAX or json_problem(data):
        raise WidgetProblem(422, "error.user_data_invalid")
    user = {}
    for field, value in data.items():
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            continue  # nested objects and nulls are dropped, not stored half-understood
        user[str(field)[:64]] = str(value)[:500]
    if not user.get("id", "").strip():
        raise WidgetProblem(422, "error.user_data_invalid")
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
def submit_contact():
    """Form types: save the client as a contact (one per email) and open the chat."""
    visitor = current_visitor()
    widget = visitor.widget
    visitor.check_token()
    if not widget.offers_form:
        raise WidgetProblem(409, "error.not_allowed")
    form = ContactForm(visitor.labels)
    if not form.validate():
        return render_pane(visitor, form=form, status=422)
    client = visitor.give_typed_email(form.email.data, name=form.name.data)
    return render_chat(visitor, client)


@bp.post("/widget/<key>/guest")
def continue_as_guest():
    """Optional form type: chat without giving a name or email."""
    visitor = current_visitor()
    visitor.check_token()
    if not visitor.widget.offers_guest:
        raise WidgetProblem(409, "error.not_allowed")
    with database.atomic():
        client = visitor.client_or_new()
        client.is_guest = True
        client.save()
    return render_chat(visitor, client)


@bp.post("/widget/<key>/messages")
def send_message():
    """Store the client's message and answer with it and a fresh composer."""
    visitor = current_visitor()
    client = visitor.client
    if not visitor.widget.admits(client):
        return refuse_with_pane(visitor)
    labels = visitor.labels
    form = MessageForm(labels)
    if not form.validate():
        return render_template(
            "widget/_composer.html", widget=visitor.widget, form=form, labels=labels
        ), 422
    conversation, message = visitor.client_or_new().post_message(
        form.body.data,
        client_msg_id=form.client_msg_id.data or None,
        page_url=host_page_url(),
        browser_language=browser_language(),
        language=labels.code,
    )
    broker.publish(*conversation.topics)
    return render_template(
        "widget/_sent.html",
        widget=visitor.widget,
        message=message,
        labels=labels,
        composer=new_composer(labels),
        start_stream=client is None,  # the first message: the pane has no stream yet
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
def stream():
    """Server-Sent Events: agents' replies and status changes in the client's conversations.

    Each event's id is the message id; a reconnect names the last one in ``Last-Event-ID`` and
    gets everything after it, once.
    """
    visitor = current_visitor()
    client = visitor.client
    if client is None or not visitor.widget.admits(client):
        raise WidgetProblem(403, "error.not_allowed")
    widget, labels, token = visitor.widget, visitor.labels, visitor.token
    position = {"after": last_event_id(request), "typing": None}

    def read_new():
        """Render what the client has not been sent yet, and remember where it ended; None
        once the token was revoked (``Frontdesk('logout')``): nothing more reaches it."""
        if not client.holds_token(token):
            return None
        typing, position["typing"] = agent_typing_event(widget, client, labels, position["typing"])
        events = [typing]
        for message in Message.for_client_after(client, position["after"]):
            html = render_template(
                "widget/_live_message.html",
                widget=widget,
                message=message,
                labels=labels,
                new_composer=new_composer,
                rate_now=client.display_email and message.is_first_answer(),
            )
            events.append(format_event(html, event_id=message.id))
            position["after"] = message.id
        return "".join(events)

    per_address = int(current_app.config.get("STREAMS_PER_ADDRESS") or STREAMS_PER_ADDRESS)
    try:
        return event_stream(
            (f"client:{client.id}",),
            read_new,
            holder=(f"widget:{widget.id}:{hash_token(token)}", STREAMS_PER_TOKEN),
            limits=(request.remote_addr or "unknown", per_address),
        )
    except TooManyStreams:
        raise WidgetProblem(429, "error.too_many") from None
