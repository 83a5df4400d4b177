"""Canned replies: Administration > Website widget > Canned replies (list, add, edit, delete),
and the filled-in texts the reply box of a conversation offers."""

from flask import flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from playhouse.flask_utils import get_object_or_404
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from admin import admin_required, bp
from models import MESSAGE_MAX_LENGTH, CannedReply, Widget, database


class CannedReplyForm(FlaskForm):
    """One canned reply: a title for the picker and the text, with ``{name}`` placeholders."""

    title = StringField(
        "Title",
        validators=[
            DataRequired("Give it a title: the reply box lists it by that."),
            Length(
                max=CannedReply.TITLE_MAX_LENGTH, message="Keep the title under 100 characters."
            ),
        ],
    )
    body = TextAreaField(
        "Text",
        validators=[
            DataRequired("Write the reply's text."),
            Length(max=MESSAGE_MAX_LENGTH, message="Keep the text under 5000 characters."),
        ],
    )

    def validate_body(self, field):
        """Only placeholders that get filled in: a typo would reach the client as it is."""
        unknown = CannedReply.unknown_placeholders(field.data or "")
        if unknown:
            named = ", ".join("{" + name + "}" for name in unknown)
            raise ValidationError(f"Unknown placeholder {named}: only {{name}} is filled in.")


def canned_replies_for(conversation):
    """The widget's canned replies as (title, text filled in for this conversation's client)."""
    client = conversation.client
    replies = CannedReply.for_widget(conversation.widget_id)
    return [(reply.title, reply.filled_for(client)) for reply in replies]


def canned_page(widget, form, editing=None, status=200):
    """The Canned replies tab: the list and a form (to add one, or to edit ``editing``)."""
    return render_template(
        "admin/widget_canned.html",
        widget=widget,
        replies=list(CannedReply.for_widget(widget)),
        form=form,
        editing=editing,
    ), status


def widget_reply(widget_id, reply_id):
    """The widget and one of its canned replies, or 404."""
    widget = get_object_or_404(Widget, Widget.id == widget_id)
    reply = get_object_or_404(
        CannedReply, (CannedReply.id == reply_id) & (CannedReply.widget == widget)
    )
    return widget, reply


@bp.get("/widgets/<id:widget_id>/canned")
@admin_required
def widget_canned(widget_id):
    """Administration > Website widget > Canned replies: the list and a form to add one."""
    widget = get_object_or_404(Widget, Widget.id == widget_id)
    return canned_page(widget, CannedReplyForm(formdata=None))


@bp.post("/widgets/<id:widget_id>/canned")
@admin_required
def add_canned(widget_id):
    """Add a canned reply to the widget."""
    widget = get_object_or_404(Widget, Widget.id == widget_id)
    form = CannedReplyForm()
    if not form.validate():
        return canned_page(widget, form, status=422)
    with database.atomic():
        CannedReply.create(widget=widget, title=form.title.data.strip(), body=form.body.data)
    flash(f"Canned reply “{form.title.data.strip()}” added.")
    return redirect(url_for("admin.widget_canned", widget_id=widget.id))


@bp.get("/widgets/<id:widget_id>/canned/<id:reply_id>")
@admin_required
def edit_canned(widget_id, reply_id):
    """The Canned replies tab with one reply in the form, to change it."""
    widget, reply = widget_reply(widget_id, reply_id)
    return canned_page(widget, CannedReplyForm(formdata=None, obj=reply), editing=reply)


@bp.post("/widgets/<id:widget_id>/canned/<id:reply_id>")
@admin_required
def save_canned(widget_id, reply_id):
    """Save a changed canned reply."""
    widget, reply = widget_reply(widget_id, reply_id)
    form = CannedReplyForm()
    if not form.validate():
        return canned_page(widget, form, editing=reply, status=422)
    with database.atomic():
        reply.title, reply.body = form.title.data.strip(), form.body.data
        reply.save()
    flash(f"Canned reply “{reply.title}” saved.")
    return redirect(url_for("admin.widget_canned", widget_id=widget.id))


@bp.post("/widgets/<id:widget_id>/canned/<id:reply_id>/delete")
@admin_required
def delete_canned(widget_id, reply_id):
    """Delete a canned reply (replies already sent with it stay as they are)."""
    widget, reply = widget_reply(widget_id, reply_id)
    with database.atomic():
        reply.delete_instance()
    flash(f"Canned reply “{reply.title}” deleted.")
    return redirect(url_for("admin.widget_canned", widget_id=widget.id))
