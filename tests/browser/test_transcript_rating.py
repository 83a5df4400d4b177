"""Transcript and rating in a real browser: a form client has both, a visitor neither."""

import pytest
from helpers import confirmation_links
from playwright.sync_api import expect

from browser.pages import (
    AUTH_FORM,
    AUTH_NONE,
    agent_replies,
    choose_auth_type,
    fill_in_form,
    open_chat,
    open_conversation,
    open_demo_widget,
    open_widget,
    unique,
    visitor_writes,
)

pytestmark = pytest.mark.browser


def test_form_client_rates_and_asks_for_the_transcript(
    admin_page, visitor, live_server, server_process
):
    choose_auth_type(admin_page, AUTH_FORM)
    page = visitor()
    frame = open_demo_widget(page, live_server)
    fill_in_form(frame, "Grace Hopper", "grace@example.com")
    message = unique("Rate me")
    visitor_writes(frame, message)
    # Nothing to rate before anyone answered; the first answer brings the rating, live.
    expect(frame.get_by_role("button", name="Email me the transcript")).to_be_visible()
    expect(frame.get_by_text("How was this chat?")).to_have_count(0)
    open_conversation(admin_page, live_server, message)
    answer = unique("Glad to help")
    agent_replies(admin_page, answer)
    expect(frame.get_by_text("How was this chat?")).to_be_visible()

    frame.get_by_role("button", name="Email me the transcript").click()
    expect(frame.get_by_role("status")).to_contain_text(
        "We sent a confirmation link to grace@example.com."
    )
    # The typed address is confirmed first: the link's page, its button, then the transcript.
    link = confirmation_links(server_process.env["FRONTDESK_OUTBOX_DIR"])[-1]
    confirm = visitor()
    confirm.goto(live_server.base_url + link)
    confirm.get_by_role("button", name="Yes, confirm").click()
    expect(confirm.get_by_text("grace@example.com is confirmed.")).to_be_visible()
    expect(confirm.get_by_text("We sent the transcript to grace@example.com.")).to_be_visible()

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
    row = admin_page.locator(".inbox li").filter(has_text=answer)
    expect(row.locator(".rating")).to_have_text("Rated good")
    row.locator("a").click()
    expect(admin_page.locator(".attempts")).to_contain_text(
        "Transcript sent to grace@example.com (by the client)"
    )


def test_a_visitor_sees_neither_control(admin_page, visitor, live_server):
    choose_auth_type(admin_page, AUTH_NONE)
    page = visitor()
    frame = open_chat(page, live_server)
    visitor_writes(frame, "just a visitor")
    page.reload()
    frame = open_widget(page)
    expect(frame.get_by_text("just a visitor")).to_be_visible()
    expect(frame.get_by_role("button", name="Email me the transcript")).to_have_count(0)
    expect(frame.get_by_text("How was this chat?")).to_have_count(0)
