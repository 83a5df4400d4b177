"""The widget in the visitor's language, right-to-left for Arabic, and the label editor."""

import pytest
from playwright.sync_api import expect

from browser.pages import (
    AUTH_OPTIONAL_FORM,
    WIDGET_FRAME,
    choose_auth_type,
    open_demo_widget,
    open_widget,
)

pytestmark = pytest.mark.browser


def open_widget_in(new_context, live_server, locale, launcher):
    page = new_context(locale=locale, viewport={"width": 1000, "height": 760}).new_page()
    page.goto(live_server.demo_url)
    return page, open_widget(page, launcher)


def test_german_browser_gets_a_german_widget(multilingual, new_context, live_server):
    page, frame = open_widget_in(new_context, live_server, "de-DE", "Chatte mit uns")
    expect(frame.get_by_role("button", name="Chat starten")).to_be_visible()
    expect(frame.get_by_role("button", name="Als Gast fortfahren")).to_be_visible()
    expect(frame.locator("html")).to_have_attribute("lang", "de")
    frame.get_by_role("button", name="Als Gast fortfahren").click()
    expect(frame.get_by_placeholder("Schreib eine Nachricht…")).to_be_visible()


def test_arabic_browser_gets_a_right_to_left_widget(
    multilingual, new_context, live_server, tmp_path
):
    page, frame = open_widget_in(new_context, live_server, "ar-EG", "تحدث معنا")
    expect(frame.locator("html")).to_have_attribute("dir", "rtl")
    guest = frame.locator(".fd-secondary")
    expect(guest).to_be_visible()
    guest.click()
    box = frame.locator("#fd-body")
    box.fill("مرحبا، هل تشحنون إلى مصر؟")
    box.press("Enter")
    mine = frame.locator(".fd-mine").last
    expect(mine).to_be_visible()

    # Laid out right to left: the send button left of the box, my message on the left side.
    send = frame.locator(".fd-send").bounding_box()
    text_box = box.bounding_box()
    assert send["x"] < text_box["x"], (send, text_box)
    pane = frame.locator(".fd-messages").bounding_box()
    bubble = mine.bounding_box()
    assert bubble["x"] - pane["x"] < (pane["x"] + pane["width"]) - (bubble["x"] + bubble["width"])
    shot = tmp_path / "widget-rtl.png"
    page.locator(WIDGET_FRAME).screenshot(path=shot)
    assert shot.stat().st_size > 5000


def test_label_editor_preview_and_override(admin_page, new_context, live_server):
    choose_auth_type(admin_page, AUTH_OPTIONAL_FORM)
    admin_page.get_by_role("link", name="Administration").click()
    admin_page.get_by_role("navigation", name="Widget settings").get_by_role(
        "link", name="Language"
    ).click()
    preview = admin_page.frame_locator("iframe.label-preview")
    expect(preview.get_by_text("Continue as guest")).to_be_visible()

    admin_page.get_by_label("login.guest").fill("Just looking around")
    expect(preview.get_by_text("Just looking around")).to_be_visible()  # live, before saving
    admin_page.get_by_role("button", name="Save").click()
    expect(admin_page.get_by_text("Saved.")).to_be_visible()

    visitor = new_context().new_page()
    frame = open_demo_widget(visitor, live_server)
    expect(frame.get_by_role("button", name="Just looking around")).to_be_visible()

    admin_page.get_by_role("button", name="Reset to the file's text").click()
    expect(admin_page.get_by_text("back to the language file's text")).to_be_visible()
    visitor.reload()
    frame = open_widget(visitor)
    expect(frame.get_by_role("button", name="Continue as guest")).to_be_visible()
