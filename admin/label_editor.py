"""Administration > Website widget > Language: a widget's own wording for every label.

The editor lists each label of one language with the language file's text and a field for this
widget's override; a live preview beside it shows the widget's login form and chat pane with the
wording being typed.
"""

import datetime
from types import SimpleNamespace

from flask import abort, flash, redirect, render_template, request, url_for
from playhouse.flask_utils import get_object_or_404

from admin import admin_required, bp
from forms import ContactForm, MessageForm
from labels import (
    SOURCE_LANGUAGE,
    Labels,
    language_choices,
    language_codes,
    load_language,
    override_problem,
)
from models import Agent, LabelOverride, Message, Widget

FIELD_PREFIX = "label:"


def editor_language():
    """The language being edited (``?lang=``): English when none; a 404 when unknown."""
    code = request.args.get("lang", SOURCE_LANGUAGE)
    if code not in language_codes():
        abort(404, "There is no language file for that language.")
    return code


def typed_overrides(labels):
    """{key: text} from the posted form, blanks and texts equal to the file's left out."""
    typed = {}
    for name, value in request.form.items():
        if name.startswith(FIELD_PREFIX):
            key, text = name[len(FIELD_PREFIX) :], value.strip()
            if key in labels.known_keys and text and text != labels.file_text(key):
                typed[key] = text
    return typed


LABEL_MAX_LENGTH = 2000


def label_problem(text, file_text):
    """Why ``text`` cannot be saved as a label's wording, or None."""
    if len(text) > LABEL_MAX_LENGTH:
        return f"Keep it under {LABEL_MAX_LENGTH} characters."
    return override_problem(text, file_text)


class EditorLabels(Labels):
    """Labels of one language with the list of keys English defines (the editor's rows)."""

    @property
    def known_keys(self):
        """Every key English defines, in its file's order."""
        return list(load_language(SOURCE_LANGUAGE))


@bp.route("/widgets/<id:widget_id>/language", methods=["GET", "POST"])
@admin_required
def widget_language(widget_id):
    """List, save and reset the widget's overrides for one language."""
    widget = get_object_or_404(Widget, Widget.id == widget_id)
    code = editor_language()
    labels = EditorLabels(code)
    overrides = LabelOverride.for_widget(widget, code)
    errors, status = {}, 200
    if request.method == "POST":
        if request.form.get("reset"):
            LabelOverride.reset(widget, code, request.form["reset"])
            flash("The label is back to the language file's text.")
            return redirect(url_for("admin.widget_language", widget_id=widget.id, lang=code))
        if request.form.get("reset_all"):
            LabelOverride.reset(widget, code)
            flash("Every label is back to the language file's text.")
            return redirect(url_for("admin.widget_language", widget_id=widget.id, lang=code))
        overrides = typed_overrides(labels)
        errors = {
            key: problem
            for key, text in overrides.items()
            if (problem := label_problem(text, labels.file_text(key)))
        }
        if not errors:
            LabelOverride.replace_all(widget, code, overrides)
            flash("Saved. The next widget opened uses this wording.")
            return redirect(url_for("admin.widget_language", widget_id=widget.id, lang=code))
        status = 422
    rows = [
        {
            "key": key,
            "comment": load_language(SOURCE_LANGUAGE)[key].comment,
            "file_text": labels.file_text(key),
            "override": overrides.get(key, ""),
            "error": errors.get(key),
        }
        for key in labels.known_keys
    ]
    return render_template(
        "admin/widget_language.html",
        widget=widget,
        code=code,
        languages=language_choices(),
        rows=rows,
        errors=errors,
        field_prefix=FIELD_PREFIX,
    ), status


@bp.post("/widgets/<id:widget_id>/language/preview")
@admin_required
def widget_language_preview(widget_id):
    """The widget drawn with the wording being typed (unsaved), for the editor's preview."""
    widget = get_object_or_404(Widget, Widget.id == widget_id)
    code = editor_language()
    labels = EditorLabels(code)
    typed = typed_overrides(labels)
    usable = {key: text for key, text in typed.items() if not label_problem(
        text, labels.file_text(key))}  # fmt: skip
    preview = Labels(code, usable)
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    sample_widget = SimpleNamespace(key=widget.key, offers_guest=True)
    client = SimpleNamespace(known_name="Ada", display_email="ada@example.com")
    messages = [  # unsaved: only drawn
        Message(id=1, sender=Message.FROM_CLIENT, created_at=now,
                body="Hello! Do you ship to Norway?"),
        Message(id=2, sender=Message.FROM_AGENT, created_at=now, agent=Agent(name="Sam"),
                body="Yes, in 3 to 5 days."),
    ]  # fmt: skip
    document = render_template(
        "admin/_label_preview_doc.html",
        labels=preview,
        widget=sample_widget,
        form=ContactForm(preview, formdata=None),
        client=client,
        conversation=None,
        messages=messages,
        last_id=2,
        composer=MessageForm(preview, formdata=None),
    )
    return render_template("admin/_label_preview.html", document=document)
