"""Helpers shared by the test modules (tests/ and tests/browser/) and by ``bench.py``.

What a visitor's widget sends, what an agent's admin form posts (CSRF token included), signed
identity tokens, and :class:`ServerProcess`: the real app in a subprocess (``flask run`` or the
README's gunicorn command) on a free port with its own SQLite database, and a TCP proxy that can
cut its connections. Fixtures stay in the conftest files; this module holds plain functions and
classes only.
"""

import contextlib
import json
import os
import re
import secrets
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import jwt

REPO_ROOT = Path(__file__).resolve().parents[1]
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "correct horse battery staple"
# Tests hash passwords cheaply (one PBKDF2 round); production keeps werkzeug's default.
CHEAP_PASSWORD_HASH = "pbkdf2:sha256:1"
# The signed-in user of the "through code" type's tests.
ADA = {"id": "42", "name": "Ada Lovelace", "email": "ada@example.com", "plan": "Premium"}


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- the visitor's widget --------------------------------------------------------------------


def visitor_headers(token=None):
    """Headers the widget iframe sends: the visitor token, as htmx would."""
    return {"X-Frontdesk-Token": token or secrets.token_hex(24), "HX-Request": "true"}


def set_auth_type(widget, auth_type, language="en"):
    """Change the widget's type directly (the admin form has tests of its own)."""
    widget.auth_type = auth_type
    widget.language = language
    widget.save()
    return widget


def send_message(test_client, widget, token, body="hello", msg_id=None, headers=None):
    """A visitor sends a message from the widget's composer (``headers``: more the frame sends,
    such as the host page's address or the browser's languages)."""
    return test_client.post(
        f"/widget/{widget.key}/messages",
        data={"body": body, "client_msg_id": msg_id or secrets.token_hex(8)},
        headers={**visitor_headers(token), **(headers or {})},
    )


def start_chat(test_client, widget, token, body="Hello"):
    """A visitor's message that must be accepted; the conversation it is in."""
    from models import Message  # here, so that bench.py can use this module without the app

    response = send_message(test_client, widget, token, body)
    assert response.status_code == 200
    return Message.get(Message.body == body).conversation


def fill_in_form(
    test_client, widget, token, name="Grace Hopper", email="grace@example.com", headers=None
):
    """A visitor fills in the widget's login form (form and optional form types)."""
    return test_client.post(
        f"/widget/{widget.key}/contact",
        data={"name": name, "email": email},
        headers={**visitor_headers(token), **(headers or {})},
    )


def ask_for_transcript(test_client, widget, token):
    """The visitor's "Email me the transcript" button."""
    return test_client.post(f"/widget/{widget.key}/transcript", headers=visitor_headers(token))


CONFIRMATION_LINK = re.compile(r"https?://[^/\s]+(/widget/[^/\s]+/confirm-email/[\w.-]+)")


def confirmation_links(outbox):
    """The paths of the confirmation links in the mails of an outbox folder, oldest first."""
    import email
    from email import policy

    links = []
    for path in sorted(Path(outbox).glob("*.eml"), key=lambda path: path.stat().st_mtime_ns):
        mail = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        links += CONFIRMATION_LINK.findall(mail.get_body(preferencelist=("plain",)).get_content())
    return links


def confirm_email(test_client, link):
    """The mail's owner opens the confirmation link, then presses the page's button."""
    page = test_client.get(link)
    assert page.status_code == 200 and b'method="post"' in page.data
    return test_client.post(link)


def identify(test_client, widget, token=None, identity_token=None, user_data=None):
    """The host page hands over its user: a signed token and/or unsigned data (a dict as JSON,
    a string as it is)."""
    data = {}
    if identity_token is not None:
        data["identity_token"] = identity_token
    if user_data is not None:
        data["custom_user_data"] = (
            user_data if isinstance(user_data, str) else json.dumps(user_data)
        )
    return test_client.post(
        f"/widget/{widget.key}/identify", data=data, headers=visitor_headers(token)
    )


def sign(widget, claims=None, secret=None, algorithm="HS256", **extra):
    """An identity token as the site's server makes it: ``claims`` (Ada's by default), valid
    for ten minutes, signed with the widget's secret; ``extra`` claims override."""
    claims = {**(ADA if claims is None else claims), "exp": int(time.time()) + 600, **extra}
    return jwt.encode(claims, secret or widget.identity_secret, algorithm=algorithm)


# --- the agent's admin -----------------------------------------------------------------------


def csrf_token_from(page):
    """The CSRF token of the form on a page: a test client response, or the page's HTML."""
    html = page.data if hasattr(page, "data") else page
    html = html.encode() if isinstance(html, str) else html
    match = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', html)
    if not match:
        match = re.search(rb'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1).decode()


def admin_post(test_client, page_url, post_url, data=None, headers=None):
    """Post an admin form as a browser would: the CSRF token taken from the page it is on."""
    page = test_client.get(page_url)
    return test_client.post(
        post_url, data={**(data or {}), "csrf_token": csrf_token_from(page)}, headers=headers
    )


def sign_in(test_client, email=ADMIN_EMAIL, password=ADMIN_PASSWORD):
    """Sign in through the real login form, CSRF token included."""
    return admin_post(
        test_client, "/admin/login", "/admin/login", {"email": email, "password": password}
    )


def general_url(widget):
    return f"/admin/widgets/{widget.id}/general"


LOOK_SETTINGS = ("accent_color", "launcher_position", "launcher_style", "time_zone")
HOURS_SETTINGS = ("office_opens", "office_closes")


def look_settings(widget):
    """The looks and office hours General shows for ``widget``, as its form posts them."""
    data = {name: getattr(widget, name) for name in LOOK_SETTINGS + HOURS_SETTINGS}
    data["team_name"] = widget.team_name or ""
    data["office_days"] = widget.office_days.split(",")
    if widget.office_hours_on:
        data["office_hours_on"] = "y"
    return data


def save_general(admin_client, widget, **changes):
    """Post Administration › General as htmx does: the widget's settings with ``changes``."""
    data = {"name": widget.name, "auth_type": widget.auth_type, "language": widget.language}
    data.update(look_settings(widget))
    data.update(changes)
    url = general_url(widget)
    return admin_post(admin_client, url, url, data, {"HX-Request": "true"})


def post_reply(admin_client, conversation, body):
    """An agent's reply through the conversation page's form, as htmx sends it."""
    page = f"/admin/conversations/{conversation.id}"
    return admin_post(admin_client, page, f"{page}/reply", {"body": body}, {"HX-Request": "true"})


# --- the real app in a subprocess --------------------------------------------------------------


@dataclass(frozen=True)
class LiveServer:
    """Where a running server answers, and the admin it was seeded with."""

    port: int
    admin_email: str
    admin_password: str
    log_path: Path

    @property
    def base_url(self):
        """The widget's origin (and the admin's): 127.0.0.1."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin_url(self):
        return f"{self.base_url}/admin"

    @property
    def demo_url(self):
        """The demo host page on ``localhost``: another site than the widget's 127.0.0.1."""
        return f"http://localhost:{self.port}/demo"


def wait_until_healthy(url, process, log_path, timeout=20.0):
    """Poll ``url`` until it answers 200; RuntimeError (with the log's end) if the process exits
    or the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"the Frontdesk server exited with {process.returncode}:\n"
                + log_path.read_text(errors="replace")[-4000:]
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise RuntimeError(
        f"the Frontdesk server did not answer {url} within {timeout:.0f} s:\n"
        + log_path.read_text(errors="replace")[-4000:]
    )


class ServerProcess:
    """The app serving one SQLite database on one port, which can be stopped and started again.

    ``command`` is ``"flask"`` (``flask run``, the development server) or ``"gunicorn"`` (the
    README's production command: one gevent worker); ``options`` are added to gunicorn's command
    line. Rate limits are lifted, passwords hashed cheaply, the demo page is on and mail goes to
    an outbox folder. ``restart()`` kills the process, so every open stream is cut as a crash
    would cut it, and serves the same database on the same port again (the same secret key keeps
    the agents' session cookies valid). Use it as a context manager, or ``init_db()`` then
    ``start()`` and ``stop()``.
    """

    def __init__(self, workdir, command="flask", options=(), password=ADMIN_PASSWORD):
        if command not in ("flask", "gunicorn"):
            raise ValueError(f"command must be flask or gunicorn, not {command!r}")
        workdir = Path(workdir)
        self.command = command
        self.options = list(options)
        self.port = free_port()
        self.log_path = workdir / "server.log"
        self.env = {
            **os.environ,
            "FRONTDESK_DATABASE_URL": f"sqlite:///{workdir / 'fd.db'}",
            "FRONTDESK_ADMIN_PASSWORD": password,
            "FRONTDESK_SECRET_KEY": "test-" + secrets.token_hex(32),
            "FRONTDESK_DEMO": "true",
            "FRONTDESK_WIDGET_WRITES_PER_MINUTE": "100000",
            "FRONTDESK_NEW_CLIENTS_PER_HOUR": "100000",
            "FRONTDESK_SIGN_IN_ATTEMPTS_PER_15_MINUTES": "100000",
            "FRONTDESK_PASSWORD_HASH_METHOD": CHEAP_PASSWORD_HASH,
            "FRONTDESK_OUTBOX_DIR": str(workdir / "outbox"),
            "PYTHONUNBUFFERED": "1",
        }
        for name in ("FLASK_APP", "FLASK_DEBUG", "FLASK_RUN_PORT", "FRONTDESK_WIDGET_URL"):
            self.env.pop(name, None)
        self.flask = [sys.executable, "-m", "flask", "--app", "app"]
        self.process = None
        self.live = LiveServer(self.port, ADMIN_EMAIL, password, self.log_path)

    @property
    def base_url(self):
        return self.live.base_url

    def init_db(self):
        """``flask init-db``: the tables, the demo widget and the admin."""
        init = subprocess.run(
            [*self.flask, "init-db"],
            cwd=REPO_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if init.returncode != 0:
            raise RuntimeError(f"`flask init-db` failed:\n{init.stdout}{init.stderr}")

    def argv(self):
        if self.command == "gunicorn":
            return [
                sys.executable, "-m", "gunicorn", "--worker-class", "gevent", "--workers", "1",
                "--graceful-timeout", "5", "--bind", f"127.0.0.1:{self.port}", *self.options,
                "app:create_app()",
            ]  # fmt: skip
        return [*self.flask, "run", "--host", "127.0.0.1", "--port", str(self.port)]

    def start(self):
        """Start serving and wait until the health check answers."""
        assert self.process is None, "the server is already running"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.argv(), cwd=REPO_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        try:
            wait_until_healthy(f"{self.base_url}/healthz", self.process, self.log_path)
        except BaseException:
            self.stop()
            raise

    def stop(self, kill=False):
        """Stop the process (``kill``: at once, like a crash); its open connections close."""
        if self.process is None:
            return
        process, self.process = self.process, None
        if kill:
            process.kill()
        elif self.command == "gunicorn":
            process.send_signal(signal.SIGINT)  # gunicorn's quick shutdown: no wait for streams
        else:
            process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def restart(self):
        self.stop(kill=True)
        self.start()

    def __enter__(self):
        self.init_db()
        self.start()
        return self

    def __exit__(self, *exc_info):
        self.stop()


class CuttableProxy:
    """A TCP proxy in front of a server whose connections a test can cut, as a network drop would.

    Chromium keeps an already open response stream alive through Playwright's ``set_offline``
    (only new requests fail), so a test that needs a stream really cut goes through this proxy:
    ``cut()`` resets every open connection and refuses new ones (accepted, then reset at once)
    until ``restore()``. The server behind it keeps running.
    """

    def __init__(self, target: LiveServer):
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self.live = LiveServer(
            self.port, target.admin_email, target.admin_password, target.log_path
        )
        self._lock = threading.Lock()
        self._open = set()
        self._cut = False
        self._stopped = False
        self._thread = threading.Thread(target=self._accept, name="proxy-accept", daemon=True)
        self._thread.start()

    @staticmethod
    def _reset(sock):
        """Drop a connection: RST rather than an orderly FIN, and wake its pumping threads."""
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.shutdown(socket.SHUT_RDWR)

    def _accept(self):
        while not self._stopped:
            try:
                client, _address = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                refused = self._cut
            upstream = None
            if not refused:
                try:
                    upstream = socket.create_connection(("127.0.0.1", self.target.port), timeout=5)
                    upstream.settimeout(None)
                except OSError:
                    refused = True
            if refused:
                self._reset(client)
                client.close()
                continue
            with self._lock:
                self._open.update((client, upstream))
            pair = {"sockets": (client, upstream), "running": 2}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink, pair), daemon=True).start()

    def _pump(self, source, sink, pair):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        # One side ended: end both; the last of the two pumps closes the sockets.
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        with self._lock:
            pair["running"] -= 1
            last = pair["running"] == 0
            if last:
                self._open.difference_update(pair["sockets"])
        if last:
            for sock in pair["sockets"]:
                sock.close()

    def cut(self):
        """Reset every open connection; refuse new ones until ``restore()``."""
        with self._lock:
            self._cut = True
            sockets = list(self._open)
        for sock in sockets:
            self._reset(sock)

    def restore(self):
        with self._lock:
            self._cut = False

    def stop(self):
        self._stopped = True
        self.cut()
        self._thread.join(timeout=5)
        self._listener.close()


class ScaledServerProcess(ServerProcess):
    """A gunicorn :class:`ServerProcess` on a database the caller names, with more environment.

    Several of them on one PostgreSQL database, or one with ``options=["--workers", "2"]``, are
    Frontdesk scaled out; ``env`` adds or overrides settings (``FRONTDESK_RATELIMIT_STORAGE_URI``,
    a rate limit). ``workdir`` (made if missing) holds this server's log: one per server. Only
    one of several servers on a database needs ``init_db()``.
    """

    def __init__(self, workdir, database_url=None, env=None, options=(), password=ADMIN_PASSWORD):
        workdir = Path(workdir)
        workdir.mkdir(parents=True, exist_ok=True)
        # No control socket: by default every gunicorn of a user takes the same path.
        options = ["--no-control-socket", *options]
        super().__init__(workdir, command="gunicorn", options=options, password=password)
        if database_url:
            self.env["FRONTDESK_DATABASE_URL"] = database_url
        self.env.update(env or {})

    def log_text(self):
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


# --- a PostgreSQL database of a test's own ---------------------------------------------------

POSTGRES_URL = os.environ.get(
    "FRONTDESK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def postgres_or_skip(url=POSTGRES_URL):
    """A connection (autocommit) to the PostgreSQL server at ``url``. Without a reachable server
    the test is skipped, or fails when ``CI`` is set: there the PostgreSQL half must run."""
    import psycopg2  # here, so that bench.py can use this module without the driver
    import pytest

    try:
        server = psycopg2.connect(url, connect_timeout=3)
    except psycopg2.OperationalError as error:
        message = f"PostgreSQL is not reachable at {url}: {error}"
        if os.environ.get("CI"):
            pytest.fail(f"{message}\nCI is set, so the PostgreSQL tests must run.", pytrace=False)
        pytest.skip(message)
    server.autocommit = True
    return server


@contextlib.contextmanager
def postgres_database(name, url=POSTGRES_URL):
    """A new, empty PostgreSQL database ``name`` on the server at ``url`` (skipped, or failed
    under ``CI``, as :func:`postgres_or_skip` says); its URL, and dropped afterwards, open
    connections or not."""
    server = postgres_or_skip(url)
    try:
        with server.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
            cursor.execute(f"CREATE DATABASE {name}")
        yield url.rsplit("/", 1)[0] + "/" + name
    finally:
        with server.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        server.close()


def demo_widget_key(page_html):
    """The widget key the demo page embeds (from its JSON settings block)."""
    return re.search(r'"widget": "([^"]+)"', page_html).group(1)
