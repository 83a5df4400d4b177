"""Your account: the browsers you are signed in on (end any of them), your password, and how
you are notified of visitors' messages.

Admins see and end the sessions of the other agents from the Agents page, on the same page.
"""

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required, logout_user
from flask_wtf import FlaskForm
from playhouse.flask_utils import get_object_or_404
from wtforms import BooleanField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from admin import admin_required, bp
from admin.auth import start_session
from forms import ChatProfileForm
from models import Agent, AgentSession, Image, database


class PasswordChangeForm(FlaskForm):
    """Your account > Password: every other sign-in ends with the old password."""

    current = PasswordField("Current password", validators=[DataRequired("Enter your password.")])
    password = PasswordField(
        "New password",
        validators=[
            DataRequired("Choose a password."),
            Length(min=10, message="Use at least 10 characters."),
        ],
    )
    repeat = PasswordField(
        "New password again",
        validators=[EqualTo("password", message="The two new passwords differ.")],
    )


class NotificationsForm(FlaskForm):
    """Your account > Notifications: how the admin tells you of a visitor's message."""

    notify_desktop = BooleanField("Desktop notification")
    notify_sound = BooleanField("Sound")


def sessions_page(agent, form=None, status=200, profile_form=None):
    return render_template(
        "admin/sessions.html",
        agent=agent,
        own=agent.id == current_user.id,
        sessions=list(AgentSession.live_for(agent)),
        current_session_id=current_user.session.id,
        form=form or PasswordChangeForm(),
        notifications=NotificationsForm(obj=agent),
        profile_form=profile_form or ChatProfileForm(obj=agent),
    ), status


@bp.get("/account/")
@login_required
def account():
    """Where you are signed in, and a form to change your password."""
    return sessions_page(current_user)


@bp.post("/account/sessions/<id:session_id>/end")
@login_required
def end_own_session(session_id):
    """End one of your sessions; ending this browser's own signs you out here."""
    row = get_object_or_404(
        AgentSession, (AgentSession.id == session_id) & (AgentSession.agent == current_user.id)
    )
    row.end()
    if row.id == current_user.session.id:
        logout_user()
        flash("You are signed out.")
        return redirect(url_for("admin.login"))
    flash("That session has ended: the browser must sign in again.")
    return redirect(url_for("admin.account"))


@bp.post("/account/sessions/end-others")
@login_required
def end_other_sessions():
    """End every session but this browser's."""
    ended = AgentSession.end_all(current_user, keep=current_user.session)
    flash(f"{ended} other session{'' if ended == 1 else 's'} ended.")
    return redirect(url_for("admin.account"))


@bp.post("/account/password")
@login_required
def change_password():
    """A new password: every sign-in ends (``Agent.set_password``); this browser gets a new one."""
    form = PasswordChangeForm()
    if not form.validate():
        return sessions_page(current_user, form, 422)
    agent = Agent.get_by_id(current_user.id)
    if not agent.check_password(form.current.data):
        form.current.errors.append("That is not your current password.")
        return sessions_page(current_user, form, 422)
    remember = current_user.session.remember
    with database.atomic():
        agent.set_password(form.password.data)
        agent.save()
    start_session(agent, remember=remember)
    flash("Your password is changed. Every other browser must sign in again.")
    return redirect(url_for("admin.account"))


@bp.post("/account/notifications")
@login_required
def save_notifications():
    """Turn the desktop notification and the sound for visitors' messages on or off."""
    form = NotificationsForm()
    if not form.validate():
        abort(400, "The form expired: reload the page and try again.")
    with database.atomic():
        Agent.update(
            notify_desktop=form.notify_desktop.data, notify_sound=form.notify_sound.data
        ).where(Agent.id == current_user.id).execute()
    flash("Notification settings saved.")
    return redirect(url_for("admin.account"))


@bp.post("/account/profile")
@login_required
def change_chat_profile():
    """Your name and picture as clients see them on your replies (initials without a picture)."""
    form = ChatProfileForm()
    if not form.validate():
        return sessions_page(current_user, status=422, profile_form=form)
    agent = Agent.get_by_id(current_user.id)
    with database.atomic():
        agent.display_name = (form.display_name.data or "").strip() or None
        if form.avatar_bytes is not None or form.remove_avatar.data:
            agent.avatar = Image.replace(agent.avatar_id, form.avatar_bytes)
        agent.save()
    flash("Saved. Clients see your new name and picture on your next replies.")
    return redirect(url_for("admin.account"))


def team_member(agent_id):
    return get_object_or_404(Agent, (Agent.id == agent_id) & Agent.removed_at.is_null())


@bp.get("/agents/<id:agent_id>/sessions")
@admin_required
def agent_sessions(agent_id):
    """An agent's sessions, for an admin (one's own are on Your account)."""
    agent = team_member(agent_id)
    if agent.id == current_user.id:
        return redirect(url_for("admin.account"))
    return sessions_page(agent)


@bp.post("/agents/<id:agent_id>/sessions/<id:session_id>/end")
@admin_required
def end_agent_session(agent_id, session_id):
    agent = team_member(agent_id)
    if agent.id == current_user.id:
        abort(409, "End your own sessions on Your account.")
    row = get_object_or_404(
        AgentSession, (AgentSession.id == session_id) & (AgentSession.agent == agent)
    )
    row.end()
    flash(f"That session of {agent.name} has ended.")
    return redirect(url_for("admin.agent_sessions", agent_id=agent.id))


@bp.post("/agents/<id:agent_id>/sessions/end")
@admin_required
def end_agent_sessions(agent_id):
    """Sign an agent out everywhere (a lost laptop, say)."""
    agent = team_member(agent_id)
    if agent.id == current_user.id:
        abort(409, "End your own sessions on Your account.")
    ended = AgentSession.end_all(agent)
    flash(f"{agent.name} is signed out everywhere ({ended} session{'' if ended == 1 else 's'}).")
    return redirect(url_for("admin.agent_sessions", agent_id=agent.id))
