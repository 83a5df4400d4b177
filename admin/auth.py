"""Signing agents in and out."""

from urllib.parse import urlsplit

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from admin import bp
from forms import LoginForm
from models import Agent
from throttle import allow


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
