"""How the team can be reached: whether it is online, away or closed (office hours), and the
email a visitor or guest may leave so that the answer reaches them there."""

import datetime

from flask import render_template

import availability
from forms import LeaveEmailForm
from widget import WidgetProblem, bp
from widget.visitor import current_visitor


def reach_now(widget, labels):
    """The widget's availability now and the line the visitor reads about it."""
    now = datetime.datetime.now(datetime.UTC)
    state = widget.availability(now)
    return {"state": state, "line": availability.status_line(state, labels, now)}


def may_leave_email(widget, client):
    """Whether this client is someone the widget can offer the "leave your email" form to:
    admitted to chat, with no email known yet."""
    return widget.admits(client) and not (client and client.display_email)


def render_leave_email(visitor, form=None, left=None, status=200):
    """The "leave your email" partial: the form, or the thanks once an email was left."""
    return render_template(
        "widget/_leave_email.html",
        widget=visitor.widget,
        labels=visitor.labels,
        form=form or LeaveEmailForm(visitor.labels, formdata=None),
        left_email=left,
        offer_open=True,
    ), status


@bp.post("/widget/<key>/email")
def leave_email():
    """Keep the email a visitor or guest left, unconfirmed as the form's (see
    ``Client.give_typed_email``): the team answers there; a transcript waits for confirmation."""
    visitor = current_visitor()
    visitor.check_token()
    if not may_leave_email(visitor.widget, visitor.client):
        raise WidgetProblem(409, "error.not_allowed")
    form = LeaveEmailForm(visitor.labels)
    if not form.validate():
        return render_leave_email(visitor, form=form, status=422)
    client = visitor.give_typed_email(form.email.data)
    return render_leave_email(visitor, left=client.email)
