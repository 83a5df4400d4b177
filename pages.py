"""The pages outside both blueprints: home, the demo shop, the health check, and error pages.

``register(app)`` adds them to the app; the demo page only when ``FRONTDESK_DEMO`` is on.
"""

import contextlib
import time
from urllib.parse import urlsplit

import jwt
from flask import abort, current_app, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

import widget
from db import UNAVAILABLE, database
from models import Image, Widget

DEMO_CUSTOMER = {
    "id": "demo-42",
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "plan": "Premium",
    "phone": "+44 20 7946 0000",
}


def register(app):
    """Add the pages and the error handlers to ``app``."""
    app.add_url_rule("/", view_func=home, methods=["GET"])
    if app.config["DEMO"]:
        app.add_url_rule("/demo", view_func=demo, methods=["GET"])
    app.add_url_rule("/healthz", view_func=healthz, methods=["GET"])
    app.add_url_rule("/media/<id:image_id>", view_func=media, methods=["GET"])
    app.register_error_handler(CSRFError, csrf_failed)
    app.register_error_handler(HTTPException, http_error)
    for error in UNAVAILABLE:
        app.register_error_handler(error, database_unavailable)


def home():
    """A landing page pointing to the admin and, when it is on, the demo."""
    demo_on = current_app.config["DEMO"]
    return render_template("home.html", demo_url=demo_url() if demo_on else None)


def demo():
    """A plain shop page that embeds the widget with the snippet a customer pastes.

    Only with ``FRONTDESK_DEMO`` on (``make run`` sets it): the page hands out identity
    tokens signed for its demo customer, which a real install must not do. The route exists only
    when the app starts with the switch on; turned off on a running app, the page is a 404 too.
    """
    if not current_app.config["DEMO"]:
        abort(404)
    first = Widget.select().order_by(Widget.id).first()
    origin = widget_origin()
    page = render_template(
        "demo.html",
        widget=first,
        widget_origin=origin,
        customer=DEMO_CUSTOMER,
        identity_token=demo_identity_token(first),
    )
    # Scripts from files only, the loader from the widget's origin (app.common_headers adds
    # the rest of the policy).
    return page, {"Content-Security-Policy": f"script-src 'self' {origin}"}


def healthz():
    """200 when the database answers, 503 when it does not."""
    try:
        database.execute_sql("SELECT 1")
    except Exception as error:  # any database failure means "not healthy"
        current_app.logger.warning("health check failed: %s", type(error).__name__)
        return {"status": "unavailable", "database": "unreachable"}, 503
    return {"status": "ok", "database": "ok"}


def csrf_failed(error):
    """A form sent without a valid CSRF token: usually an expired or copied page."""
    message = "This form has expired. Reload the page and try again."
    return render_template("error.html", status=400, message=message), 400


def http_error(error):
    """A plain page (or fragment, for htmx) saying what happened, with the right status."""
    if request.headers.get(widget.TOKEN_HEADER):  # from inside the widget: its own notice
        return widget.show_http_error(error)
    template = "_error.html" if request.headers.get("HX-Request") else "error.html"
    return render_template(template, status=error.code, message=error.description), error.code


def database_unavailable(error):
    """The database is down or went away: a 503 the visitor or agent can read, one log line.

    The widget shows its own notice in the visitor's language (from the language file: the
    widget's overrides live in the database); the admin a plain page that retries by itself.
    """
    cause = (str(error).strip().splitlines() or [""])[0][:200]
    current_app.logger.warning("database unavailable: %s: %s", type(error).__name__, cause)
    with contextlib.suppress(*UNAVAILABLE):
        database.close()
    if request.blueprint == "widget" or request.headers.get(widget.TOKEN_HEADER):
        response = widget.show_problem(
            widget.WidgetProblem(503, "error.unavailable", in_widget_language=False)
        )
    else:
        # Rendered without the context processors: they would ask the database again.
        page = current_app.jinja_env.get_template("unavailable.html").render(url_for=url_for)
        response = current_app.make_response((page, 503))
    response.headers["Retry-After"] = "5"
    return response


def demo_identity_token(shop_widget):
    """What a customer's server does for its signed-in user: sign their identity (see Install).

    The demo page is the shop's server here, so it may sign with the widget's secret; the secret
    itself stays on the server.
    """
    if shop_widget is None:
        return ""
    claims = {**DEMO_CUSTOMER, "exp": int(time.time()) + 3600}
    return jwt.encode(claims, shop_widget.identity_secret, algorithm="HS256")


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


IMAGE_MAX_AGE = 365 * 24 * 3600


def media(image_id):
    """An uploaded logo or avatar, as the type its bytes were checked to be (never SVG). A new
    upload gets a new id, so the URL is its version and browsers keep it for a year."""
    image = Image.get_or_none(Image.id == image_id)
    if image is None:
        abort(404)
    response = current_app.response_class(bytes(image.data), mimetype=image.content_type)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = f"public, max-age={IMAGE_MAX_AGE}, immutable"
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response
