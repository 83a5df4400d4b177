"""Frontdesk's application factory: configuration, extensions, blueprints and request hooks.

Run it with ``flask --app app run``; configure it with ``FRONTDESK_*`` environment variables.
The commands are in ``cli.py``, the pages outside the blueprints in ``pages.py``.
"""

import contextlib
import secrets
from datetime import timedelta
from pathlib import Path

from flask import Flask, abort, request
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

import admin
import assets
import chattext
import cli
import inputs
import pages
import schema
import throttle
import widget
from db import UNAVAILABLE, connect_database, database
from models import AgentSession

csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "admin.login"
login_manager.login_message = "Please sign in to continue."


@login_manager.user_loader
def load_agent(token):
    """The signed-in agent for Flask-Login's session or remember-me cookie, which holds the
    sign-in's token (``Agent.get_id``): None once that session ended or expired."""
    return AgentSession.agent_for_token(token, request.remote_addr)


def create_app(test_config=None):
    """Build the app: settings from the environment (or ``test_config``), then the pieces."""
    app = Flask(__name__, instance_relative_config=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(
        DATABASE_URL=f"sqlite:///{Path(app.instance_path) / 'frontdesk.db'}",
        MAX_CONTENT_LENGTH=1024 * 1024,  # the widget's own requests are held to 64 KiB
        TRUSTED_PROXIES=0,  # how many proxies in front set X-Forwarded-For/-Proto/-Host
        WTF_CSRF_TIME_LIMIT=None,  # agents keep the admin open all day
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_DURATION=timedelta(days=30),  # and the sign-in's row expires with it
        WIDGET_URL=None,
        DEMO=False,  # the /demo shop page; `make run` turns it on
        WIDGET_WRITES_PER_MINUTE=60,  # per visitor address, all widget POSTs together
        NEW_CLIENTS_PER_HOUR=60,  # per visitor address
        SIGN_IN_ATTEMPTS_PER_15_MINUTES=10,  # failed sign-ins per account (email)
        SIGN_IN_FAILURES_PER_ADDRESS_PER_15_MINUTES=30,  # failed sign-ins per address
        PASSWORD_HASH_METHOD="scrypt",  # werkzeug's default; only the tests make it cheaper
    )
    app.config.from_prefixed_env("FRONTDESK")
    if test_config:
        app.config.update(test_config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret(app)
    app.config["DEMO"] = str(app.config["DEMO"]).strip().lower() in {"1", "true", "yes", "on"}
    proxies = int(app.config["TRUSTED_PROXIES"] or 0)
    if proxies:  # visitors' own addresses (for rate limits) and the public scheme and host
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)

    connect_database(app.config["DATABASE_URL"])
    csrf.init_app(app)
    login_manager.init_app(app)
    throttle.init_app(app)
    app.url_map.converters["id"] = inputs.IdConverter  # before the routes that use <id:...>
    app.register_blueprint(widget.bp)
    app.register_blueprint(admin.bp)
    csrf.exempt(widget.bp)
    register_request_hooks(app)
    pages.register(app)
    chattext.init_app(app)  # the linkify filter of the widget's and the admin's messages
    cli.register(app)
    assets.init_app(app)  # hashed static files (WhiteNoise), compression, cacheable widget
    return app


def instance_secret(app):
    """A secret key kept in the instance folder, so sessions survive a restart of ``make run``."""
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


# Served while the database is down or outdated: the loader on customers' sites, static files.
NEEDS_NO_DATABASE = frozenset({"static", "widget.embed_script", "healthz"})


def register_request_hooks(app):
    """At most one database connection per request, and headers every response carries."""

    @app.teardown_request
    def close_connection(_exc):
        """Give back the connection the request's first query opened, whatever happened."""
        if not database.is_closed():
            with contextlib.suppress(*UNAVAILABLE):
                database.close()

    schema_checked = []

    @app.before_request
    def refuse_an_outdated_database():
        """New code on a database nobody upgraded would fail on every request: until
        ``flask --app app init-db`` has run, say so (once per process, once it is current)."""
        if schema_checked or request.endpoint in NEEDS_NO_DATABASE:
            return None
        pending = schema.pending_migrations()
        if not pending:
            schema_checked.append(True)
            return None
        app.logger.error(
            "The database lacks migrations %s: run `flask --app app init-db`.", ", ".join(pending)
        )
        abort(503, "The database needs an upgrade: run `flask --app app init-db`, then reload.")

    @app.before_request
    def refuse_unusable_text():
        """Control characters, lone surrogates and bytes that are not UTF-8 in the path, the
        query, a form or the headers Frontdesk reads: a 400 (the widget's notice inside the
        widget), before anything is looked up or stored. See ``inputs``."""
        problem = inputs.request_problem(request)
        if problem:
            abort(400, problem)

    @app.after_request
    def common_headers(response):
        """Scripts only from Frontdesk's own files, on every page; and every page but the
        widget's refuses to be framed by another site (clickjacking)."""
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        policy = {}
        if request.blueprint != "widget":
            response.headers["X-Frame-Options"] = "DENY"
            policy["frame-ancestors"] = "'none'"
        if response.mimetype == "text/html":
            policy.update(PAGE_POLICY)
        if policy:
            response.headers["Content-Security-Policy"] = compose_policy(
                response.headers.get("Content-Security-Policy"), policy
            )
        return response


# Every HTML page: no inline scripts, event handler attributes or eval (htmx runs without it
# as long as no template uses hx-on or js: values), no plugins, no <base> pointing elsewhere.
PAGE_POLICY = {"script-src": "'self'", "object-src": "'none'", "base-uri": "'self'"}


def compose_policy(existing, defaults):
    """A Content-Security-Policy header: ``existing`` (what a view set, such as the widget's
    ``frame-ancestors`` for its allowed domains, or the demo's script sources) keeps its
    directives; ``defaults`` adds the directives it lacks."""
    directives = {}
    for part in (existing or "").split(";"):
        name, _, value = part.strip().partition(" ")
        if name:
            directives[name.lower()] = value.strip()
    for name, value in defaults.items():
        directives.setdefault(name, value)
    return "; ".join(f"{name} {value}".strip() for name, value in directives.items())
