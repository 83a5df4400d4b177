"""The support team's blueprint: sign-in, conversations, and the widget's settings.

First-party pages: a cookie session (Flask-Login), CSRF on every form and htmx request, and
never framed by another site.
"""

import re
from functools import wraps
from pathlib import Path
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required, login_user, logout_user

from events import broker, event_stream, format_event, last_event_id
from forms import AUTH_TYPE_HELP, AUTH_TYPE_NAMES, LoginForm, ReplyForm, WidgetGeneralForm
from limits import allow
from mailer import send_transcript
from models import (
    Agent,
    Conversation,
    Message,
    Rating,
    TranscriptMail,
    Widget,
    database,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.after_request
def no_caching(response):
    """Admin pages hold customers' data: never kept by the browser or a proxy.

    (Framing is refused app-wide, see ``app.common_headers``.)"""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.context_processor
def unread_conversations():
    """The number the page title shows: open conversations with unread client messages."""
    if current_user.is_authenticated:
        return {"unread_total": Conversation.unread_count(current_user)}
    return {"unread_total": 0}


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
        attempt = (form.email.data.strip().lower(), request.remote_addr)
        if not allow("sign-in", attempt, "SIGN_IN_ATTEMPTS_PER_15_MINUTES", 900):
            form.password.errors.append(
                "Too many sign-in attempts for this account. Wait 15 minutes and try again."
            )
            return render_template("admin/login.html", form=form), 429
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


INBOX_SIZE = 200  # the most recent conversations; older ones are found through Contacts

INBOX_TABS = {"open": Conversation.OPEN, "closed": Conversation.CLOSED}


def inbox_status():
    """The inbox tab named in the URL (``?status=closed``), open by default."""
    return INBOX_TABS.get(request.args.get("status"), Conversation.OPEN)


@bp.get("/")
@login_required
def inbox():
    """Open (or closed) conversations, the latest activity first, with unread counts."""
    status = inbox_status()
    conversations = list(Conversation.inbox(current_user, status).limit(INBOX_SIZE + 1))
    more = len(conversations) > INBOX_SIZE
    return page_or_partial(
        "admin/inbox.html",
        "admin/_inbox_list.html",
        conversations=conversations[:INBOX_SIZE],
        more=more,
        status=status,
    )


@bp.get("/live")
@login_required
def live():
    """One stream per admin page: inbox changes, and the open conversation's new messages.

    Unnamed events are messages by others (id = message id, replayed after ``Last-Event-ID``);
    named ``inbox-changed`` events carry the number of conversations with unread messages.
    """
    agent_id = current_user.id
    viewed = None
    if re.fullmatch(r"[0-9]{1,18}", request.args.get("conversation", "")):
        viewed = Conversation.get_or_none(Conversation.id == int(request.args["conversation"]))
    after = last_event_id(request)

    def read_new():
        nonlocal after
        agent = Agent.get_or_none(Agent.id == agent_id)
        if agent is None or not agent.active:
            return None  # deactivated or removed: the stream ends with their access
        events = []
        if viewed is not None:
            messages = list(viewed.messages_for_agent_after(agent, after))
            for message in messages:
                html = render_template("admin/_message.html", message=message, conversation=viewed)
                events.append(format_event(html, event_id=message.id))
            if messages:
                after = messages[-1].id
                viewed.mark_read(agent, after)
        # Inbox events carry no id to resume from, so every round (the first of each connection
        # too) says "look again": a reconnect catches up on what changed while it was away.
        unread = Conversation.unread_count(agent)
        events.append(format_event(str(unread), event="inbox-changed"))
        return "".join(events)

    topics = ("inbox", f"conversation:{viewed.id}") if viewed else ("inbox",)
    return event_stream(topics, read_new)


def conversation_or_404(conversation_id):
    """The conversation, or a 404 page."""
    return Conversation.get_or_none(Conversation.id == conversation_id) or abort(404)


def widget_or_404(widget_id):
    """The widget, or a 404 page."""
    return Widget.get_or_none(Widget.id == widget_id) or abort(404)


def page_or_partial(page, partial, **context):
    """The whole page, or for an htmx request only the partial it swaps."""
    return render_template(partial if request.headers.get("HX-Request") else page, **context)


@bp.get("/conversations/<int:conversation_id>")
@login_required
def conversation(conversation_id):
    """One conversation's messages, everything known about the client, a reply box."""
    found = conversation_or_404(conversation_id)
    messages = list(found.messages_in_order())
    found.mark_read(current_user.id)
    broker.publish("inbox")  # other tabs of this agent update their unread counts
    return render_template(
        "admin/conversation.html",
        conversation=found,
        client=found.client,
        messages=messages,
        last_id=messages[-1].id if messages else 0,
        form=ReplyForm(),
    )


@bp.post("/conversations/<int:conversation_id>/reply")
@login_required
def reply(conversation_id):
    """Store an agent's reply; it reaches the client's widget live."""
    found = conversation_or_404(conversation_id)
    form = ReplyForm()
    if not form.validate():
        return render_template("admin/_reply.html", conversation=found, form=form), 422
    reopened = not found.is_open
    with database.atomic():
        if reopened:  # answering a closed conversation opens it again
            found.set_status(Conversation.OPEN, current_user.id)
        message = found.add_message(
            form.body.data.strip(), Message.FROM_AGENT, agent=current_user.id
        )
        found.mark_read(current_user.id, message.id)
    broker.publish(*found.topics)
    if reopened:  # the header and the thread both change: show the page afresh
        return "", 204, {"HX-Refresh": "true"}
    return render_template(
        "admin/_reply_sent.html", conversation=found, message=message, form=ReplyForm(formdata=None)
    )


@bp.post("/conversations/<int:conversation_id>/transcript")
@login_required
def email_transcript(conversation_id):
    """Send the transcript to the client's stored email, on the agent's request."""
    found = conversation_or_404(conversation_id)
    if not found.client.display_email:
        abort(409, "This client gave no email address.")
    attempt = send_transcript(found, requested_by="agent")
    if attempt.status == TranscriptMail.SENT:
        flash(f"Transcript sent to {attempt.recipient}.")
    else:
        flash(f"The transcript could not be sent: {attempt.error}")
    return redirect(url_for("admin.conversation", conversation_id=found.id))


@bp.get("/reports")
@login_required
def reports():
    """Ratings over the last 30 days and the share of good ratings per agent."""
    days = Rating.per_day(30)
    return render_template(
        "admin/reports.html",
        days=days,
        chart=rating_chart(days),
        per_agent=Rating.share_good_per_agent(),
        total_good=sum(good for _, good, _ in days),
        total_bad=sum(bad for _, _, bad in days),
    )


def rating_chart(days, width=720, height=200, pad=28):
    """Bars for a server-drawn SVG chart: per day, good stacked under bad."""
    peak = max([good + bad for _, good, bad in days] + [1])
    slot = (width - pad) / len(days)
    scale = (height - pad) / peak
    bars = []
    for index, (day, good, bad) in enumerate(days):
        x = pad + index * slot + slot * 0.15
        good_height, bad_height = good * scale, bad * scale
        base = height - pad
        bars.append({
            "day": day, "good": good, "bad": bad, "x": round(x, 1), "w": round(slot * 0.7, 1),
            "good_y": round(base - good_height, 1), "good_h": round(good_height, 1),
            "bad_y": round(base - good_height - bad_height, 1), "bad_h": round(bad_height, 1),
        })  # fmt: skip
    return {"bars": bars, "width": width, "height": height, "pad": pad, "peak": peak}


@bp.post("/conversations/<int:conversation_id>/status")
@login_required
def set_status(conversation_id):
    """Close or reopen a conversation; the client sees it at once."""
    found = conversation_or_404(conversation_id)
    status = request.form.get("status")
    if status not in (Conversation.OPEN, Conversation.CLOSED):
        abort(400, "Choose open or closed.")
    found.set_status(status, current_user.id)
    broker.publish(*found.topics)
    flash("Conversation closed." if status == Conversation.CLOSED else "Conversation reopened.")
    return redirect(url_for("admin.conversation", conversation_id=found.id))


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


@bp.route("/widgets/<int:widget_id>/general", methods=["GET", "POST"])
@admin_required
def widget_general(widget_id):
    """Administration > Website widget > General: name, client authentication type, language."""
    widget = widget_or_404(widget_id)
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
    return page_or_partial(
        "admin/widget_general.html",
        "admin/_widget_general_form.html",
        widget=widget,
        form=form,
        saved=saved,
        auth_help=AUTH_TYPE_HELP,
    ), status


EXAMPLES_DIR = Path(__file__).parent / "examples"
EXAMPLE_FILES = [
    ("Python", "identity_token.py"),
    ("PHP", "identity_token.php"),
    ("Node.js", "identity_token.js"),
]


@bp.get("/widgets/<int:widget_id>/install")
@admin_required
def widget_install(widget_id):
    """Administration > Website widget > Install: the snippet, the identity secret, examples."""
    widget = widget_or_404(widget_id)
    origin = (current_app.config.get("WIDGET_URL") or request.host_url).rstrip("/")
    examples = [(name, (EXAMPLES_DIR / filename).read_text()) for name, filename in EXAMPLE_FILES]
    return render_template(
        "admin/widget_install.html", widget=widget, origin=origin, examples=examples
    )


@bp.post("/widgets/<int:widget_id>/identity-secret")
@admin_required
def regenerate_identity_secret(widget_id):
    """A new identity secret; tokens signed with the old one stop working at once."""
    widget = widget_or_404(widget_id)
    with database.atomic():
        widget.regenerate_identity_secret()
    flash("A new identity secret is in force. Update it on your server now.")
    return redirect(url_for("admin.widget_install", widget_id=widget.id))
