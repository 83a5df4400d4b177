"""Signing agents in and out.

Each sign-in is an ``AgentSession`` row; the cookies hold its token, never the agent's id (see
``app.load_agent``). Failed sign-ins are limited per account and per address; successful ones
are not counted, and an unknown email costs the same password check as a known one.
"""

import math
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import (
    current_user,
    login_required,
    login_user,
    logout_user,
    user_loaded_from_cookie,
)

from admin import bp
from forms import LoginForm
from models import Agent, AgentSession
from throttle import record, seconds_to_wait

SIGN_IN_WINDOW = 900  # seconds: the limits are per 15 minutes
USER_AGENT_HEADER_MAX = 200


def safe_next(target):
    """A redirect target inside this site, else the inbox."""
    parts = urlsplit(target or "")
    if target and not parts.scheme and not parts.netloc and target.startswith("/"):
        return target
    return url_for("admin.inbox")


def failure_limits(email):
    """The two limits on failed sign-ins: per account (email) and per address."""
    return [
        ("sign-in-failures", email, "SIGN_IN_ATTEMPTS_PER_15_MINUTES"),
        (
            "sign-in-failures-address",
            request.remote_addr,
            "SIGN_IN_FAILURES_PER_ADDRESS_PER_15_MINUTES",
        ),
    ]


def start_session(agent, remember):
    """Sign ``agent`` in on this browser: a new session row, its token in the cookies."""
    AgentSession.start(
        agent,
        remember=remember,
        user_agent=request.headers.get("User-Agent", "")[:USER_AGENT_HEADER_MAX],
        ip=request.remote_addr,
    )
    duration = agent.session.remaining() if remember else None
    login_user(agent, remember=remember, duration=duration)


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign an agent in."""
    if current_user.is_authenticated:
        return redirect(url_for("admin.inbox"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        limits = failure_limits(email)
        wait = max(
            seconds_to_wait(bucket, who, setting, SIGN_IN_WINDOW) for bucket, who, setting in limits
        )
        if wait:
            minutes = math.ceil(wait / 60)
            plural = "minute" if minutes == 1 else "minutes"
            form.password.errors.append(
                f"Too many failed sign-ins. Try again in {minutes} {plural}."
            )
            return render_template("admin/login.html", form=form), 429
        agent = Agent.authenticate(email, form.password.data)
        if agent is not None:
            start_session(agent, remember=form.remember.data)
            return redirect(safe_next(request.args.get("next")))
        for bucket, who, setting in limits:
            record(bucket, who, setting, SIGN_IN_WINDOW)
        form.password.errors.append("That email and password do not match an active account.")
        status = 401
    elif form.is_submitted():
        status = 422
    return render_template("admin/login.html", form=form), status


@user_loaded_from_cookie.connect
def rotate_remember_cookie(_app, user):
    """The remember-me cookie was used (the browser had no session cookie): its token is spent
    and a new one goes out in both cookies, for the time the sign-in has left. A stolen copy of
    the old cookie then works for a few seconds at most."""
    token = user.session.rotate(user.session_token)
    if token is None:
        return
    user.session_token = token
    session["_user_id"] = token
    session["_remember"] = "set"
    session["_remember_seconds"] = user.session.remaining().total_seconds()
    current_app.logger.debug("remember-me cookie of session %s rotated", user.session.id)


@bp.post("/logout")
@login_required
def logout():
    """Sign the agent out: this browser's session ends on the server too."""
    current_user.session.end()
    logout_user()
    flash("You are signed out.")
    return redirect(url_for("admin.login"))
