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

    def translated(self, key):
        """Whether this language's own file gives ``key`` a text (else English shows)."""
        own = self._own.get(key)
        return bool(own and own.text)


# Where each label appears, told by its key: the first group with a matching prefix wins.
LABEL_GROUPS = [
    ("Launcher and chat window", ("launcher.", "header.", "status.")),
    ("Login form", ("login.", "error.name_", "error.email_")),
    ("Chat and composer", ("chat.", "composer.", "error.message_", "error.send_failed")),
    ("Rating", ("rating.", "error.rating_", "error.comment_")),
    ("Transcript", ("tools.", "transcript.")),
    ("Emails and the email confirmation page", ("email.", "confirm.")),
    ("Notices and errors", ("",)),
]
ONLY_ATTENTION = "changed"  # ?only=changed: untranslated or overridden labels only
QUERY_MAX_LENGTH = 100


def label_group(key):
    """The title of the group ``key`` belongs to (LABEL_GROUPS)."""
    return next(title for title, prefixes in LABEL_GROUPS if key.startswith(prefixes))


def editor_filters():
    """The editor's filters from the query string: ``q`` (search text) and ``only``."""
    query = request.args.get("q", "").strip()[:QUERY_MAX_LENGTH]
    return {"q": query, "only": ONLY_ATTENTION if request.args.get("only") else ""}


def editor_url(widget, code, filters):
    """The editor of one language, keeping the filters it was opened with."""
    kept = {name: value for name, value in filters.items() if value}
    return url_for("admin.widget_language", widget_id=widget.id, lang=code, **kept)


def editor_row(labels, key, override, error):
    """One label's row: texts, the words searched (``search``), whether it needs attention."""
    source = load_language(SOURCE_LANGUAGE)[key]
    file_text = labels.file_text(key)
    words = (key, label_group(key), source.comment, source.text, file_text, override)
    return {
        "key": key,
        "slug": key.replace(".", "-"),
        "comment": source.comment,
        "file_text": file_text,
        "override": override,
        "error": error,
        "search": " ".join(words).lower(),
        "attention": bool(override) or not labels.translated(key),
    }


def row_shown(row, filters):
    """Whether the filters keep ``row``; a row with an error always shows.

    static/label-editor.js applies the same test as the admin types, on each row's ``search``."""
    if row["error"]:
        return True
    if filters["only"] and not row["attention"]:
        return False
    return filters["q"].lower() in row["search"]


def grouped_rows(labels, overrides, errors, filters):
    """[(group title, rows)] in LABEL_GROUPS order, each row marked ``shown`` or not."""
    groups = {title: [] for title, _ in LABEL_GROUPS}
    for key in labels.known_keys:
        row = editor_row(labels, key, overrides.get(key, ""), errors.get(key))
        row["shown"] = row_shown(row, filters)
        groups[label_group(key)].append(row)
    return [(title, rows) for title, rows in groups.items() if rows]


@bp.route("/widgets/<id:widget_id>/language", methods=["GET", "POST"])
@admin_required
def widget_language(widget_id):
    """List, save and reset the widget's overrides for one language."""
    widget = get_object_or_404(Widget, Widget.id == widget_id)
    code = editor_language()
    filters = editor_filters()
    labels = EditorLabels(code)
    overrides = LabelOverride.for_widget(widget, code)
    errors, status = {}, 200
    if request.method == "POST":
        if request.form.get("reset"):
            LabelOverride.reset(widget, code, request.form["reset"])
            flash("The label is back to the language file's text.")
            return redirect(editor_url(widget, code, filters))
        if request.form.get("reset_all"):
            LabelOverride.reset(widget, code)
            flash("Every label is back to the language file's text.")
            return redirect(editor_url(widget, code, filters))
        overrides = typed_overrides(labels)
        errors = {
            key: problem
            for key, text in overrides.items()
            if (problem := label_problem(text, labels.file_text(key)))
        }
        if not errors:
            LabelOverride.replace_all(widget, code, overrides)
            flash("Saved. The next widget opened uses this wording.")
            return redirect(editor_url(widget, code, filters))
        status = 422
    groups = grouped_rows(labels, overrides, errors, filters)
    rows = [row for _, group_rows in groups for row in group_rows]
    return render_template(
        "admin/widget_language.html",
        widget=widget,
        code=code,
        languages=language_choices(),
        groups=groups,
        bad_keys=[row["key"] for row in rows if row["error"]],
        filters=filters,
        only_attention=ONLY_ATTENTION,
        action=editor_url(widget, code, filters),
        shown=sum(row["shown"] for row in rows),
        total=len(labels.known_keys),
        field_prefix=FIELD_PREFIX,
    ), status


@bp.post("/widgets/<id:widget_id>/language/check")
@admin_required
def widget_language_check(widget_id):
    """The problem with one label's wording being typed (``?key=``), before it is saved: the
    rule a save applies (``label_problem``)."""
    get_object_or_404(Widget, Widget.id == widget_id)
    labels = EditorLabels(editor_language())
    key = request.args.get("key", "")
    if key not in labels.known_keys:
        abort(404, "There is no label with that key.")
    text = request.form.get(FIELD_PREFIX + key, "").strip()
    problem = label_problem(text, labels.file_text(key)) if text else None
    return render_template("admin/_label_problem.html", row={"key": key, "error": problem})


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
