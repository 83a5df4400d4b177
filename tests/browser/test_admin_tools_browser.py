"""The agent's tools in Chromium: desktop notifications and the tone, canned replies, internal
notes that never reach the widget, the question before reopening, and a reply that fails."""

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from browser.axe import assert_no_axe_violations
from browser.pages import (
    AUTH_NONE,
    REPLY_BOX,
    agent_replies,
    choose_auth_type,
    conversation_heading,
    open_chat,
    open_conversation,
    unique,
    visitor_writes,
    widget_bodies,
)

pytestmark = pytest.mark.browser

LIVE_MS = 5_000
SHOTS = Path("/tmp/shots-admin-tools")
SEND_FAILED = "Your reply was not sent. It is still in the box: try again."
CLOSED_QUESTION = "This conversation is closed. Reopen and send?"

# Records each desktop notification and each tone the page makes, then lets the real API work.
RECORDER = """
(() => {
  window.shownNotifications = [];
  window.tonesPlayed = 0;
  const Real = window.Notification;
  function Recording(title, options) {
    window.shownNotifications.push({ title: title, body: options && options.body });
    try { return new Real(title, options); } catch (error) { return { close() {} }; }
  }
  Object.defineProperty(Recording, "permission", { get: () => Real.permission });
  Recording.requestPermission = (...args) => Real.requestPermission(...args);
  window.Notification = Recording;
  const createOscillator = AudioContext.prototype.createOscillator;
  AudioContext.prototype.createOscillator = function () {
    window.tonesPlayed += 1;
    return createOscillator.call(this);
  };
})();
"""


# Lets a test hide the tab: document.hidden as the test sets it, and the event a browser sends.
HIDEABLE = """
window.testHidden = false;
Object.defineProperty(Document.prototype, "hidden", {
  configurable: true, get: () => window.testHidden,
});
"""


def set_tab_hidden(page: Page, hidden):
    page.evaluate(
        f"window.testHidden = {'true' if hidden else 'false'};"
        "document.dispatchEvent(new Event('visibilitychange'))"
    )


def title_count(page: Page):
    match = re.match(r"\((\d+)\) ", page.title())
    return int(match.group(1)) if match else 0


def wait_for(page: Page, expression, expected, timeout=LIVE_MS):
    """Poll ``expression`` in the page until it equals ``expected`` (the pages' script-src
    'self' refuses ``wait_for_function``'s eval)."""
    deadline = time.monotonic() + timeout / 1000
    while (value := page.evaluate(expression)) != expected and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert value == expected, f"{expression} is {value!r}, not {expected!r}"


def shot(page: Page, name):
    """A screenshot at the page's width and at a phone's (390 px), to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}-1280.png", full_page=True)
    size = page.viewport_size
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=SHOTS / f"{name}-390.png", full_page=True)
    page.set_viewport_size(size)


def chat_in_conversation(admin_page, visitor, live_server, first_words):
    """A visitor writes; the agent opens that conversation. The visitor's widget frame."""
    choose_auth_type(admin_page, AUTH_NONE)
    frame = open_chat(visitor(), live_server)
    message = unique(first_words)
    visitor_writes(frame, message)
    open_conversation(admin_page, live_server, message)
    return frame


def test_a_visitor_message_brings_a_notification_and_a_tone(
    new_context, admin_storage_state, visitor, live_server
):
    context = new_context(storage_state=admin_storage_state, permissions=["notifications"])
    context.add_init_script(RECORDER)
    admin = context.new_page()
    admin.goto(f"{live_server.admin_url}/account/")
    permission = admin.locator("[data-notification-permission]")
    expect(permission.get_by_text("This browser shows them.")).to_be_visible()
    expect(permission.get_by_role("button", name="Turn on desktop notifications")).to_be_hidden()
    choose_auth_type(admin, AUTH_NONE)

    # The agent looks at the inbox; a new chat starts.
    with admin.expect_response(lambda response: "/admin/live" in response.url):
        admin.goto(f"{live_server.admin_url}/")
    admin.get_by_role("heading", level=1).click()  # the agent has used the page: it may play sound
    frame = open_chat(visitor(), live_server)
    first = unique("Hello, anyone there?")
    visitor_writes(frame, first)
    wait_for(admin, "window.shownNotifications.length", 1)
    (shown,) = admin.evaluate("window.shownNotifications")
    assert re.fullmatch(r"New conversation: Visitor #\d+", shown["title"]), shown
    assert shown["body"] == first
    assert admin.evaluate("window.tonesPlayed") == 2  # the tone's two notes

    # Looking at that very conversation: nothing. A message in another one: a notification.
    open_conversation(admin, live_server, first)
    admin.get_by_role("heading", level=1).click()
    admin.evaluate("window.shownNotifications = []; window.tonesPlayed = 0")  # a swap, no reload
    visitor_writes(frame, unique("Still here"))
    expect(admin.locator("#thread .from-client")).to_have_count(2, timeout=LIVE_MS)
    assert admin.evaluate("[window.shownNotifications.length, window.tonesPlayed]") == [0, 0]
    other = open_chat(visitor(), live_server)
    second = unique("Another question")
    visitor_writes(other, second)
    wait_for(admin, "window.shownNotifications.length", 1)  # counted since this page opened
    assert admin.evaluate("window.shownNotifications[0].body") == second


def test_with_the_switches_off_there_is_neither(
    new_context, admin_storage_state, visitor, live_server
):
    context = new_context(storage_state=admin_storage_state, permissions=["notifications"])
    context.add_init_script(RECORDER)
    admin = context.new_page()
    admin.goto(f"{live_server.admin_url}/account/")
    settings = admin.locator("form#notifications")
    settings.get_by_label("Desktop notification").uncheck()
    settings.get_by_label("Sound").uncheck()
    settings.get_by_role("button", name="Save notifications").click()
    expect(admin.get_by_text("Notification settings saved.")).to_be_visible()
    shot(admin, "account-notifications")
    try:
        choose_auth_type(admin, AUTH_NONE)
        with admin.expect_response(lambda response: "/admin/live" in response.url):
            admin.goto(f"{live_server.admin_url}/")
        admin.get_by_role("heading", level=1).click()
        frame = open_chat(visitor(), live_server)
        message = unique("Quiet please")
        visitor_writes(frame, message)
        expect(admin.locator("#inbox-list").get_by_text(message)).to_be_visible(timeout=LIVE_MS)
        assert admin.evaluate("[window.shownNotifications.length, window.tonesPlayed]") == [0, 0]
    finally:
        admin.goto(f"{live_server.admin_url}/account/")
        settings.get_by_label("Desktop notification").check()
        settings.get_by_label("Sound").check()
        settings.get_by_role("button", name="Save notifications").click()
        expect(admin.get_by_text("Notification settings saved.")).to_be_visible()


def test_a_canned_reply_is_set_up_and_inserted_for_the_client(admin_page, visitor, live_server):
    title = unique("Greeting")
    admin_page.get_by_role("link", name="Administration").click()
    admin_page.get_by_role("link", name="Canned replies").click()
    form = admin_page.locator("form#canned-form")
    form.get_by_label("Title").fill(title)
    form.get_by_label("Text").fill("Hello {nmae}!")
    form.get_by_role("button", name="Add canned reply").click()
    expect(
        admin_page.get_by_text("Unknown placeholder {nmae}: only {name} is filled in.")
    ).to_be_visible()
    form.get_by_label("Text").fill("Hello {name}, how can I help?")
    form.get_by_role("button", name="Add canned reply").click()
    expect(admin_page.get_by_text(f"Canned reply “{title}” added.")).to_be_visible()
    shot(admin_page, "canned-replies")

    chat_in_conversation(admin_page, visitor, live_server, "I need help")
    name = conversation_heading(admin_page).inner_text()
    box = admin_page.get_by_placeholder(REPLY_BOX)
    box.fill("Hi! ")
    admin_page.get_by_label("Insert a canned reply").select_option(label=title)
    expect(box).to_have_value(f"Hi! Hello {name}, how can I help?")
    expect(box).to_be_focused()
    expect(admin_page.get_by_label("Insert a canned reply")).to_have_value("")


def test_a_note_never_reaches_the_widget(admin_page, visitor, live_server):
    frame = chat_in_conversation(admin_page, visitor, live_server, "Can I get a refund?")
    note = unique("Refund OK'd by Kim, keep it quiet")
    admin_page.get_by_label("Internal note").check()
    box = admin_page.get_by_placeholder("Write a note only agents see…")
    box.fill(note)
    admin_page.wait_for_timeout(1500)  # time enough for a typing event to reach the widget
    expect(frame.get_by_text("Agent is typing…")).to_be_hidden()  # writing a note tells nobody
    admin_page.get_by_role("button", name="Add note").click()
    shown = admin_page.locator("#thread .message.note").filter(has_text=note)
    expect(shown).to_have_count(1)
    expect(shown).to_contain_text("internal note, the client does not see it")
    expect(box).to_have_value("")

    admin_page.get_by_label("Reply", exact=True).check()
    reply = unique("Yes, the refund is on its way")
    agent_replies(admin_page, reply)
    expect(widget_bodies(frame, ".fd-theirs")).to_have_text([reply], timeout=LIVE_MS)
    expect(frame.get_by_text(note)).to_have_count(0)
    shot(admin_page, "conversation-note")
    # Nor after a reload of the widget (its history).
    frame.owner.page.reload()
    page = frame.owner.page
    page.get_by_role("button", name="Chat with us").click()
    reopened = page.frame_locator("#frontdesk-widget iframe")
    expect(widget_bodies(reopened, ".fd-theirs")).to_have_text([reply])
    expect(reopened.get_by_text(note)).to_have_count(0)


def test_a_reply_that_fails_stays_in_the_box_and_says_so(admin_page, visitor, live_server):
    chat_in_conversation(admin_page, visitor, live_server, "Is this thing on?")
    text = unique("Here is your answer")
    box = admin_page.get_by_placeholder(REPLY_BOX)
    error = admin_page.get_by_text(SEND_FAILED)

    admin_page.route("**/reply", lambda route: route.abort("connectionrefused"))  # server down
    box.fill(text)
    admin_page.get_by_role("button", name="Send reply").click()
    expect(error).to_be_visible()
    expect(box).to_have_value(text)
    shot(admin_page, "conversation-send-failed")
    admin_page.unroute("**/reply")

    admin_page.route("**/reply", lambda route: route.fulfill(status=500, body="<p>Boom</p>"))
    admin_page.get_by_role("button", name="Send reply").click()
    expect(error).to_be_visible()
    expect(box).to_have_value(text)
    expect(admin_page.get_by_text("Boom")).to_have_count(0)
    admin_page.unroute("**/reply")

    admin_page.get_by_role("button", name="Send reply").click()
    expect(admin_page.locator("#thread .from-agent").filter(has_text=text)).to_have_count(1)
    expect(error).to_be_hidden()
    expect(box).to_have_value("")


def test_a_reply_to_a_closed_conversation_asks_before_reopening(admin_page, visitor, live_server):
    chat_in_conversation(admin_page, visitor, live_server, "Thanks, bye")
    admin_page.get_by_role("button", name="Close conversation").click()
    expect(admin_page.get_by_text("Conversation closed.")).to_be_visible()
    text = unique("One more thing")
    box = admin_page.get_by_placeholder(REPLY_BOX)
    box.fill(text)

    questions = []

    def dismiss(dialog):
        questions.append(dialog.message)
        dialog.dismiss()

    admin_page.once("dialog", dismiss)
    admin_page.get_by_role("button", name="Send reply").click()
    wait_for(admin_page, "document.querySelector('#reply button[type=submit]').disabled", False)
    assert questions == [CLOSED_QUESTION]
    expect(box).to_have_value(text)
    expect(admin_page.locator("#thread").get_by_text(text)).to_have_count(0)

    admin_page.once("dialog", lambda dialog: dialog.accept())
    with admin_page.expect_navigation():  # the page is shown afresh, open again
        admin_page.get_by_role("button", name="Send reply").click()
    expect(admin_page.get_by_role("button", name="Close conversation")).to_be_visible()
    expect(admin_page.locator("#thread .from-agent").filter(has_text=text)).to_have_count(1)


def test_the_permission_is_asked_for_from_the_button_only(
    new_context, admin_storage_state, live_server
):
    context = new_context(storage_state=admin_storage_state)
    admin = context.new_page()
    admin.goto(f"{live_server.admin_url}/account/")
    assert admin.evaluate("Notification.permission") == "default"  # nothing asked on load
    ask = admin.get_by_role("button", name="Turn on desktop notifications")
    expect(ask).to_be_visible()
    shot(admin, "account-permission")
    context.grant_permissions(["notifications"])  # what the person answers to the prompt
    ask.click()
    expect(admin.get_by_text("This browser shows them.")).to_be_visible()
    expect(ask).to_be_hidden()


def test_the_new_screens_pass_axe(new_context, admin_storage_state, visitor, live_server):
    """Canned replies, a conversation with a note and a canned picker, Your account."""
    # axe-core is injected as an inline script, which the pages' policy refuses.
    context = new_context(storage_state=admin_storage_state, bypass_csp=True)
    admin = context.new_page()
    admin.goto(f"{live_server.admin_url}/")
    chat_in_conversation(admin, visitor, live_server, "Accessible?")
    admin.get_by_label("Internal note").check()
    admin.get_by_placeholder("Write a note only agents see…").fill(unique("A note"))
    admin.get_by_role("button", name="Add note").click()
    expect(admin.locator("#thread .message.note")).to_have_count(1)
    assert_no_axe_violations(admin)
    admin.get_by_role("link", name="Administration").click()
    admin.get_by_role("link", name="Canned replies").click()
    assert_no_axe_violations(admin)
    admin.goto(f"{live_server.admin_url}/account/")
    assert_no_axe_violations(admin)


def test_a_hidden_tab_on_the_conversation_notifies_and_counts_it(
    new_context, admin_storage_state, visitor, live_server
):
    context = new_context(storage_state=admin_storage_state, permissions=["notifications"])
    context.add_init_script(RECORDER)
    context.add_init_script(HIDEABLE)
    admin = context.new_page()
    admin.goto(f"{live_server.admin_url}/")
    frame = chat_in_conversation(admin, visitor, live_server, "Hello from a hidden tab")
    before = title_count(admin)

    set_tab_hidden(admin, True)
    message = unique("Are you there?")
    visitor_writes(frame, message)
    wait_for(admin, "window.shownNotifications.length", 1)
    assert admin.evaluate("window.shownNotifications[0].title").startswith("New message: ")
    expect(admin).to_have_title(re.compile(rf"^\({before + 1}\) "), timeout=LIVE_MS)

    set_tab_hidden(admin, False)  # the agent is back: the conversation is read
    expect(admin).to_have_title(re.compile(rf"^\({before}\) ") if before else re.compile(r"^[^(]"))
