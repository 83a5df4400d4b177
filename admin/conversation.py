"""One conversation: reading it, replying or writing a note, closing and reopening, emailing the
transcript."""

from flask import abort, flash, redirect, render_template, request
from flask_login import current_user, login_required
from playhouse.flask_utils import get_object_or_404

from admin import bp
from admin.workspace import CLOSED_QUESTION, current_view, render_workspace, reply_box
from events import broker
from forms import ReplyForm
from mailer import send_transcript
from models import Conversation, Message, TranscriptMail, database


@bp.get("/conversations/<id:conversation_id>")
@login_required
def conversation(conversation_id):
    """The workspace with this conversation open (the address before there was a workspace)."""
    found = get_object_or_404(Conversation, Conversation.id == conversation_id)
    return render_workspace(current_view().with_conversation(found.id), found)


def back_to_workspace(found):
    """A redirect to the workspace view the request came from, with ``found`` open."""
    return redirect(current_view().with_conversation(found.id).url())


@bp.post("/conversations/<id:conversation_id>/reply")
@login_required
def reply(conversation_id):
    """Store an agent's reply (it reaches the client's widget live) or internal note (never).

    A reply to a closed conversation reopens it only when the form says so (``reopen``, set
    once the agent confirmed); without it the answer is 409 and the box asks.
    """
    found = get_object_or_404(Conversation, Conversation.id == conversation_id)
    form = ReplyForm()
    mode = "note" if request.form.get("mode") == "note" else "reply"
    if not form.validate():
        return render_template("admin/_reply.html", **reply_box(found, form, mode)), 422
    reopened = mode == "reply" and not found.is_open
    if reopened and request.form.get("reopen") != "1":
        form.body.errors = [CLOSED_QUESTION]
        return render_template("admin/_reply.html", **reply_box(found, form, mode)), 409
    sender = Message.FROM_NOTE if mode == "note" else Message.FROM_AGENT
    with database.atomic():
        if reopened:
            found.set_status(Conversation.OPEN, current_user.id)
        message = found.add_message(form.body.data.strip(), sender, agent=current_user.id)
        found.mark_read(current_user.id, message.id)
        # An unassigned conversation goes to whoever answers it (a note answers nobody).
        claimed = mode == "reply" and found.claim(current_user.id)
    broker.publish(*found.topics)
    if reopened:  # the header and the thread both change: show the page afresh
        return "", 204, {"HX-Refresh": "true"}
    return render_template(
        "admin/_reply_sent.html",
        message=message,
        claimed=claimed,
        view=current_view(),
        **reply_box(found, ReplyForm(formdata=None), mode),
    )


@bp.post("/conversations/<id:conversation_id>/status")
@login_required
def set_status(conversation_id):
    """Close or reopen a conversation; the client sees it at once."""
    found = get_object_or_404(Conversation, Conversation.id == conversation_id)
    status = request.form.get("status")
    if status not in (Conversation.OPEN, Conversation.CLOSED):
        abort(400, "Choose open or closed.")
    found.set_status(status, current_user.id)
    broker.publish(*found.topics)
    flash("Conversation closed." if status == Conversation.CLOSED else "Conversation reopened.")
    return back_to_workspace(found)


@bp.post("/conversations/<id:conversation_id>/transcript")
@login_required
def email_transcript(conversation_id):
    """Send the transcript to the client's stored email, on the agent's request."""
    found = get_object_or_404(Conversation, Conversation.id == conversation_id)
    if not found.client.display_email:
        abort(409, "This client gave no email address.")
    attempt = send_transcript(found, requested_by="agent")
    if attempt.status == TranscriptMail.SENT:
        flash(f"Transcript sent to {attempt.recipient}.")
    elif attempt.status == TranscriptMail.CONFIRM:
        flash(
            f"{attempt.recipient} is not confirmed: a confirmation link went there, "
            "and the transcript follows once it is used."
        )
    else:
        flash(f"The transcript could not be sent: {attempt.error}")
    return back_to_workspace(found)
