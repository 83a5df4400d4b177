"""Administration > Website widget: the widget list, General, Install and the identity secret.

The Language tab is ``admin.label_editor``.
"""

from pathlib import Path

from flask import current_app, flash, redirect, render_template, request, url_for
from playhouse.flask_utils import get_object_or_404

from admin import admin_required, bp, page_or_partial
from availability import time_zone_names
from forms import AUTH_TYPE_HELP, AUTH_TYPE_NAMES, WidgetGeneralForm
from models import Image, Widget, database

EXAMPLES_DIR = Path(__file__).parent.parent / "examples"
EXAMPLE_FILES = [
    ("Python", "identity_token.py"),
    ("PHP", "identity_token.php"),
    ("Node.js", "identity_token.js"),
]


@bp.get("/widgets/")
@admin_required
def widgets():
    """Administration > Website widget: the list; with one widget, straight to its settings."""
    all_widgets = list(Widget.select().order_by(Widget.id))
    if len(all_widgets) == 1:
        return redirect(url_for("admin.widget_general", widget_id=all_widgets[0].id))
    return render_template(
        "admin/widgets.html", widgets=all_widgets, auth_type_names=AUTH_TYPE_NAMES
    )


@bp.route("/widgets/<id:widget_id>/general", methods=["GET", "POST"])
@admin_required
def widget_general(widget_id):
    """Administration > Website widget > General: name, client authentication type, language,
    looks (with a live preview, see ``admin.brand_preview``) and office hours."""
    widget = get_object_or_404(Widget, Widget.id == widget_id)
    form = WidgetGeneralForm(obj=widget)
    saved = False
    status = 200
    if request.method == "POST":
        if form.validate():
            with database.atomic():
                form.populate_widget(widget)
                if form.logo_bytes is not None or form.remove_logo.data:
                    widget.logo = Image.replace(widget.logo_id, form.logo_bytes)
                widget.save()
            saved = True
        else:
            status = 422
    return page_or_partial(
        "admin/widget_general.html",
        "admin/_widget_general_form.html",
        widget=widget,
        form=form,
        saved=saved,
        auth_help=AUTH_TYPE_HELP,
        time_zones=time_zone_names(),
    ), status


@bp.get("/widgets/<id:widget_id>/install")
@admin_required
def widget_install(widget_id):
    """Administration > Website widget > Install: the snippet, the identity secret, examples."""
    widget = get_object_or_404(Widget, Widget.id == widget_id)
    origin = (current_app.config.get("WIDGET_URL") or request.host_url).rstrip("/")
    examples = [(name, (EXAMPLES_DIR / filename).read_text()) for name, filename in EXAMPLE_FILES]
    return render_template(
        "admin/widget_install.html", widget=widget, origin=origin, examples=examples
    )


@bp.post("/widgets/<id:widget_id>/identity-secret")
@admin_required
def regenerate_identity_secret(widget_id):
    """A new identity secret; tokens signed with the old one stop working at once."""
    widget = get_object_or_404(Widget, Widget.id == widget_id)
    with database.atomic():
        widget.regenerate_identity_secret()
    flash("A new identity secret is in force. Update it on your server now.")
    return redirect(url_for("admin.widget_install", widget_id=widget.id))
