"""The widget by keyboard and for screen readers, in Chromium: opening with Enter or Space puts
the cursor in it, Escape closes it back to the launcher, the pre-chat form leads to the message
box, the message box comes before the secondary actions; and axe-core finds nothing on any pane
(form, guest choice, chat, rating, closed, notice) in English, German and Arabic (RTL).
Also the typing indicator both ways, links, and a host page that does not move while loading."""

import sqlite3

import pytest
from playwright.sync_api import Frame, Page, expect

from browser.axe import assert_no_axe_violations
from browser.pages import (
    AUTH_FORM,
    LAUNCHER,
    WIDGET_FRAME,
    agent_replies,
    choose_auth_type,
    open_conversation,
    unique,
)

pytestmark = pytest.mark.browser
LIVE_MS = 10_000


def widget_frame(page: Page) -> Frame:
    """The chat iframe as a Frame (axe runs inside it)."""
    return page.locator(WIDGET_FRAME).element_handle().content_frame()


def focused(frame: Frame):
    """What has the focus inside the widget: id, or tag and text."""
    return frame.evaluate(
        "() => { const e = document.activeElement;"
        " return e.id || (e.tagName + ':' + e.textContent.trim()); }"
    )


def test_the_whole_keyboard_path(admin_page, new_context, live_server):
    choose_auth_type(admin_page, AUTH_FORM)
    page = new_context(viewport={"width": 1200, "height": 800}).new_page()
    page.goto(live_server.demo_url)
    launcher = page.get_by_role("button", name=LAUNCHER)
    launcher.focus()
    page.keyboard.press("Enter")
    expect(page.locator(WIDGET_FRAME)).to_be_visible()
    frame = page.frame_locator(WIDGET_FRAME)
    expect(frame.get_by_label("Name", exact=True)).to_be_focused()  # the form's first field

    page.keyboard.type("Ada Keyboard")
    page.keyboard.press("Tab")
    page.keyboard.type("ada.keys@example.com")
    page.keyboard.press("Enter")
    box = frame.locator("#fd-body")
    expect(box).to_be_focused()  # after the form: the message box

    message = unique("Typed without a mouse")
    page.keyboard.type(message)
    page.keyboard.press("Enter")
    mine = frame.locator(".fd-mine").filter(has_text=message)
    expect(mine).to_have_count(1)
    expect(mine.locator("time")).to_have_text("now")  # a relative time, in the page's language
    expect(box).to_be_focused()

    # The message box before the secondary actions; the thread's log is before it.
    page.keyboard.press("Tab")
    assert focused(widget_frame(page)).startswith("BUTTON:")  # send
    page.keyboard.press("Tab")
    assert focused(widget_frame(page)) == "BUTTON:Email me the transcript"
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    log = frame.get_by_role("log")
    expect(log).to_be_focused()
    expect(log).to_have_attribute("aria-live", "polite")

    # A reply arrives inside the polite live region.
    open_conversation(admin_page, live_server, message)
    answer = unique("Answered, see https://example.com/help")
    agent_replies(admin_page, answer)
    expect(log.locator(".fd-theirs").filter(has_text="Answered")).to_have_count(1, timeout=LIVE_MS)
    link = log.get_by_role("link", name="https://example.com/help")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(link).to_have_attribute("target", "_blank")

    # Escape closes the widget, back to the launcher; Space opens it on the message box.
    box.focus()
    page.keyboard.press("Escape")
    expect(page.locator(WIDGET_FRAME)).to_be_hidden()
    expect(launcher).to_be_focused()
    expect(launcher).to_have_attribute("aria-expanded", "false")
    page.keyboard.press("Space")
    expect(page.locator(WIDGET_FRAME)).to_be_visible()
    expect(box).to_be_focused()


def test_typing_shows_on_both_sides_and_goes_away(admin_page, new_context, live_server):
    choose_auth_type(admin_page, AUTH_FORM)
    page = new_context().new_page()
    page.goto(live_server.demo_url)
    page.get_by_role("button", name=LAUNCHER).click()
    frame = page.frame_locator(WIDGET_FRAME)
    frame.get_by_label("Name", exact=True).fill("Tess Typist")
    frame.get_by_label("Email", exact=True).fill("tess@example.com")
    frame.get_by_role("button", name="Start chat").click()
    first = unique("Hello typist")
    frame.locator("#fd-body").fill(first)
    frame.locator("#fd-body").press("Enter")
    open_conversation(admin_page, live_server, first)

    frame.locator("#fd-body").press_sequentially("I am writing", delay=30)
    visitor_typing = admin_page.get_by_text("Visitor is typing…")
    expect(visitor_typing).to_be_visible(timeout=LIVE_MS)
    expect(visitor_typing).to_be_hidden(timeout=LIVE_MS)  # by itself, a few seconds later

    admin_page.get_by_placeholder("Write a reply…").press_sequentially("One moment", delay=30)
    agent_typing = frame.get_by_text("Agent is typing…")
    expect(agent_typing).to_be_visible(timeout=LIVE_MS)
    admin_page.get_by_placeholder("Write a reply…").press("Enter")
    expect(agent_typing).to_be_hidden(timeout=LIVE_MS)  # the reply itself ends it


LAUNCHERS = {"en-US": "Chat with us", "de-DE": "Chatte mit uns", "ar-EG": "تحدث معنا"}


@pytest.mark.parametrize("locale", list(LAUNCHERS))
def test_no_axe_violations_on_any_pane(multilingual, new_context, live_server, locale):
    admin = multilingual
    context = new_context(locale=locale, bypass_csp=True)  # axe is injected as an inline script
    page = context.new_page()
    page.goto(live_server.demo_url)
    page.get_by_role("button", name=LAUNCHERS[locale]).click()
    frame_locator = page.frame_locator(WIDGET_FRAME)
    expect(frame_locator.locator("form.fd-contact")).to_be_visible()
    frame = widget_frame(page)
    assert frame.evaluate("document.documentElement.lang") == locale[:2]
    assert_no_axe_violations(frame)  # the form with the guest choice

    frame_locator.locator(".fd-primary").click()  # sent empty: the form with its errors
    expect(frame_locator.locator("[aria-invalid=true]")).to_have_count(2)
    expect(frame_locator.locator("#fd-name")).to_be_focused()  # the first refused field
    assert_no_axe_violations(frame)

    frame_locator.locator(".fd-contact input[name=name]").fill("Noor Axe")
    frame_locator.locator(".fd-contact input[name=email]").fill(f"noor.{locale}@example.com")
    frame_locator.locator(".fd-primary").click()
    box = frame_locator.locator("#fd-body")
    expect(box).to_be_focused()
    message = unique("Accessible?")
    box.fill(message)
    box.press("Enter")
    expect(frame_locator.locator(".fd-mine").filter(has_text=message)).to_have_count(1)
    assert_no_axe_violations(frame)  # the chat

    open_conversation(admin, live_server, message)
    agent_replies(admin, unique("Yes, free shipping over 100 EUR. https://shop.example/ship"))
    rate = frame_locator.locator("#fd-rate > summary")
    expect(rate).to_be_visible(timeout=LIVE_MS)
    rate.click()
    expect(frame_locator.locator(".fd-rating-form")).to_be_visible()
    assert_no_axe_violations(frame)  # the chat with a link, a day separator, the rating

    admin.get_by_role("button", name="Close conversation").click()
    expect(frame_locator.locator(".fd-closed button")).to_be_visible(timeout=LIVE_MS)
    assert_no_axe_violations(frame)  # closed

    notice = context.new_page()
    notice.goto(f"{live_server.base_url}/widget/no-such-widget?lang={locale[:2]}")
    expect(notice.locator(".fd-notice")).to_be_visible()
    assert_no_axe_violations(notice)  # the notice


def test_guest_choice_pane_has_no_axe_violations(multilingual, new_context, live_server):
    page = new_context(locale="ar-EG", bypass_csp=True).new_page()
    page.goto(live_server.demo_url)
    page.get_by_role("button", name="تحدث معنا").click()
    frame_locator = page.frame_locator(WIDGET_FRAME)
    frame_locator.locator(".fd-secondary").click()  # continue as guest
    expect(frame_locator.locator("#fd-body")).to_be_focused()
    assert_no_axe_violations(widget_frame(page))


def test_the_host_page_does_not_move_and_the_pane_loads_as_a_skeleton(
    admin_page, new_context, live_server
):
    choose_auth_type(admin_page, AUTH_FORM)
    page = new_context(viewport={"width": 1200, "height": 800}).new_page()
    gate = []
    page.route("**/widget/*/pane*", lambda route: gate.append(route))  # held: still loading
    page.goto(live_server.demo_url)
    before = page.evaluate("() => document.body.getBoundingClientRect().toJSON()")
    page.get_by_role("button", name=LAUNCHER).click()
    iframe = page.locator(WIDGET_FRAME)
    frame = page.frame_locator(WIDGET_FRAME)
    skeleton = frame.locator(".fd-skeleton")
    expect(skeleton).to_be_visible()
    expect(skeleton).to_have_attribute("aria-busy", "true")
    expect(skeleton.locator(".fd-visually-hidden")).to_have_text("Loading…")  # for readers
    loading_box = iframe.bounding_box()
    while not gate:
        page.wait_for_timeout(50)
    gate[0].continue_()
    expect(frame.locator("form.fd-contact")).to_be_visible()
    assert iframe.bounding_box() == loading_box
    assert page.evaluate("() => document.body.getBoundingClientRect().toJSON()") == before


@pytest.mark.parametrize(
    "locale, today, yesterday", [("en-US", "Today", "Yesterday"), ("ar-EG", "اليوم", "أمس")]
)
def test_day_separators_in_the_visitors_language(
    multilingual, new_context, live_server, server_process, locale, today, yesterday
):
    page = new_context(locale=locale, timezone_id="Asia/Tokyo").new_page()
    page.goto(live_server.demo_url)
    page.get_by_role("button", name=LAUNCHERS[locale]).click()
    frame = page.frame_locator(WIDGET_FRAME)
    frame.locator(".fd-secondary").click()  # as a guest
    old, new = unique("Sent three days ago"), unique("Sent yesterday")
    for text in (old, new, unique("Sent today")):
        frame.locator("#fd-body").fill(text)
        frame.locator("#fd-body").press("Enter")
        expect(frame.locator(".fd-mine").filter(has_text=text)).to_have_count(1)
    expect(frame.locator(".fd-day")).to_have_text([today])  # one day so far, drawn live
    database = server_process.env["FRONTDESK_DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(database) as db:
        for text, days in ((old, 3), (new, 1)):
            db.execute(
                "UPDATE message SET created_at = datetime(created_at, ?) WHERE body = ?",
                (f"-{days} days", text),
            )
    page.reload()
    page.get_by_role("button", name=LAUNCHERS[locale]).click()
    days = frame.locator("#messages .fd-day")
    expect(days).to_have_count(3)
    expect(days.nth(1)).to_have_text(yesterday)
    expect(days.nth(2)).to_have_text(today)
    expected = page.evaluate(
        """([lang]) => {
            const day = new Date(Date.now() - 3 * 86400000);
            const options = day.getFullYear() === new Date().getFullYear()
                ? {weekday: "short", day: "numeric", month: "long"}
                : {day: "numeric", month: "long", year: "numeric"};
            return new Intl.DateTimeFormat(lang, options).format(day);
        }""",
        [locale[:2]],
    )
    expect(days.nth(0)).to_have_text(expected)  # an older day: its date, in the language
