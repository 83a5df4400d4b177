"""Administration > Website widget > General: the live preview of the widget's looks.

As the Language tab previews labels (``admin.label_editor``), this draws the launcher and the
chat window with the colour, launcher, team name and office hours being typed, unsaved. A value
that does not pass the form's check is drawn as saved instead.
"""

import datetime
from types import SimpleNamespace

from flask import render_template
from playhouse.flask_utils import get_object_or_404

import availability
from admin import admin_required, bp
from forms import MessageForm, WidgetGeneralForm
from models import Agent, Message, Widget

LOOK_FIELDS = (
    "accent_color",
    "launcher_position",
    "launcher_style",
    "team_name",
    "time_zone",
    "office_hours_on",
    "office_opens",
    "office_closes",
)


def typed_look(widget, form):
    """The widget as typed: each look field the form accepts, else the saved value."""
    form.validate()
    look = {name: getattr(widget, name) for name in (*LOOK_FIELDS, "key", "logo_id")}
    for name in LOOK_FIELDS:
        field = form[name]
        if not field.errors and field.data is not None:
            look[name] = field.data
    if not form.office_days.errors:
        look["office_days"] = ",".join(form.office_days.data or [])
    look["team_name"] = (look["team_name"] or "").strip() or None
    return SimpleNamespace(**look)


def sample_messages(agent):
    """Two replies in a row from ``agent`` (one name and avatar for both) after a question."""
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    texts = [
        (Message.FROM_CLIENT, None, "Hello! Do you ship to Norway?"),
        (Message.FROM_AGENT, agent, "Yes, we do."),
        (Message.FROM_AGENT, agent, "It takes 3 to 5 days."),
    ]
    return [
        Message(id=number, sender=sender, agent=who, body=body, created_at=now)
        for number, (sender, who, body) in enumerate(texts, start=1)
    ]


@bp.post("/widgets/<id:widget_id>/general/preview")
@admin_required
def widget_brand_preview(widget_id):
    """The launcher and chat window drawn with the looks being typed (unsaved)."""
    widget = get_object_or_404(Widget, Widget.id == widget_id)
    look = typed_look(widget, WidgetGeneralForm())
    labels = widget.labels()
    now = datetime.datetime.now(datetime.UTC)
    hours = availability.office_hours_of(look)
    state = availability.availability(hours, Agent.anyone_online(), now)
    reach = {"state": state, "line": availability.status_line(state, labels, now)}
    agent = Agent.select().where(Agent.removed_at.is_null()).order_by(Agent.id).first()
    document = render_template(
        "admin/_brand_preview_doc.html",
        look=look,
        widget=look,
        labels=labels,
        reach=reach,
        client=None,
        conversation=None,
        messages=sample_messages(agent or Agent(name="Sam")),
        offer_email=True,
        composer=MessageForm(labels, formdata=None),
    )
    return render_template("admin/_label_preview.html", document=document)
