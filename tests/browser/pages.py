"""What the browser tests click and read: the UI's words, and the steps every flow takes.

The visitor's side (the demo shop's launcher, the widget iframe, its composer) and the agent's
side (sign-in, Administration › General, the inbox and a conversation), each in one place, so a
changed label or selector is changed here once.
"""

import re
import uuid

from playwright.sync_api import FrameLocator, Page, expect

# The four client authentication types, as Administration › General labels them.
AUTH_NONE = "No data required – client will appear"
AUTH_CODE = "You provide information about client through code"
AUTH_FORM = "Client provides information through form"
AUTH_OPTIONAL_FORM = "Client can optionally provide information through form"

LAUNCHER = "Chat with us"
WIDGET_FRAME = "#frontdesk-widget iframe"
COMPOSER = "Write a message…"
REPLY_BOX = "Write a reply…"
DEMO_SIGN_IN = "Log in as a demo customer (Ada Lovelace)"
CLOSED_NOTICE = "This conversation was closed."
START_NEW = "Start a new conversation"
FOLLOW_BROWSER_LANGUAGE = "Speak the visitor's browser language"


def unique(text):
    """A message text no other test (or earlier run) has sent, to find its conversation."""
    return f"{text} [{uuid.uuid4().hex[:8]}]"


# The visitor ------------------------------------------------------------------------------------


def open_widget(page: Page, launcher=LAUNCHER) -> FrameLocator:
    """Click the launcher on the host page; the chat iframe it opens."""
    page.get_by_role("button", name=launcher).click()
    expect(page.locator(WIDGET_FRAME)).to_be_visible()
    return page.frame_locator(WIDGET_FRAME)


def open_demo_widget(page: Page, server) -> FrameLocator:
    """The demo shop of ``server`` (a LiveServer), with the widget opened."""
    page.goto(server.demo_url)
    return open_widget(page)


def open_chat(page: Page, server) -> FrameLocator:
    """The demo shop's widget, opened on the chat (a type that needs no login)."""
    frame = open_demo_widget(page, server)
    expect(frame.get_by_placeholder(COMPOSER)).to_be_visible()
    return frame


def fill_in_form(frame: FrameLocator, name, email):
    """Fill in the widget's login form and press Start chat."""
    frame.get_by_label("Name", exact=True).fill(name)
    frame.get_by_label("Email", exact=True).fill(email)
    frame.get_by_role("button", name="Start chat").click()


def visitor_writes(frame: FrameLocator, text):
    """Type a message and press Enter; it shows once as the visitor's own, the box empties."""
    box = frame.get_by_placeholder(COMPOSER)
    box.fill(text)
    box.press("Enter")
    mine = frame.locator(".fd-mine").filter(has_text=text)
    expect(mine).to_have_count(1)
    expect(mine).to_be_visible()
    expect(frame.get_by_placeholder(COMPOSER)).to_have_value("")


def widget_bodies(frame: FrameLocator, selector=".fd-message"):
    return frame.locator(f"#messages {selector} .fd-body")


# The agent --------------------------------------------------------------------------------------


def log_in(page: Page, server):
    """Sign in to the admin of ``server`` with its seeded admin account; ends on the inbox."""
    page.goto(f"{server.admin_url}/login")
    page.get_by_label("Email", exact=True).fill(server.admin_email)
    page.get_by_label("Password", exact=True).fill(server.admin_password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server.admin_url}/")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def save_general(page: Page, *, require_verified=None, allowed_domains=None, follow_browser=None):
    """Administration › General: set what is given, Save, and see it saved.

    ``page`` is any signed-in admin page (each carries the "Administration" nav link).
    """
    page.get_by_role("link", name="Administration").click()
    form = page.locator("form#widget-general")
    if require_verified is not None:
        form.get_by_label("Require verified identity").set_checked(require_verified)
    if allowed_domains is not None:
        form.get_by_label("Allowed domains").fill(allowed_domains)
    if follow_browser is not None:
        form.get_by_label(FOLLOW_BROWSER_LANGUAGE).set_checked(follow_browser)
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved.")


def choose_auth_type(page: Page, label_text: str):
    """Administration › General: pick the client authentication type containing ``label_text``."""
    page.get_by_role("link", name="Administration").click()
    expect(page).to_have_url(re.compile(r"/admin/widgets/\d+/general$"))
    form = page.locator("form#widget-general")
    form.locator("label.option", has_text=label_text).get_by_role("radio").check()
    form.get_by_role("button", name="Save").click()
    saved = page.get_by_role("status")
    expect(saved).to_contain_text("Saved.")
    checked = page.locator("form#widget-general label.option", has_text=label_text)
    expect(checked.get_by_role("radio")).to_be_checked()


def open_conversation(admin: Page, server, message) -> str:
    """From the inbox, open the conversation whose last message is ``message``; the text of its
    inbox entry (``conversation_id(admin)`` tells which conversation it is)."""
    response = admin.goto(f"{server.admin_url}/")
    assert response is not None
    assert response.status == 200, f"the inbox answered {response.status}"
    expect(admin.get_by_role("heading", name="Conversations")).to_be_visible()
    row = admin.locator("#inbox-list ul.inbox a").filter(has_text=message)
    expect(row).to_have_count(1)
    entry_text = row.inner_text()
    row.click()
    expect(admin).to_have_url(re.compile(r"/admin/\?conversation=\d+$"))
    expect(admin.locator("#thread").get_by_text(message)).to_be_visible()
    return entry_text


def conversation_heading(admin: Page):
    """The open conversation's heading (the client's name), beside the inbox list."""
    pane = admin.get_by_role("region", name="The open conversation")
    return pane.get_by_role("heading", level=2).first


def conversation_id(admin: Page) -> int:
    """The id of the conversation open in the admin's workspace (``?conversation=``)."""
    return int(re.search(r"[?&]conversation=(\d+)", admin.url).group(1))


def agent_replies(admin: Page, text, *, press_enter=False):
    """Send a reply with the button (or Enter); it shows once in the thread, the box empties."""
    box = admin.get_by_placeholder(REPLY_BOX)
    box.fill(text)
    if press_enter:
        box.press("Enter")
    else:
        admin.get_by_role("button", name="Send reply").click()
    sent = admin.locator("#thread .from-agent").filter(has_text=text)
    expect(sent).to_have_count(1)
    expect(sent).to_be_visible()
    expect(admin.get_by_placeholder(REPLY_BOX)).to_have_value("")
