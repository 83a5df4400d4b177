"""Fixtures for the browser tests: the system Chromium, a live Frontdesk server and admin helpers.

The browser tests drive Debian's Chromium (``/usr/bin/chromium``) through pytest-playwright
against the real app, started once per session as a ``flask run`` subprocess on a free port with
its own SQLite database. Without Chromium every test here is skipped, never failed.
"""

import contextlib
import os
import re
import secrets
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from support import free_port

BROWSER_DIR = Path(__file__).resolve().parent
REPO_ROOT = BROWSER_DIR.parents[1]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Playwright starts Chromium with ThirdPartyStoragePartitioning among its --disable-features
# (microsoft/playwright#32230). Without partitioning this Chromium denies a third-party iframe
# all localStorage ("Access is denied for this document"), unlike Chrome as shipped, which gives
# it storage partitioned by the top-level site; the widget would then keep its visitor token for
# one page load only. Chromium keeps the last of a repeated switch, so this later flag replaces
# Playwright's list with the same list minus ThirdPartyStoragePartitioning.
PLAYWRIGHT_DISABLED_FEATURES_BUT_PARTITIONING = [
    "AvoidUnnecessaryBeforeUnloadCheckSync",
    "DestroyProfileOnBrowserClose",
    "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable",
    "LensOverlay",
    "MediaRouter",
    "PaintHolding",
    "AvoidCorsURLLoaderRestartOnRedirect",
    "OptimizationHints",
    "NetworkTimeServiceQuerying",
    "AimEnabled",
    "PreconnectToSearch",
]
CHROMIUM_ARGS.append(
    "--disable-features=" + ",".join(PLAYWRIGHT_DISABLED_FEATURES_BUT_PARTITIONING)
)
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "browser-tests-Pa55word"
STARTUP_TIMEOUT = 20.0


def find_chromium():
    """The system Chromium's path, or None when it is not installed."""
    if Path("/usr/bin/chromium").is_file() and os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    return shutil.which("chromium")


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config, items):
    """Mark every test under tests/browser as ``browser``; skip them all without Chromium."""
    chromium = find_chromium()
    skip = pytest.mark.skip(reason="Chromium not found (/usr/bin/chromium or `chromium` on PATH)")
    for item in items:
        if BROWSER_DIR not in Path(str(item.path)).resolve().parents:
            continue  # this hook sees the whole session's items; only ours are touched
        item.add_marker(pytest.mark.browser)
        if chromium is None:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def chromium_path():
    path = find_chromium()
    if path is None:
        pytest.skip("Chromium not found (/usr/bin/chromium or `chromium` on PATH)")
    return path


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args, chromium_path):
    """pytest-playwright's launch options, with the system Chromium (no downloaded browser)."""
    return {
        **browser_type_launch_args,
        "executable_path": chromium_path,
        "args": CHROMIUM_ARGS,
        "headless": True,
    }


@dataclass(frozen=True)
class LiveServer:
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


def wait_until_healthy(url, process, log_path, timeout=STARTUP_TIMEOUT):
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
    """``flask run`` for one SQLite database on one port, which can be stopped and started again.

    ``restart()`` kills the process, so every open stream is cut as a crash would cut it, and
    serves the same database on the same port again (the same secret key keeps the agents'
    session cookies valid).
    """

    def __init__(self, tmp_path: Path):
        self.port = free_port()
        self.log_path = tmp_path / "server.log"
        self.env = {
            **os.environ,
            "FRONTDESK_DATABASE_URL": f"sqlite:///{tmp_path / 'fd.db'}",
            "FRONTDESK_ADMIN_PASSWORD": ADMIN_PASSWORD,
            "FRONTDESK_SECRET_KEY": "test-" + secrets.token_hex(32),
            "FRONTDESK_DEMO": "true",
            "FRONTDESK_WIDGET_WRITES_PER_MINUTE": "100000",
            "FRONTDESK_NEW_CLIENTS_PER_HOUR": "100000",
            "FRONTDESK_SIGN_IN_ATTEMPTS_PER_15_MINUTES": "100000",
            "FRONTDESK_OUTBOX_DIR": str(tmp_path / "outbox"),
            "PYTHONUNBUFFERED": "1",
        }
        for name in ("FLASK_APP", "FLASK_DEBUG", "FLASK_RUN_PORT", "FRONTDESK_WIDGET_URL"):
            self.env.pop(name, None)
        self.flask = [sys.executable, "-m", "flask", "--app", "app"]
        self.process = None
        self.live = LiveServer(self.port, ADMIN_EMAIL, ADMIN_PASSWORD, self.log_path)

    def init_db(self):
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

    def start(self):
        """Start serving and wait until the health check answers."""
        assert self.process is None, "the server is already running"
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*self.flask, "run", "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=REPO_ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_until_healthy(f"{self.live.base_url}/healthz", self.process, self.log_path)
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
        else:
            process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def restart(self):
        self.stop(kill=True)
        self.start()


@pytest.fixture(scope="session")
def live_server(chromium_path):
    """The real app in a subprocess (``flask run``) with a fresh SQLite database."""
    with tempfile.TemporaryDirectory(prefix="frontdesk-browser-") as tmp:
        server = ServerProcess(Path(tmp))
        server.init_db()
        server.start()
        try:
            yield server.live
        finally:
            server.stop()


@pytest.fixture
def restartable_server(chromium_path, tmp_path):
    """A server of this test's own (own port, own database) that the test may stop and restart.

    ``restartable_server.live`` is its :class:`LiveServer`; ``restart()`` kills the process and
    starts it again on the same port and database.
    """
    server = ServerProcess(tmp_path)
    server.init_db()
    server.start()
    try:
        yield server
    finally:
        server.stop()


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


@pytest.fixture
def cuttable_proxy(live_server):
    """A :class:`CuttableProxy` in front of the session's server; ``.live`` addresses it."""
    proxy = CuttableProxy(live_server)
    try:
        yield proxy
    finally:
        proxy.stop()


def log_in(page: Page, server: LiveServer):
    """Sign in to the admin with the seeded admin account; ends on the inbox."""
    page.goto(f"{server.admin_url}/login")
    page.get_by_label("Email", exact=True).fill(server.admin_email)
    page.get_by_label("Password", exact=True).fill(server.admin_password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server.admin_url}/")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def choose_auth_type(page: Page, label_text: str):
    """Administration › General: pick the client authentication type containing ``label_text``.

    ``page`` is any signed-in admin page (each carries the "Administration" nav link).
    """
    page.get_by_role("link", name="Administration").click()
    expect(page).to_have_url(re.compile(r"/admin/widgets/\d+/general$"))
    form = page.locator("form#widget-general")
    form.locator("label.option", has_text=label_text).get_by_role("radio").check()
    form.get_by_role("button", name="Save").click()
    saved = page.get_by_role("status")
    expect(saved).to_contain_text("Saved.")
    checked = page.locator("form#widget-general label.option", has_text=label_text)
    expect(checked.get_by_role("radio")).to_be_checked()


@pytest.fixture(name="set_auth_type")
def set_auth_type_fixture():
    """The ``set_auth_type(page, label_text)`` helper, as a fixture.

    Test modules take helpers from fixtures rather than ``import conftest``: with a
    ``tests/conftest.py`` next to this one, which module ``conftest`` names is not reliable.
    """
    return choose_auth_type


@pytest.fixture
def admin_page(new_context, live_server) -> Page:
    """A page in its own browser context, signed in to the admin."""
    page = new_context().new_page()
    log_in(page, live_server)
    return page


@pytest.fixture
def visitor(new_context):
    """A factory of pages, each in a fresh browser context (fresh localStorage): one visitor."""

    def make() -> Page:
        return new_context().new_page()

    return make


@pytest.fixture(name="sign_in")
def sign_in_fixture():
    """The ``sign_in(page, server)`` helper: ``log_in`` for a server of a test's own."""
    return log_in
