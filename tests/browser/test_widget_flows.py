"""The widget end to end, in a real browser: one flow per client authentication type.

The demo host page is served from ``localhost`` and the widget iframe from ``127.0.0.1``, so the
iframe is a real third-party frame. Every test sets the authentication type it needs (all tests
share one server and one database) and uses separate browser contexts for the agent and for each
visitor, so a visitor starts with empty localStorage.
"""

import re

import pytest
from playwright.sync_api import FrameLocator, Page, expect

from browser.pages import (
    AUTH_CODE,
    AUTH_FORM,
    AUTH_NONE,
    AUTH_OPTIONAL_FORM,
    COMPOSER,
    DEMO_SIGN_IN,
    LAUNCHER,
    WIDGET_FRAME,
    agent_replies,
    choose_auth_type,
    conversation_heading,
    fill_in_form,
    open_conversation,
    open_demo_widget,
    open_widget,
    unique,
    visitor_writes,
)

pytestmark = pytest.mark.browser

VISITOR_NAME = re.compile(r"Visitor #\d+")


def expect_chat_pane(frame: FrameLocator):
    """The chat is shown, and no login form."""
    expect(frame.get_by_placeholder(COMPOSER)).to_be_visible()
    expect(frame.locator("form.fd-contact")).to_have_count(0)
    expect(frame.get_by_role("button", name="Start chat")).to_have_count(0)


def client_detail(admin: Page, term):
    """The value next to ``term`` in the conversation page's client card."""
    return (
        admin.locator("aside.client dt")
        .filter(has_text=re.compile(rf"^{term}$"))
        .locator("xpath=following-sibling::dd[1]")
    )


def test_no_data_required(admin_page, visitor, live_server):
    choose_auth_type(admin_page, AUTH_NONE)
    page = visitor()
    frame = open_demo_widget(page, live_server)
    expect_chat_pane(frame)
    expect(frame.get_by_label("Name", exact=True)).to_have_count(0)
    message = unique("Do you ship to Tromsø?")
    visitor_writes(frame, message)

    # The visitor is recognised again after a reload, by the token in the iframe's localStorage.
    page.reload()
    frame = open_widget(page)
    expect(frame.locator(".fd-mine").filter(has_text=message)).to_be_visible()
    expect_chat_pane(frame)

    entry = open_conversation(admin_page, live_server, message)
    assert VISITOR_NAME.search(entry), entry
    expect(conversation_heading(admin_page)).to_have_text(VISITOR_NAME)
    expect(client_detail(admin_page, "Identified as")).to_have_text("visitor")


def test_information_through_code(admin_page, visitor, live_server):
    choose_auth_type(admin_page, AUTH_CODE)
    page = visitor()
    with page.expect_response(lambda response: "/settings.json" in response.url) as settings:
        page.goto(live_server.demo_url)
    assert settings.value.json()["auth_type"] == "code"
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(1000)  # the one deliberate pause: the launcher must stay away
    expect(page.get_by_role("button", name=LAUNCHER)).to_have_count(0)
    expect(page.locator("#frontdesk-widget")).to_have_count(0)

    # Signing in on the host page hands the user's data over; the launcher appears, no reload.
    page.evaluate("window.stillTheSamePage = true")
    page.get_by_label(DEMO_SIGN_IN).check()
    frame = open_widget(page)
    assert page.evaluate("window.stillTheSamePage === true"), "the host page was reloaded"
    expect(frame.locator(".fd-greeting")).to_have_text("Hi Ada Lovelace!")
    expect_chat_pane(frame)
    message = unique("Is my Premium order on its way?")
    visitor_writes(frame, message)

    # The user's data travelled by postMessage, never in the iframe's address.
    src = page.locator(WIDGET_FRAME).get_attribute("src")
    frame_urls = [f.url for f in page.frames if "/widget/" in f.url]
    assert frame_urls, [f.url for f in page.frames]
    for url in [src, *frame_urls]:
        for secret in ("Ada", "Lovelace", "ada@example.com", "ada%40example.com", "demo-42"):
            assert secret not in url, url

    entry = open_conversation(admin_page, live_server, message)
    assert "Ada Lovelace" in entry, entry
    assert "ada@example.com" in entry, entry
    expect(conversation_heading(admin_page)).to_have_text("Ada Lovelace")
    expect(client_detail(admin_page, "Email")).to_have_text("ada@example.com")
    expect(client_detail(admin_page, "Identified as")).to_have_text("site user")
    expect(client_detail(admin_page, "User id on the site")).to_have_text("demo-42")
    expect(client_detail(admin_page, "plan")).to_have_text("Premium")
    expect(client_detail(admin_page, "phone")).to_have_text("+44 20 7946 0000")


def test_information_through_form(admin_page, visitor, live_server):
    choose_auth_type(admin_page, AUTH_FORM)
    page = visitor()
    frame = open_demo_widget(page, live_server)
    form = frame.locator("form.fd-contact")
    name = frame.get_by_label("Name", exact=True)
    email = frame.get_by_label("Email", exact=True)
    start = frame.get_by_role("button", name="Start chat")
    expect(name).to_be_visible()
    expect(email).to_be_visible()
    expect(start).to_be_visible()
    expect(frame.get_by_role("button", name="Continue as guest")).to_have_count(0)
    expect(frame.get_by_placeholder(COMPOSER)).to_have_count(0)

    start.click()
    expect(form.get_by_text("Please enter your name.")).to_be_visible()
    expect(form.get_by_text("Please enter your email address.")).to_be_visible()

    name.fill("Grace Hopper")
    email.fill("grace@")
    start.click()
    expect(form.get_by_text("Please enter a valid email address")).to_be_visible()
    expect(form.get_by_text("Please enter your name.")).to_have_count(0)
    expect(name).to_have_value("Grace Hopper")

    email.fill("grace@example.com")
    start.click()
    expect_chat_pane(frame)
    expect(frame.locator(".fd-greeting")).to_have_text("Hi Grace Hopper!")
    message = unique("Which size is the Fjell jumper?")
    visitor_writes(frame, message)

    entry = open_conversation(admin_page, live_server, message)
    assert "Grace Hopper" in entry, entry
    assert "grace@example.com" in entry, entry
    expect(conversation_heading(admin_page)).to_have_text("Grace Hopper")
    expect(client_detail(admin_page, "Email")).to_have_text("grace@example.com")
    expect(client_detail(admin_page, "Identified as")).to_have_text("contact")


def test_optional_form(admin_page, visitor, live_server):
    choose_auth_type(admin_page, AUTH_OPTIONAL_FORM)

    guest = visitor()
    frame = open_demo_widget(guest, live_server)
    expect(frame.get_by_label("Name", exact=True)).to_be_visible()
    expect(frame.get_by_label("Email", exact=True)).to_be_visible()
    expect(frame.get_by_role("button", name="Start chat")).to_be_visible()
    frame.get_by_role("button", name="Continue as guest").click()
    expect_chat_pane(frame)
    expect(frame.locator(".fd-greeting")).to_have_count(0)
    guest_message = unique("Just browsing, any discounts?")
    visitor_writes(frame, guest_message)

    # A second visitor fills in the form instead.
    named = visitor()
    frame = open_demo_widget(named, live_server)
    fill_in_form(frame, "Linus Example", "linus@example.com")
    expect_chat_pane(frame)
    expect(frame.locator(".fd-greeting")).to_have_text("Hi Linus Example!")
    named_message = unique("Can I return boots after a hike?")
    visitor_writes(frame, named_message)

    entry = open_conversation(admin_page, live_server, guest_message)
    assert VISITOR_NAME.search(entry), entry
    expect(conversation_heading(admin_page)).to_have_text(VISITOR_NAME)
    expect(client_detail(admin_page, "Identified as")).to_have_text("guest")

    entry = open_conversation(admin_page, live_server, named_message)
    assert "Linus Example" in entry, entry
    expect(client_detail(admin_page, "Email")).to_have_text("linus@example.com")


def test_agent_reply_reaches_visitor(admin_page, visitor, live_server):
    choose_auth_type(admin_page, AUTH_NONE)
    page = visitor()
    frame = open_demo_widget(page, live_server)
    message = unique("Do you ship abroad?")
    visitor_writes(frame, message)

    open_conversation(admin_page, live_server, message)
    agent_replies(admin_page, "We ship everywhere")

    page.reload()
    frame = open_widget(page)
    expect(frame.locator(".fd-mine").filter(has_text=message)).to_be_visible()
    expect(frame.locator(".fd-theirs").filter(has_text="We ship everywhere")).to_be_visible()


def test_unknown_widget_key(visitor, live_server):
    page = visitor()
    response = page.goto(f"{live_server.base_url}/widget/nope")
    assert response is not None
    assert response.status == 404
    expect(page.get_by_text("This chat is not available.")).to_be_visible()
    expect(page.get_by_placeholder(COMPOSER)).to_have_count(0)
