"""Verified identity and embedding rules in a real browser: signed tokens, logout, domains."""

import http.server
import threading
import uuid

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

AUTH_CODE = "You provide information about client through code"
LAUNCHER = "Chat with us"
WIDGET_FRAME = "#frontdesk-widget iframe"
COMPOSER = "Write a message…"
SIGN_IN = "Log in as a demo customer (Ada Lovelace)"


def unique(text):
    return f"{text} [{uuid.uuid4().hex[:8]}]"


def serve_page(html):
    """Serve ``html`` from a throwaway server on loopback; its address."""
    body = html.encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/"


def save_general(page: Page, require_verified=None, allowed_domains=None):
    """Administration › General: set the verification switch and the allowed domains."""
    page.get_by_role("link", name="Administration").click()
    form = page.locator("form#widget-general")
    if require_verified is not None:
        form.get_by_label("Require verified identity").set_checked(require_verified)
    if allowed_domains is not None:
        form.get_by_label("Allowed domains").fill(allowed_domains)
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved.")


@pytest.fixture
def code_type_admin(admin_page, set_auth_type):
    """The admin with the code type chosen; verification and domains reset afterwards."""
    set_auth_type(admin_page, AUTH_CODE)
    yield admin_page
    save_general(admin_page, require_verified=False, allowed_domains="")


def test_signed_identity_with_verification_required(code_type_admin, visitor, live_server):
    save_general(code_type_admin, require_verified=True)

    page = visitor()
    page.goto(live_server.demo_url)
    page.get_by_label(SIGN_IN).check()  # the demo shop's server signed Ada's identity
    page.get_by_role("button", name=LAUNCHER).click()
    frame = page.frame_locator(WIDGET_FRAME)
    expect(frame.locator(".fd-greeting")).to_have_text("Hi Ada Lovelace!")
    message = unique("Signed and sealed")
    frame.get_by_placeholder(COMPOSER).fill(message)
    frame.get_by_placeholder(COMPOSER).press("Enter")
    expect(frame.locator(".fd-mine").filter(has_text=message)).to_be_visible()

    code_type_admin.goto(f"{live_server.admin_url}/")
    row = code_type_admin.locator(".inbox li").filter(has_text=message)
    expect(row).to_contain_text("Ada Lovelace")
    expect(row.locator(".kind")).to_have_text("site user")

    # Someone types Ada's data into the console of another browser, without a token.
    impostor = visitor()
    impostor.goto(live_server.demo_url)
    impostor.wait_for_function("window.Frontdesk && window.Frontdesk.loaded")
    impostor.evaluate(
        """Frontdesk("update", {custom_user_data: {id: "demo-42", name: "Ada Lovelace",
                                                    email: "ada@example.com"}})"""
    )
    impostor.get_by_role("button", name=LAUNCHER).click()
    stranger_frame = impostor.frame_locator(WIDGET_FRAME)
    expect(stranger_frame.get_by_text("We could not verify your sign-in.")).to_be_visible()
    expect(stranger_frame.get_by_placeholder(COMPOSER)).to_have_count(0)
    expect(stranger_frame.get_by_text(message)).to_have_count(0)


def test_logout_lets_the_next_person_start_fresh(code_type_admin, visitor, live_server):
    save_general(code_type_admin, require_verified=False)
    page = visitor()
    page.goto(live_server.demo_url)
    page.get_by_label(SIGN_IN).check()
    page.get_by_role("button", name=LAUNCHER).click()
    frame = page.frame_locator(WIDGET_FRAME)
    message = unique("My private order question")
    frame.get_by_placeholder(COMPOSER).fill(message)
    frame.get_by_placeholder(COMPOSER).press("Enter")
    expect(frame.locator(".fd-mine").filter(has_text=message)).to_be_visible()

    frame.get_by_role("button", name="Minimize chat").click()  # it covers the shop's header
    page.get_by_label(SIGN_IN).uncheck()  # Frontdesk("logout")
    expect(page.get_by_role("button", name=LAUNCHER)).to_have_count(0)
    expect(page.locator(WIDGET_FRAME)).to_have_count(0)

    # The next person signs in on the same browser, without a reload.
    page.evaluate("""Frontdesk("update", {custom_user_data: {id: "bob-7", name: "Bob"}})""")
    page.get_by_role("button", name=LAUNCHER).click()
    frame = page.frame_locator(WIDGET_FRAME)
    expect(frame.locator(".fd-greeting")).to_have_text("Hi Bob!")
    expect(frame.get_by_text(message)).to_have_count(0)
    expect(frame.locator(".fd-mine")).to_have_count(0)


def test_allowed_domains(code_type_admin, visitor, live_server, set_auth_type):
    set_auth_type(code_type_admin, "No data required – client will appear")
    save_general(code_type_admin, allowed_domains=f"localhost:{live_server.port}")

    allowed = visitor()
    allowed.goto(live_server.demo_url)
    allowed.get_by_role("button", name=LAUNCHER).click()
    expect(allowed.frame_locator(WIDGET_FRAME).get_by_placeholder(COMPOSER)).to_be_visible()

    key = allowed.evaluate("window.frontdeskSettings.widget")
    widget_origin = live_server.base_url
    page_html = f"""<!doctype html><title>Someone else's site</title><h1>Not a customer</h1>
        <script>window.frontdeskSettings = {{widget: "{key}"}};</script>
        <script src="{widget_origin}/embed.js" async></script>"""
    other_site = serve_page(page_html)  # another origin on this machine, not in the list
    forbidden = visitor()
    # The server refuses the loader's settings to this site without a CORS header, so the
    # browser does not even let the page read the refusal.
    refused = lambda request: "/settings.json" in request.url  # noqa: E731
    with forbidden.expect_event("requestfailed", predicate=refused):
        forbidden.goto(other_site)
    forbidden.wait_for_timeout(1000)  # the launcher must stay away
    expect(forbidden.get_by_role("button", name=LAUNCHER)).to_have_count(0)

    # Even an iframe forced in by hand is refused by the browser (frame-ancestors).
    forbidden.evaluate(
        """url => { const f = document.createElement("iframe"); f.id = "forced"; f.src = url;
                   document.body.appendChild(f); }""",
        f"{widget_origin}/widget/{key}",
    )
    forbidden.wait_for_timeout(1000)
    expect(forbidden.frame_locator("#forced").locator(".fd-window")).to_have_count(0)
