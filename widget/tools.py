"""The chat's tools for a client with a known email: the transcript by mail, and a rating; and
the page behind the link that confirms a typed email (see ``mailer``)."""

from flask import make_response, render_template, request

from events import broker
from forms import RatingForm
from mailer import read_confirmation, send_transcript
from models import Client, Conversation, Rating, TranscriptMail, database
from widget import WidgetProblem, bp
from widget.visitor import current_visitor


def identified_client_conversation(visitor):
    """The conversation a client with a known email may rate or have mailed; else a refusal.

    Anonymous visitors and guests have neither control: 403.
    """
    client = visitor.client
    if client is None or not visitor.widget.admits(client) or not client.display_email:
        raise WidgetProblem(403, "error.not_allowed")
    conversation = client.latest_conversation()
    if conversation is None:
        raise WidgetProblem(409, "transcript.nothing")
    return conversation


def rateable_conversation(visitor):
    """The conversation the client may rate: one an agent has answered (else 409)."""
    conversation = identified_client_conversation(visitor)
    if not conversation.has_agent_reply():
        raise WidgetProblem(409, "error.not_allowed")
    return conversation


def render_rating(visitor, form=None, rating=None):
    """The rating partial: the form (to rate, or to change a rating) or the rating given."""
    return render_template(
        "widget/_rating.html",
        widget=visitor.widget,
        labels=visitor.labels,
        form=form,
        rating=rating,
    )


@bp.post("/widget/<key>/transcript")
def email_transcript():
    """Send the conversation to the email stored for this client (never one from the request)."""
    visitor = current_visitor()
    conversation = identified_client_conversation(visitor)
    labels = visitor.labels
    if TranscriptMail.sent_recently(conversation):
        return render_template(
            "widget/_tool_status.html", text=labels("transcript.too_soon"), failed=True
        ), 429
    if TranscriptMail.enough_for_today(conversation.client.display_email):
        return render_template(
            "widget/_tool_status.html", text=labels("transcript.daily_limit"), failed=True
        ), 429
    attempt = send_transcript(conversation, requested_by="client")
    if attempt.status == TranscriptMail.SENT:
        text, status = labels("transcript.sent", email=attempt.recipient), 200
    elif attempt.status == TranscriptMail.CONFIRM:
        text, status = labels("transcript.confirm_sent", email=attempt.recipient), 200
    else:
        text, status = labels("transcript.failed"), 503
    return render_template("widget/_tool_status.html", text=text, failed=status != 200), status


@bp.post("/widget/<key>/rating")
def rate():
    """Rate the conversation good or bad, with an optional comment; again replaces it."""
    visitor = current_visitor()
    conversation = rateable_conversation(visitor)
    form = RatingForm(visitor.labels)
    if not form.validate():
        return render_rating(visitor, form=form), 422
    rating = Rating.rate(conversation, form.verdict.data == "good", form.comment.data)
    broker.publish("inbox")
    return render_rating(visitor, rating=rating)


@bp.get("/widget/<key>/rating")
def rating_form():
    """The rating form again, to change an earlier rating."""
    visitor = current_visitor()
    existing = rateable_conversation(visitor).rating
    form = RatingForm(
        visitor.labels,
        formdata=None,
        data={"verdict": ("good" if existing.good else "bad") if existing else None,
              "comment": existing.comment if existing else None},
    )  # fmt: skip
    return render_rating(visitor, form=form)


@bp.route("/widget/<key>/confirm-email/<token>", methods=["GET", "POST"])
def confirm_email(token):
    """The link mailed to an unconfirmed address: a page with a button (GET), and the
    confirmation itself (POST), so that a mail scanner following links confirms nothing.

    The signed link names the client, the address and the conversation whose transcript was
    asked for. Confirming ties the client to the contact for the address; the transcript then
    follows. A link for an address the client no longer has, or older than 24 hours, does
    nothing.
    """
    widget = current_visitor().widget
    claims = read_confirmation(token) or {}
    client = Client.get_or_none(Client.id == claims.get("client", 0), Client.widget == widget)
    email = claims.get("email")
    conversation = Conversation.get_or_none(
        Conversation.id == claims.get("conversation", 0), Conversation.client == client
    )
    language = conversation.language if conversation is not None else None
    labels = widget.labels(requested=language, accept_languages=request.accept_languages.values())
    state, sent = "ask", None
    if client is None or conversation is None or email != client.display_email:
        state = "invalid"
    elif client.email_confirmed:
        state = "done"
    elif request.method == "POST":
        with database.atomic():
            client.confirm_email()
        attempt = send_transcript(conversation, requested_by="client")
        state, sent = "done", attempt.status == TranscriptMail.SENT
    response = make_response(
        render_template(
            "widget/confirm_email.html",
            widget=widget,
            labels=labels,
            state=state,
            email=email,
            sent=sent,
        ),
        404 if state == "invalid" else 200,
    )
    response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"  # no clickjacking
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cache-Control"] = "no-store"
    return response
