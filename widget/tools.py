"""The chat's tools for a client with a known email: the transcript by mail, and a rating."""

from flask import render_template

from events import broker
from forms import RatingForm
from mailer import send_transcript
from models import Rating, TranscriptMail
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
    attempt = send_transcript(conversation, requested_by="client")
    if attempt.status == TranscriptMail.SENT:
        text, status = labels("transcript.sent", email=attempt.recipient), 200
    else:
        text, status = labels("transcript.failed"), 503
    return render_template("widget/_tool_status.html", text=text, failed=status != 200), status


@bp.post("/widget/<key>/rating")
def rate():
    """Rate the conversation good or bad, with an optional comment; again replaces it."""
    visitor = current_visitor()
    conversation = identified_client_conversation(visitor)
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
    existing = identified_client_conversation(visitor).rating
    form = RatingForm(
        visitor.labels,
        formdata=None,
        data={"verdict": ("good" if existing.good else "bad") if existing else None,
              "comment": existing.comment if existing else None},
    )  # fmt: skip
    return render_rating(visitor, form=form)
