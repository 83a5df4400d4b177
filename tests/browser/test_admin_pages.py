"""Every admin page in Chromium at desktop and phone width: no axe-core violation, no sideways
scrolling at 390 px, and a navigation that folds into a menu on a phone."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from browser.axe import assert_no_axe_violations
from browser.pages import (
    AUTH_FORM,
    AUTH_NONE,
    START_NEW,
    choose_auth_type,
    fill_in_form,
    open_chat,
    open_conversation,
    open_demo_widget,
    unique,
    visitor_writes,
)

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
WIDTHS = {"desktop": DESKTOP, "phone": PHONE}
# Set FRONTDESK_SHOTS_DIR to keep a full-page screenshot of every page checked here, to look at.
SHOTS_DIR = os.environ.get("FRONTDESK_SHOTS_DIR")


def save_screenshot(page, name):
    """A full-page screenshot in FRONTDESK_SHOTS_DIR, when it is set."""
    if SHOTS_DIR:
        Path(SHOTS_DIR).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=Path(SHOTS_DIR) / f"{name}.png", full_page=True)


@pytest.fixture(scope="module")
def admin_paths(browser, live_server, admin_storage_state):
    """The address of every admin page, after seeding what they show: a contact (the form type)
    with a closed conversation and an open one, and an anonymous visitor's conversation."""
    admin = browser.new_context(storage_state=admin_storage_state)
    visitor = browser.new_context()
    try:
        page = admin.new_page()
        page.goto(f"{live_server.admin_url}/")
        choose_auth_type(page, AUTH_FORM)
        widget_general = page.url
        frame = open_demo_widget(visitor.new_page(), live_server)
        fill_in_form(frame, "Grace Hopper", f"grace.{unique('x')[-9:-1]}@example.com")
        first = unique("Where is my parcel?")
        visitor_writes(frame, first)
        open_conversation(page, live_server, first)
        page.get_by_role("button", name="Close conversation").click()
        expect(page.get_by_role("button", name="Reopen")).to_be_visible()
        closed_conversation = page.url
        frame.get_by_role("button", name=START_NEW).click()
        second = unique("Another question")
        visitor_writes(frame, second)
        open_conversation(page, live_server, second)
        conversation = page.url
        page.get_by_role("link", name="All conversations", exact=True).click()
        contact = page.url
        page.get_by_role("link", name="Delete this contact's data").click()
        delete_contact = page.url
        page.goto(f"{live_server.admin_url}/agents/")
        add = page.locator("form.card")
        add.get_by_label("Name").fill("Sam Agent")
        add.get_by_label("Email").fill(f"sam.{unique('x')[-9:-1]}@example.com")
        add.get_by_label("Password").fill("a long enough password")
        add.get_by_role("button", name="Add agent").click()
        page.get_by_role("link", name="Sessions").first.click()
        sessions = page.url
        choose_auth_type(page, AUTH_NONE)
        stranger = browser.new_context()  # not the contact: a fresh visitor token
        anonymous = open_chat(stranger.new_page(), live_server)
        third = unique("Just a visitor")
        visitor_writes(anonymous, third)
        open_conversation(page, live_server, third)
        page.get_by_role("link", name="Delete this visitor's data").click()
        delete_visitor = page.url
        stranger.close()
    finally:
        visitor.close()
        admin.close()
    base = widget_general.rsplit("/", 1)[0]
    return {
        "inbox": f"{live_server.admin_url}/",
        "inbox-closed": f"{live_server.admin_url}/?status=closed",
        "inbox-search": f"{live_server.admin_url}/?q=visitor&filter=unassigned",
        "conversation": conversation,
        "conversation-closed": closed_conversation,
        "contacts": f"{live_server.admin_url}/contacts/",
        "contact": contact,
        "delete-contact": delete_contact,
        "delete-visitor": delete_visitor,
        "reports": f"{live_server.admin_url}/reports",
        "widgets": f"{live_server.admin_url}/widgets/",
        "widget-general": widget_general,
        "widget-install": f"{base}/install",
        "widget-canned": f"{base}/canned",
        "widget-language": f"{base}/language",
        "widget-language-de": f"{base}/language?lang=de",
        "widget-language-filtered": f"{base}/language?lang=fr&q=note&only=changed",
        "agents": f"{live_server.admin_url}/agents/",
        "sessions": sessions,
        "account": f"{live_server.admin_url}/account/",
    }


ADMIN_PAGES = [
    "inbox",
    "inbox-closed",
    "inbox-search",
    "conversation",
    "conversation-closed",
    "contacts",
    "contact",
    "delete-contact",
    "delete-visitor",
    "reports",
    "widgets",
    "widget-general",
    "widget-install",
    "widget-canned",
    "widget-language",
    "widget-language-de",
    "widget-language-filtered",
    "agents",
    "sessions",
    "account",
]


def assert_fits(page, viewport):
    """No sideways scrolling: the document is no wider than the viewport."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= viewport["width"], f"{page.url} is {width} px wide"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", ADMIN_PAGES)
def test_admin_page_is_accessible_and_fits(
    name, width, admin_paths, new_context, admin_storage_state
):
    viewport = WIDTHS[width]
    page = new_context(
        storage_state=admin_storage_state, viewport=viewport, bypass_csp=True
    ).new_page()  # bypass_csp: axe-core is injected as an inline script
    response = page.goto(admin_paths[name])
    assert response is not None and response.status == 200
    save_screenshot(page, f"{name}-{width}")
    assert_no_axe_violations(page)
    if width == "phone":
        assert_fits(page, viewport)


@pytest.mark.parametrize("width", WIDTHS)
def test_login_page_is_accessible_and_fits(width, new_context, live_server):
    viewport = WIDTHS[width]
    page = new_context(viewport=viewport, bypass_csp=True).new_page()
    page.goto(f"{live_server.admin_url}/login")
    assert_no_axe_violations(page)
    if width == "phone":
        assert_fits(page, viewport)


def test_phone_navigation_is_a_menu(new_context, admin_storage_state, live_server):
    page = new_context(storage_state=admin_storage_state, viewport=PHONE).new_page()
    page.goto(f"{live_server.admin_url}/")
    menu = page.get_by_role("button", name="Menu")
    expect(menu).to_have_attribute("aria-expanded", "false")
    expect(page.get_by_role("link", name="Reports")).to_be_hidden()
    expect(page.get_by_role("button", name="Sign out")).to_be_hidden()

    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    sign_out = page.get_by_role("button", name="Sign out")
    expect(sign_out).to_be_visible()
    box = sign_out.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    page.get_by_role("link", name="Reports").click()
    expect(page).to_have_url(re.compile(r"/admin/reports$"))
    expect(page.get_by_role("button", name="Menu")).to_have_attribute("aria-expanded", "false")


def test_open_phone_menu_is_accessible(new_context, admin_storage_state, live_server):
    page = new_context(
        storage_state=admin_storage_state, viewport=PHONE, bypass_csp=True
    ).new_page()
    page.goto(f"{live_server.admin_url}/")
    page.get_by_role("button", name="Menu").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    save_screenshot(page, "menu-open-phone")
    assert_no_axe_violations(page)
    assert_fits(page, PHONE)
    page.keyboard.press("Escape")
    expect(page.get_by_role("button", name="Sign out")).to_be_hidden()
    expect(page.get_by_role("button", name="Menu")).to_be_focused()


def test_phone_navigation_without_scripts_shows_the_links(
    new_context, admin_storage_state, live_server
):
    page = new_context(
        storage_state=admin_storage_state, viewport=PHONE, java_script_enabled=False
    ).new_page()
    page.goto(f"{live_server.admin_url}/")
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    expect(page.get_by_role("link", name="Reports")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_in_viewport()
    assert_fits(page, PHONE)


def test_desktop_navigation_shows_every_link(new_context, admin_storage_state, live_server):
    page = new_context(storage_state=admin_storage_state, viewport=DESKTOP).new_page()
    page.goto(f"{live_server.admin_url}/")
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    for link in ("Inbox", "Reports", "Contacts", "Agents", "Administration"):
        expect(
            page.get_by_role("navigation", name="Main").get_by_role("link", name=link)
        ).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


@pytest.mark.parametrize("width", WIDTHS)
def test_label_editor_after_a_failed_save_is_accessible(
    width, new_context, admin_storage_state, admin_paths
):
    viewport = WIDTHS[width]
    page = new_context(
        storage_state=admin_storage_state, viewport=viewport, bypass_csp=True
    ).new_page()
    page.goto(admin_paths["widget-language"])
    page.get_by_label("error.name_too_long").fill("At most {maxx}")
    expect(page.get_by_text("remove unknown {maxx}")).to_be_visible()  # flagged while typing
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert")).to_contain_text("could not be saved")
    save_screenshot(page, f"widget-language-failed-{width}")
    assert_no_axe_violations(page)
    assert_fits(page, viewport)


def test_install_page_copy_button(new_context, admin_storage_state, admin_paths):
    context = new_context(
        storage_state=admin_storage_state, permissions=["clipboard-read", "clipboard-write"]
    )
    page = context.new_page()
    page.goto(admin_paths["widget-install"])
    code = page.get_by_role("region", name="The embed code")
    expect(code).to_have_attribute("tabindex", "0")
    page.get_by_role("button", name="Copy").first.click()
    expect(page.get_by_role("status").first).to_have_text("Copied")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == code.text_content()
    assert "window.frontdeskSettings" in copied and "/embed.js" in copied


def test_install_snippet_scrolls_by_keyboard(new_context, admin_storage_state, admin_paths):
    page = new_context(storage_state=admin_storage_state, viewport=PHONE).new_page()
    page.goto(admin_paths["widget-install"])
    code = page.get_by_role("region", name="The embed code")
    code.focus()
    expect(code).to_be_focused()
    assert code.evaluate("element => element.scrollWidth > element.clientWidth")
    for _ in range(5):
        code.press("ArrowRight")
    page.wait_for_function("document.getElementById('snippet').scrollLeft > 0")
