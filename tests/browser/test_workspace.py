"""The workspace in Chromium: the inbox and the open conversation on one screen, its URL, the
keyboard, search and assignment, and a phone's one pane at a time.

Screenshots go to ``$FRONTDESK_SHOTS`` when it is set (to look at the layout, not asserted).
"""

import os
import re

import pytest
from playwright.sync_api import Page, expect

from browser.axe import assert_no_axe_violations
from browser.pages import (
    AUTH_NONE,
    REPLY_BOX,
    choose_auth_type,
    conversation_id,
    open_chat,
    unique,
    visitor_writes,
)

pytestmark = pytest.mark.browser

LIVE_MS = 5_000
ROWS = "#inbox-list ul.inbox li > a"


def shot(page: Page, name):
    if os.environ.get("FRONTDESK_SHOTS"):
        page.screenshot(path=os.path.join(os.environ["FRONTDESK_SHOTS"], f"{name}.png"))


def start_chats(visitor, server, *texts):
    """One visitor per text, each starting a conversation with it (the last is the newest)."""
    for text in texts:
        visitor_writes(open_chat(visitor(), server), text)


def row(page: Page, text):
    return page.locator(ROWS).filter(has_text=text)


def open_id(page: Page):
    return conversation_id(page)


def test_split_view_url_keyboard_and_live_rows(
    admin_page, visitor, live_server, new_context, admin_storage_state
):
    """A row opens beside the list and the URL says which; a reload keeps it; j/k move, r goes
    to the reply box, ? shows the help, e closes; typing in a field is never a shortcut; the
    list stays live beside the open conversation."""
    admin_page.set_viewport_size({"width": 1280, "height": 800})
    choose_auth_type(admin_page, AUTH_NONE)
    older, newer = unique("Where is my order?"), unique("Do you ship to Iceland?")
    start_chats(visitor, live_server, older, newer)
    admin_page.goto(f"{live_server.admin_url}/")
    row(admin_page, newer).click()
    expect(admin_page).to_have_url(re.compile(r"/admin/\?conversation=\d+$"))
    expect(admin_page.locator("#thread").get_by_text(newer)).to_be_visible()
    expect(row(admin_page, older)).to_be_visible()  # the list stays beside it
    expect(row(admin_page, newer)).to_have_attribute("aria-current", "true")
    newer_id = open_id(admin_page)
    shot(admin_page, "workspace-1280")

    admin_page.reload()
    expect(admin_page.locator("#thread").get_by_text(newer)).to_be_visible()
    expect(row(admin_page, newer)).to_have_attribute("aria-current", "true")
    # axe-core is injected inline, which the page's policy refuses: a second page without it.
    checked = new_context(storage_state=admin_storage_state, bypass_csp=True).new_page()
    checked.set_viewport_size({"width": 1280, "height": 800})
    checked.goto(admin_page.url)
    expect(checked.locator("#thread").get_by_text(newer)).to_be_visible()
    assert_no_axe_violations(checked)

    # j opens the next row down, k the one above: the URL follows each time.
    links = admin_page.locator(ROWS)
    position = [links.nth(i).get_attribute("href") for i in range(links.count())].index(
        f"/admin/?conversation={newer_id}"
    )
    below = links.nth(position + 1).get_attribute("href")
    admin_page.keyboard.press("j")
    expect(admin_page).to_have_url(re.compile(re.escape(below) + "$"))
    expect(links.nth(position + 1)).to_have_attribute("aria-current", "true")
    expect(admin_page.locator(f"{ROWS}[aria-current]")).to_have_count(1)
    admin_page.keyboard.press("k")
    expect(admin_page).to_have_url(re.compile(rf"\?conversation={newer_id}$"))
    expect(admin_page.locator("#thread").get_by_text(newer)).to_be_visible()

    # r: the reply box, empty; letters typed there are text, not shortcuts.
    admin_page.keyboard.press("r")
    box = admin_page.get_by_placeholder(REPLY_BOX)
    expect(box).to_be_focused()
    admin_page.keyboard.type("jk e")
    expect(box).to_have_value("jk e")
    expect(admin_page).to_have_url(re.compile(rf"\?conversation={newer_id}$"))
    admin_page.keyboard.press("Escape")
    # A draft stays with its conversation: the next one's box is empty.
    admin_page.keyboard.press("j")
    expect(admin_page).to_have_url(re.compile(re.escape(below) + "$"))
    expect(box).to_have_value("")
    admin_page.keyboard.press("k")
    expect(admin_page).to_have_url(re.compile(rf"\?conversation={newer_id}$"))

    help_box = admin_page.locator("#shortcuts-help")
    admin_page.keyboard.press("?")
    expect(help_box).to_be_visible()
    expect(help_box).to_contain_text("Close the conversation")
    shot(admin_page, "shortcuts-1280")
    admin_page.keyboard.press("?")
    expect(help_box).to_be_hidden()

    # The list is live beside the open conversation: a new chat arrives on top.
    latest = unique("Is the shop open today?")
    start_chats(visitor, live_server, latest)
    expect(links.first).to_contain_text(latest, timeout=LIVE_MS)
    expect(row(admin_page, newer)).to_have_attribute("aria-current", "true")

    admin_page.keyboard.press("e")
    expect(admin_page.get_by_text("Conversation closed.")).to_be_visible()
    expect(admin_page).to_have_url(re.compile(rf"\?conversation={newer_id}$"))
    expect(admin_page.get_by_role("button", name="Reopen")).to_be_visible()


def test_the_open_conversation_gets_new_messages_live(admin_page, visitor, live_server):
    """The stream of the workspace carries the open conversation's messages and its list's rows."""
    choose_auth_type(admin_page, AUTH_NONE)
    first = unique("Hello there")
    page = visitor()
    frame = open_chat(page, live_server)
    visitor_writes(frame, first)
    admin_page.goto(f"{live_server.admin_url}/")
    row(admin_page, first).click()
    expect(admin_page.locator("#thread").get_by_text(first)).to_be_visible()
    later = unique("Are you there?")
    visitor_writes(frame, later)
    expect(admin_page.locator("#thread .from-client p")).to_have_text(
        [first, later], timeout=LIVE_MS
    )
    expect(row(admin_page, later).locator(".preview")).to_have_text(later, timeout=LIVE_MS)
    expect(row(admin_page, later).locator(".badge")).to_have_count(0)  # read as it arrived


def test_search_and_assignment(admin_page, visitor, live_server):
    """Typing a search shows matching conversations with the matching words; assigning in the
    header moves the conversation into "Mine"; FTS syntax in a search is plain text."""
    admin_page.set_viewport_size({"width": 1280, "height": 800})
    choose_auth_type(admin_page, AUTH_NONE)
    text = unique("My parcel tracking number is broken")
    start_chats(visitor, live_server, text)
    admin_page.goto(f"{live_server.admin_url}/")
    tag = re.search(r"\[(\w+)\]", text).group(1)

    search = admin_page.get_by_role("searchbox", name="Search messages and contacts")
    search.fill(f"parc {tag}")
    expect(admin_page).to_have_url(re.compile(r"[?&]q=parc"), timeout=LIVE_MS)
    found = row(admin_page, tag)
    expect(found).to_have_count(1)
    expect(found.locator("mark")).to_have_text(["parcel", f"[{tag}]"])
    expect(search).to_be_focused()  # the list changed under the cursor, the box kept it
    shot(admin_page, "search-1280")
    search.fill('"AND( NEAR')
    expect(admin_page.get_by_text("Nothing found for")).to_be_visible(timeout=LIVE_MS)

    search.fill(tag)
    expect(row(admin_page, tag)).to_have_count(1, timeout=LIVE_MS)
    row(admin_page, tag).click()
    expect(admin_page).to_have_url(re.compile(rf"\?conversation=\d+&q={tag}$"))
    select = admin_page.get_by_label("Assigned to")
    expect(select).to_have_value("")
    select.select_option(label="Admin (you)")
    expect(admin_page.locator("#assignee").get_by_role("status")).to_have_text("Saved")

    admin_page.get_by_role("link", name="Clear search").click()
    expect(search).to_have_value("")
    expect(row(admin_page, tag)).to_contain_text("→ you")
    admin_page.get_by_role("link", name="Mine", exact=True).click()
    expect(admin_page).to_have_url(re.compile(r"filter=mine"))
    expect(row(admin_page, tag)).to_have_count(1)
    admin_page.get_by_role("link", name="Unassigned", exact=True).click()
    expect(admin_page).to_have_url(re.compile(r"filter=unassigned"))
    expect(row(admin_page, tag)).to_have_count(0)


def test_a_phone_shows_one_pane_at_a_time(admin_page, visitor, live_server):
    """At 390 px: the list, then the conversation alone with a Back link to the list."""
    choose_auth_type(admin_page, AUTH_NONE)
    text = unique("Phone question")
    start_chats(visitor, live_server, text)
    admin_page.set_viewport_size({"width": 390, "height": 844})
    admin_page.goto(f"{live_server.admin_url}/")
    list_pane = admin_page.locator("#inbox-pane")
    expect(list_pane).to_be_visible()
    expect(admin_page.locator("#conversation-pane")).to_be_hidden()
    shot(admin_page, "inbox-390")
    row(admin_page, text).click()
    expect(admin_page.locator("#thread").get_by_text(text)).to_be_visible()
    expect(list_pane).to_be_hidden()
    shot(admin_page, "conversation-390")
    admin_page.get_by_role("link", name="← All conversations").click()
    expect(list_pane).to_be_visible()
    expect(admin_page).to_have_url(f"{live_server.admin_url}/")
    # The workspace fits the phone (the top bar's own fit is the navigation's business).
    workspace = "document.getElementById('workspace')"
    assert admin_page.evaluate(f"{workspace}.scrollWidth <= {workspace}.clientWidth")
