"""Fixtures for the browser tests: the system Chromium, a live Frontdesk server, signed-in pages.

The browser tests drive Debian's Chromium (``/usr/bin/chromium``) through pytest-playwright
against the real app, started once per session as a ``flask run`` subprocess on a free port with
its own SQLite database (``helpers.ServerProcess``). Without Chromium every test here is skipped,
never failed. The admin signs in once per session; each admin page is a fresh browser context
holding that sign-in. The UI's words and the steps of each flow live in ``pages.py``.
"""

import os
import shutil
from pathlib import Path

import pytest
from helpers import CuttableProxy, ServerProcess
from playwright.sync_api import Page, expect

from browser.pages import AUTH_OPTIONAL_FORM, choose_auth_type, log_in, save_general

BROWSER_DIR = Path(__file__).resolve().parent
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


@pytest.fixture(scope="session")
def server_process(chromium_path, tmp_path_factory):
    """The real app in a subprocess (``flask run``) with a fresh SQLite database."""
    with ServerProcess(tmp_path_factory.mktemp("frontdesk-browser")) as server:
        yield server


@pytest.fixture(scope="session")
def live_server(server_process):
    """Where the session's server answers (a ``helpers.LiveServer``)."""
    return server_process.live


@pytest.fixture
def restartable_server(server_process):
    """The session's server, for a test that kills and restarts it (``restart()``: same port,
    same database, same secret key, so other tests' sign-ins stay valid)."""
    yield server_process
    if server_process.process is None:  # a test that stopped it leaves it serving again
        server_process.start()


@pytest.fixture
def cuttable_proxy(live_server):
    """A ``helpers.CuttableProxy`` in front of the session's server; ``.live`` addresses it."""
    proxy = CuttableProxy(live_server)
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture(scope="session")
def admin_storage_state(browser, live_server, tmp_path_factory):
    """The cookies of one real sign-in through the login form, for every admin page to start
    from (each test still gets a context of its own)."""
    context = browser.new_context()
    log_in(context.new_page(), live_server)
    path = tmp_path_factory.mktemp("admin-state") / "state.json"
    context.storage_state(path=path)
    context.close()
    return str(path)


@pytest.fixture
def admin_page(new_context, live_server, admin_storage_state) -> Page:
    """A page in its own browser context, signed in to the admin, on the inbox."""
    page = new_context(storage_state=admin_storage_state).new_page()
    page.goto(f"{live_server.admin_url}/")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    return page


@pytest.fixture
def visitor(new_context):
    """A factory of pages, each in a fresh browser context (fresh localStorage): one visitor."""

    def make() -> Page:
        return new_context().new_page()

    return make


@pytest.fixture
def multilingual(admin_page):
    """The optional form (form and guest choice), in the visitor's browser language."""
    choose_auth_type(admin_page, AUTH_OPTIONAL_FORM)
    save_general(admin_page, follow_browser=True)
    yield admin_page
    save_general(admin_page, follow_browser=False)
