"""A reply that reaches a visitor whose widget is closed, in a real browser on the demo shop.

The launcher counts the unread replies (in its accessible name too) and a bubble previews the
newest; both outlast a reload, because the count is kept on the server, until the visitor opens the
chat; then they go, and stay gone after a reload. A tone sounds (the page was used), and the title
flashes while the tab is hidden. Screenshots of the closed launcher go to /tmp/shots-widget-notice.
"""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from browser.axe import assert_no_axe_violations
from browser.pages import (
    AUTH_NONE,
    LAUNCHER,
    WIDGET_FRAME,
    agent_replies,
    choose_auth_type,
    open_chat,
    open_conversation,
    unique,
    visitor_writes,
)

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("FRONTDESK_SHOTS", "/tmp/shots-widget-notice"))
LIVE_MS = 10_000
# Counts the tones the page plays: WebAudio oscillators started.
COUNT_TONES = """
window.frontdeskTones = 0;
const start = OscillatorNode.prototype.start;
OscillatorNode.prototype.start = function (...args) {
  window.frontdeskTones += 1;
  return start.apply(this, args);
};
"""
PRETEND_HIDDEN = """hidden => {
  Object.defineProperty(document, "hidden", {configurable: true, get: () => hidden});
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def bubble(page: Page):
    return page.locator("#frontdesk-widget .bubble")


def unread_launcher(page: Page, count):
    noun = "message" if count == 1 else "messages"
    return page.get_by_role("button", name=f"{LAUNCHER}, {count} unread {noun}", exact=True)


def close_widget(page: Page):
    page.get_by_role("button", name="Close chat").click()
    expect(page.locator(WIDGET_FRAME)).to_be_hidden()


def read_mark(response):
    return "/unread" in response.url and response.request.method == "POST"


def reload_and_hear_the_count(page: Page):
    """Reload; the hidden iframe asks the server for the unread count. Its answer."""
    with page.expect_response(
        lambda response: "/unread" in response.url and response.request.method == "GET",
        timeout=LIVE_MS,
    ) as answer:
        page.reload()
    return answer.value.json()


def test_a_reply_to_a_closed_widget_waits_on_the_launcher_until_read(
    admin_page, visitor, live_server
):
    choose_auth_type(admin_page, AUTH_NONE)
    page = visitor()
    page.add_init_script(COUNT_TONES)
    frame = open_chat(page, live_server)
    question = unique("Do you ship to Norway?")
    visitor_writes(frame, question)
    close_widget(page)
    expect(page.get_by_role("button", name=LAUNCHER, exact=True)).to_be_visible()
    expect(bubble(page)).to_be_hidden()

    open_conversation(admin_page, live_server, question)
    agent_replies(admin_page, "Yes, we do.")
    expect(unread_launcher(page, 1)).to_be_visible(timeout=LIVE_MS)
    expect(bubble(page)).to_contain_text("New message")
    expect(bubble(page)).to_contain_text("Yes, we do.")
    assert page.evaluate("window.frontdeskTones") == 1  # the visitor had used the page

    page.evaluate(PRETEND_HIDDEN, True)  # the visitor went to another tab
    reply = (
        "<b>Parcels</b> to Norway take three days, tracked all the way, "
        "and cost nothing above 50 €."
    )
    agent_replies(admin_page, reply)
    expect(unread_launcher(page, 2)).to_be_visible(timeout=LIVE_MS)
    expect(page).to_have_title(re.compile(r"^\(2\) New message$"), timeout=LIVE_MS)
    page.evaluate(PRETEND_HIDDEN, False)
    expect(page).not_to_have_title(re.compile("New message"))
    preview = bubble(page).locator(".preview span")
    expect(preview).to_have_text(reply[:79].rstrip() + "…")  # text, not markup
    expect(bubble(page).locator("b")).to_have_count(0)
    badge = page.locator("#frontdesk-widget .badge")
    expect(badge).to_have_attribute("data-count", "2")
    expect(badge).to_be_visible()
    shoot(page, "closed-with-unread")

    assert reload_and_hear_the_count(page)["unread"] == 2
    expect(unread_launcher(page, 2)).to_be_visible()
    expect(preview).to_have_text(reply[:79].rstrip() + "…")
    expect(page.locator(WIDGET_FRAME)).to_be_hidden()  # mounted, hidden, out of the tab order
    expect(page.locator(WIDGET_FRAME)).to_have_attribute("aria-hidden", "true")
    assert page.evaluate("window.frontdeskTones") == 0  # nothing new arrived: no sound

    with page.expect_response(read_mark, timeout=LIVE_MS) as marked:  # shown: read
        bubble(page).get_by_role("button", name=re.compile("New message")).click()
    assert marked.value.json()["unread"] == 0
    chat = page.frame_locator(WIDGET_FRAME)
    expect(chat.get_by_text("Yes, we do.")).to_be_visible()
    expect(page.locator(WIDGET_FRAME)).not_to_have_attribute("aria-hidden", "true")
    expect(bubble(page)).to_be_hidden()
    close_widget(page)
    expect(page.get_by_role("button", name=LAUNCHER, exact=True)).to_be_visible(timeout=LIVE_MS)
    expect(badge).to_be_hidden()

    assert reload_and_hear_the_count(page)["unread"] == 0
    expect(page.locator("#frontdesk-widget .badge")).to_be_attached(timeout=LIVE_MS)
    expect(page.locator("#frontdesk-widget .badge")).to_be_hidden()
    expect(bubble(page)).to_be_hidden()
    expect(page.get_by_role("button", name=LAUNCHER, exact=True)).to_be_visible()


def test_a_dismissed_preview_stays_dismissed_until_another_reply(
    admin_page, new_context, live_server
):
    choose_auth_type(admin_page, AUTH_NONE)
    page = new_context(bypass_csp=True).new_page()  # axe-core comes as an inline script
    frame = open_chat(page, live_server)
    question = unique("Is the blue one in stock?")
    visitor_writes(frame, question)
    close_widget(page)
    open_conversation(admin_page, live_server, question)
    agent_replies(admin_page, "It is.")
    expect(bubble(page)).to_contain_text("It is.", timeout=LIVE_MS)
    assert_no_axe_violations(page)

    bubble(page).get_by_role("button", name="Dismiss").click()
    expect(bubble(page)).to_be_hidden()
    expect(unread_launcher(page, 1)).to_be_focused()  # the count stays; focus is not lost
    reload_and_hear_the_count(page)
    expect(unread_launcher(page, 1)).to_be_visible()
    expect(bubble(page)).to_be_hidden()

    agent_replies(admin_page, "Two left, in fact.")
    expect(bubble(page)).to_contain_text("Two left, in fact.", timeout=LIVE_MS)


def shoot(page: Page, name):
    """The closed launcher with its badge and bubble, on a desktop and on a 390 px phone."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}-desktop.png")
    desktop = page.viewport_size
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=SHOTS / f"{name}-390.png")
    page.set_viewport_size(desktop)
