"""The support team's blueprint: sign-in, conversations, and the widget's settings.

First-party pages: a cookie session (Flask-Login), CSRF on every form and htmx request, and
never framed by another site.
"""

from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from forms import LoginForm, ReplyForm, WidgetGeneralForm
from models import AUTH_TYPE_HELP, Agent, Conversation, Message, Widget, database

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.after_request
def forbid_framing(response):
    """The admin must never be drawn inside another page (clickjacking)."""
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
    response.headers["Cache-Control"] = "no-store"
    return response


def admin_required(view):
    """Let only agents with admin rights through."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def safe_next(target):
    """A redirect target inside this site, else the inbox."""
    parts = urlsplit(target or "")
    if target and not parts.scheme and not parts.netloc and target.startswith("/"):
        return target
    return url_for("admin.inbox")


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign an agent in."""
    if current_user.is_authenticated:
        return redirect(url_for("admin.inbox"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        agent = Agent.by_email(form.email.data)
        if agent and agent.active and agent.check_password(form.password.data):
            login_user(agent, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next")))
        form.password.errors.append("That email and password do not match an active account.")
        status = 401
    elif form.is_submitted():
        status = 422
    return render_template("admin/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    """Sign the agent out."""
    logout_user()
    flash("You are signed out.")
    return redirect(url_for("admin.login"))


@bp.get("/")
@login_required
def inbox():
    """Every conversation, the latest activity first, with who the client is."""
    conversations = list(Conversation.latest_first())
    return render_template("admin/inbox.html", conversations=conversations)


@bp.get("/conversations/<int:conversation_id>")
@login_required
def conversation(conversation_id):
    """One conversation's messages, who the client is, and a reply box."""
    found = Conversation.get_or_none(Conversation.id == conversation_id) or abort(404)
    return render_template(
        "admin/conversation.html", conversation=found, client=found.client, form=ReplyForm()
    )


@bp.post("/conversations/<int:conversation_id>/reply")
@login_required
def reply(conversation_id):
    """Store an agent's reply; the client sees it on their next load of the widget."""
    found = Conversation.get_or_none(Conversation.id == conversation_id) or abort(404)
    form = ReplyForm()
    if not form.validate():
        return render_template("admin/_reply.html", conversation=found, form=form), 422
    message = found.add_message(form.body.data.strip(), Message.FROM_AGENT, agent=current_user.id)
    return render_template(
        "admin/_reply_sent.html", conversation=found, message=message, form=ReplyForm(formdata=None)
    )


@bp.get("/widgets/")
@admin_required
def widgets():
    """Administration > Website widget: the list; with one widget, straight to its settings."""
    all_widgets = list(Widget.select().order_by(Widget.id))
    if len(all_widgets) == 1:
        return redirect(url_for("admin.widget_general", widget_id=all_widgets[0].id))
    return render_template("admin/widgets.html", widgets=all_widgets)


@bp.route("/widgets/<int:widget_id>/general", methods=["GET", "POST"])
@admin_required
def widget_general(widget_id):
    """Administration > Website widget > General: name, client authentication type, language."""
    widget = Widget.get_or_none(Widget.id == widget_id) or abort(404)
    form = WidgetGeneralForm(obj=widget)
    saved = False
    status = 200
    if request.method == "POST":
        if form.validate():
            with database.atomic():
                form.populate_obj(widget)
                widget.save()
            saved = True
        else:
            status = 422
    template = "admin/_widget_general_form.html" if request.headers.get("HX-Request") else None
    return render_template(
        template or "admin/widget_general.html",
        widget=widget,
        form=form,
        saved=saved,
        auth_help=AUTH_TYPE_HELP,
    ), status
