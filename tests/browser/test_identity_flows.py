"""Verified identity and embedding rules in a real browser: signed tokens, logout, domains."""

import http.server
import threading

import pytest
from playwright.sync_api import expect

from browser.pages import (
    AUTH_CODE,
    AUTH_NONE,
    COMPOSER,
    DEMO_SIGN_IN,
    LAUNCHER,
    WIDGET_FRAME,
    choose_auth_type,
    open_chat,
    open_widget,
    save_general,
    unique,
    visitor_writes,
)

pytestmark = pytest.mark.browser


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


@pytest.fixture
def code_type_admin(admin_page):
    """The admin with the code type chosen; verification and domains reset afterwards."""
    choose_auth_type(admin_page, AUTH_CODE)
    yield admin_page
    save_general(admin_page, require_verified=False, allowed_domains="")


def test_signed_identity_with_verification_required(code_type_admin, visitor, live_server):
    save_general(code_type_admin, require_verified=True)

    page = visitor()
    page.goto(live_server.demo_url)
    page.get_by_label(DEMO_SIGN_IN).check()  # the demo shop's server signed Ada's identity
    frame = open_widget(page)
    expect(frame.locator(".fd-greeting")).to_have_text("Hi Ada Lovelace!")
    message = unique("Signed and sealed")
    visitor_writes(frame, message)

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
    stranger_frame = open_widget(impostor)
    expect(stranger_frame.get_by_text("We could not verify your sign-in.")).to_be_visible()
    expect(stranger_frame.get_by_placeholder(COMPOSER)).to_have_count(0)
    expect(stranger_frame.get_by_text(message)).to_have_count(0)


def test_logout_lets_the_next_person_start_fresh(code_type_admin, visitor, live_server):
    save_general(code_type_admin, require_verified=False)
    page = visitor()
    page.goto(live_server.demo_url)
    page.get_by_label(DEMO_SIGN_IN).check()
    frame = open_widget(page)
    message = unique("My private order question")
    visitor_writes(frame, message)

    frame.get_by_role("button", name="Minimize chat").click()  # it covers the shop's header
    page.get_by_label(DEMO_SIGN_IN).uncheck()  # Frontdesk("logout")
    expect(page.get_by_role("button", name=LAUNCHER)).to_have_count(0)
    expect(page.locator(WIDGET_FRAME)).to_have_count(0)

    # The next person signs in on the same browser, without a reload.
    page.evaluate("""Frontdesk("update", {custom_user_data: {id: "bob-7", name: "Bob"}})""")
    frame = open_widget(page)
    expect(frame.locator(".fd-greeting")).to_have_text("Hi Bob!")
    expect(frame.get_by_text(message)).to_have_count(0)
    expect(frame.locator(".fd-mine")).to_have_count(0)


def test_allowed_domains(code_type_admin, visitor, live_server):
    choose_auth_type(code_type_admin, AUTH_NONE)
    save_general(code_type_admin, allowed_domains=f"localhost:{live_server.port}")

    allowed = visitor()
    open_chat(allowed, live_server)

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
