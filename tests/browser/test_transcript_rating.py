"""Transcript and rating in a real browser: a form client has both, a visitor neither."""

import uuid

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

AUTH_NONE = "No data required – client will appear"
AUTH_FORM = "Client provides information through form"
LAUNCHER = "Chat with us"
WIDGET_FRAME = "#frontdesk-widget iframe"
COMPOSER = "Write a message…"


def test_form_client_rates_and_asks_for_the_transcript(
    admin_page, visitor, live_server, set_auth_type
):
    set_auth_type(admin_page, AUTH_FORM)
    page = visitor()
    page.goto(live_server.demo_url)
    page.get_by_role("button", name=LAUNCHER).click()
    frame = page.frame_locator(WIDGET_FRAME)
    frame.get_by_label("Name", exact=True).fill("Grace Hopper")
    frame.get_by_label("Email", exact=True).fill("grace@example.com")
    frame.get_by_role("button", name="Start chat").click()
    message = f"Rate me [{uuid.uuid4().hex[:8]}]"
    frame.get_by_placeholder(COMPOSER).fill(message)
    frame.get_by_placeholder(COMPOSER).press("Enter")
    expect(frame.locator(".fd-mine").filter(has_text=message)).to_be_visible()

    frame.get_by_role("button", name="Email me the transcript").click()
    expect(frame.get_by_role("status")).to_contain_text(
        "We sent the transcript to grace@example.com."
    )

    frame.get_by_text("How was this chat?").click()
    frame.locator(".fd-verdict", has_text="Bad").click()
    frame.get_by_label("Anything to add? (optional)").fill("Slow answer")
    frame.get_by_role("button", name="Send rating").click()
    expect(frame.get_by_text("You rated this chat: bad.")).to_be_visible()
    frame.get_by_role("button", name="Change rating").click()
    frame.locator(".fd-verdict", has_text="Good").click()
    frame.get_by_role("button", name="Send rating").click()
    expect(frame.get_by_text("You rated this chat: good.")).to_be_visible()

    admin_page.goto(f"{live_server.admin_url}/")
    row = admin_page.locator(".inbox li").filter(has_text=message)
    expect(row.locator(".rating")).to_have_text("Rated good")
    row.locator("a").click()
    expect(admin_page.locator(".attempts")).to_contain_text(
        "Transcript sent to grace@example.com (by the client)"
    )


def test_a_visitor_sees_neither_control(admin_page, visitor, live_server, set_auth_type):
    set_auth_type(admin_page, AUTH_NONE)
    page = visitor()
    page.goto(live_server.demo_url)
    page.get_by_role("button", name=LAUNCHER).click()
    frame = page.frame_locator(WIDGET_FRAME)
    frame.get_by_placeholder(COMPOSER).fill("just a visitor")
    frame.get_by_placeholder(COMPOSER).press("Enter")
    expect(frame.locator(".fd-mine").filter(has_text="just a visitor")).to_be_visible()
    page.reload()
    page.get_by_role("button", name=LAUNCHER).click()
    frame = page.frame_locator(WIDGET_FRAME)
    expect(frame.get_by_text("just a visitor")).to_be_visible()
    expect(frame.get_by_role("button", name="Email me the transcript")).to_have_count(0)
    expect(frame.get_by_text("How was this chat?")).to_have_count(0)
