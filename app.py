"""Frontdesk's application factory: configuration, extensions, blueprints and CLI commands.

Run it with ``flask --app app run``; configure it with ``FRONTDESK_*`` environment variables.
"""

import os
import secrets
import time
from pathlib import Path
from urllib.parse import urlsplit

import click
import jwt
from flask import Flask, abort, current_app, render_template, request
from flask_login import LoginManager
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

import admin
import label_editor  # noqa: F401  (registers the label editor on the admin blueprint)
import team  # noqa: F401  (registers the people pages on the admin blueprint)
import widget
from db import connect_database, database
from labels import labels_cli
from models import Agent, Widget
from schema import create_tables

csrf = CSRFProtect()
login_manager = LoginManager()
login_manager.login_view = "admin.login"
login_manager.login_message = "Please sign in to continue."


@login_manager.user_loader
def load_agent(agent_id):
    """The signed-in agent for Flask-Login's session cookie."""
    return Agent.get_or_none(Agent.id == int(agent_id))


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
        WIDGET_URL=None,
        DEMO=False,  # the /demo shop page; `make run` turns it on
        WIDGET_WRITES_PER_MINUTE=60,  # per visitor address, all widget POSTs together
        NEW_CLIENTS_PER_HOUR=60,  # per visitor address
        SIGN_IN_ATTEMPTS_PER_15_MINUTES=10,  # per email and address, successful ones too
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
    app.register_blueprint(widget.bp)
    app.register_blueprint(admin.bp)
    csrf.exempt(widget.bp)
    app.cli.add_command(labels_cli)
    app.cli.add_command(init_db_command)
    app.cli.add_command(create_admin_command)
    app.cli.add_command(create_agent_command)
    register_request_hooks(app)
    register_pages(app)
    return app


def instance_secret(app):
    """A secret key kept in the instance folder, so sessions survive a restart of ``make run``."""
    path = Path(app.instance_path) / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def register_request_hooks(app):
    """One database connection per request, and headers every response carries."""

    @app.before_request
    def open_connection():
        database.connect(reuse_if_open=True)

    @app.teardown_request
    def close_connection(_exc):
        if not database.is_closed():
            database.close()

    @app.before_request
    def refuse_nul_characters():
        """No text anywhere holds a NUL character (PostgreSQL cannot store one): 400, not 500."""
        values = [request.path, *request.args.values(), *request.form.values()]
        if any("\x00" in value for value in values):
            abort(400, "Text must not contain NUL characters.")

    @app.after_request
    def common_headers(response):
        """Every page but the widget's refuses to be framed by another site (clickjacking)."""
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if request.blueprint != "widget":
            response.headers["X-Frame-Options"] = "DENY"
            csp = response.headers.get("Content-Security-Policy")
            if not csp:
                response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
        return response


def register_pages(app):
    """The pages outside both blueprints: home, demo shop, health check, errors."""

    @app.get("/")
    def home():
        """A landing page pointing to the admin and, when it is on, the demo."""
        return render_template("home.html", demo_url=demo_url() if app.config["DEMO"] else None)

    @app.get("/demo")
    def demo():
        """A plain shop page that embeds the widget with the snippet a customer pastes.

        Only with ``FRONTDESK_DEMO`` on (``make run`` sets it): the page hands out identity
        tokens signed for its demo customer, which a real install must not do.
        """
        if not app.config["DEMO"]:
            abort(404)
        first = Widget.select().order_by(Widget.id).first()
        return render_template(
            "demo.html",
            widget=first,
            widget_origin=widget_origin(),
            customer=DEMO_CUSTOMER,
            identity_token=demo_identity_token(first),
        )

    @app.get("/healthz")
    def healthz():
        """200 when the database answers, 503 when it does not."""
        try:
            database.execute_sql("SELECT 1")
        except Exception as error:  # any database failure means "not healthy"
            app.logger.warning("health check failed: %s", type(error).__name__)
            return {"status": "unavailable", "database": "unreachable"}, 503
        return {"status": "ok", "database": "ok"}

    @app.errorhandler(CSRFError)
    def csrf_failed(error):
        """A form sent without a valid CSRF token: usually an expired or copied page."""
        message = "This form has expired. Reload the page and try again."
        return render_template("error.html", status=400, message=message), 400

    @app.errorhandler(HTTPException)
    def http_error(error):
        """A plain page (or fragment, for htmx) saying what happened, with the right status."""
        if request.headers.get(widget.TOKEN_HEADER):  # from inside the widget: its own notice
            return widget.show_http_error(error)
        template = "_error.html" if request.headers.get("HX-Request") else "error.html"
        return render_template(template, status=error.code, message=error.description), error.code


DEMO_CUSTOMER = {
    "id": "demo-42",
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "plan": "Premium",
    "phone": "+44 20 7946 0000",
}


def demo_identity_token(widget):
    """What a customer's server does for its signed-in user: sign their identity (see Install).

    The demo page is the shop's server here, so it may sign with the widget's secret; the secret
    itself stays on the server.
    """
    if widget is None:
        return ""
    claims = {**DEMO_CUSTOMER, "exp": int(time.time()) + 3600}
    return jwt.encode(claims, widget.identity_secret, algorithm="HS256")


def widget_origin():
    """The origin the widget is served from, for the demo's snippet.

    ``FRONTDESK_WIDGET_URL`` when set; otherwise this host with ``localhost`` and ``127.0.0.1``
    swapped, so that a browser treats the demo page and the widget as two different sites and the
    widget runs as the real third-party iframe it is on a customer's site.
    """
    if current_app.config.get("WIDGET_URL"):
        return current_app.config["WIDGET_URL"].rstrip("/")
    parts = urlsplit(request.host_url)
    swapped = {"localhost": "127.0.0.1", "127.0.0.1": "localhost"}
    host = swapped.get(parts.hostname, parts.hostname)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def demo_url():
    """The demo page's address on ``localhost``, the other site from the widget's 127.0.0.1."""
    parts = urlsplit(request.host_url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://localhost{port}/demo"


def seed_demo(admin_password=None):
    """On an empty database: a demo widget and an admin. Returns the generated password, if any."""
    generated = None
    with database.atomic():
        if not Widget.select().exists():
            Widget.create(name="Demo shop")
        if not Agent.select().exists():
            generated = None if admin_password else secrets.token_urlsafe(12)
            Agent.create_with_password(
                "admin@example.com", "Admin", admin_password or generated, is_admin=True
            )
    return generated


@click.command("init-db")
def init_db_command():
    """Create the tables; on an empty database add the demo widget and admin@example.com."""
    create_tables()
    generated = seed_demo(os.environ.get("FRONTDESK_ADMIN_PASSWORD"))
    click.echo("Database ready.")
    if generated:
        click.echo(f"Admin created: admin@example.com / {generated}  (shown once; keep it)")


def add_person(email, name, password, is_admin):
    """Create an agent from the command line, refusing a taken email."""
    create_tables()
    if Agent.by_email(email):
        raise click.ClickException(f"{email} already has an account.")
    Agent.create_with_password(email, name, password, is_admin=is_admin)
    click.echo(f"Created {'admin' if is_admin else 'agent'} {email}.")


@click.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True)
@click.password_option()
def create_admin_command(email, name, password):
    """Add an admin: answers chats, changes settings, manages agents."""
    add_person(email, name, password, is_admin=True)


@click.command("create-agent")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True)
@click.password_option()
def create_agent_command(email, name, password):
    """Add a support agent without admin rights."""
    add_person(email, name, password, is_admin=False)
