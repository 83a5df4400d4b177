"""Live chat in a real browser: Server-Sent Events between the widget and the admin.

The visitor and the agent each have their own browser context and never reload while the
exchange is checked: whatever reaches the other side arrives through the ``#live`` streams. Every
message text is unique (tests share one server and one database) and every count is exact, so a
message shown twice or lost fails the test.
"""

import re

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from browser.pages import (
    AUTH_NONE,
    CLOSED_NOTICE,
    COMPOSER,
    REPLY_BOX,
    START_NEW,
    agent_replies,
    choose_auth_type,
    conversation_id,
    log_in,
    open_chat,
    open_conversation,
    unique,
    visitor_writes,
    widget_bodies,
)

pytestmark = pytest.mark.browser

LIVE_MS = 5_000  # a live update: one broker wake-up and one swap
# A cut stream comes back after the extension's backoff: its base delay is the server's
# `retry: 1000`, doubled per failed attempt with ±30 % jitter (1, 2, 4, 8 s...).
RECONNECT_MS = 20_000


# The visitor ------------------------------------------------------------------------------------


def widget_frame(page: Page):
    """The widget iframe as a Frame (to run script in it); there is exactly one."""
    frames = [frame for frame in page.frames if "/widget/" in frame.url]
    assert len(frames) == 1, [frame.url for frame in page.frames]
    return frames[0]


def mark_pages(*pages_or_frames):
    """Leave a flag in each window: ``assert_not_reloaded`` fails if one was reloaded since."""
    for target in pages_or_frames:
        target.evaluate("window.frontdeskTestMark = true")


def assert_not_reloaded(*pages_or_frames):
    for target in pages_or_frames:
        assert target.evaluate("window.frontdeskTestMark === true"), f"{target.url} was reloaded"


# The agent --------------------------------------------------------------------------------------


def thread_bodies(admin: Page, selector=".message:not(.system)"):
    return admin.locator(f"#thread {selector} p")


def stream_requests(context: BrowserContext):
    """Every request for the widget's stream in ``context`` from now on (reconnects included)."""
    seen = []

    def note(request):
        if re.search(r"/widget/[^/]+/stream", request.url):
            seen.append(request)

    context.on("request", note)
    return seen


def last_event_ids(requests):
    """The ``Last-Event-ID`` each stream request carried (None for a first connection)."""
    return [request.headers.get("last-event-id") for request in requests]


def goto_inbox(admin: Page, server):
    """Open the inbox and wait until its live stream is connected.

    The inbox stream replays nothing: a change made before it connects would not show (the app
    bug that ``test_inbox_stream_cut_and_resumed_shows_what_changed`` records).
    """
    with admin.expect_response(lambda response: "/admin/live" in response.url):
        admin.goto(f"{server.admin_url}/")
    expect(admin.get_by_role("heading", name="Conversations")).to_be_visible()


def unread_in_title(admin: Page):
    """The "(N) " count at the start of the admin's title; 0 when there is none."""
    found = re.match(r"\((\d+)\) ", admin.title())
    return int(found.group(1)) if found else 0


# The tests --------------------------------------------------------------------------------------


def test_live_exchange_both_ways(admin_page, visitor, live_server):
    """Three replies (button, Enter, Shift+Enter inside) and three visitor messages, alternating:
    each side sees the other's messages appear without a reload, in order, once."""
    choose_auth_type(admin_page, AUTH_NONE)
    page = visitor()
    frame = open_chat(page, live_server)
    first = unique("Hello, is anyone there?")
    visitor_writes(frame, first)
    open_conversation(admin_page, live_server, first)
    mark_pages(page, widget_frame(page), admin_page)

    replies = [
        unique("Hi! How can I help?"),
        unique("Line one of the answer") + "\n" + "line two",
        unique("Anything else?"),
    ]
    later = [unique("Do you have it in blue?"), unique("Thanks, that's all")]

    agent_replies(admin_page, replies[0])
    expect(widget_bodies(frame, ".fd-theirs")).to_have_count(1, timeout=LIVE_MS)
    expect(widget_bodies(frame, ".fd-theirs")).to_have_text([replies[0]])

    visitor_writes(frame, later[0])
    expect(thread_bodies(admin_page, ".from-client")).to_have_count(2, timeout=LIVE_MS)
    expect(thread_bodies(admin_page, ".from-client")).to_have_text([first, later[0]])

    # Enter sends; Shift+Enter breaks the line inside the reply.
    box = admin_page.get_by_placeholder(REPLY_BOX)
    head, tail = replies[1].split("\n")
    box.fill(head)
    box.press("Shift+Enter")
    box.press_sequentially(tail)
    expect(box).to_have_value(replies[1])
    box.press("Enter")
    expect(admin_page.locator("#thread .from-agent")).to_have_count(2)
    expect(box).to_have_value("")
    expect(widget_bodies(frame, ".fd-theirs")).to_have_count(2, timeout=LIVE_MS)

    visitor_writes(frame, later[1])
    expect(thread_bodies(admin_page, ".from-client")).to_have_count(3, timeout=LIVE_MS)

    agent_replies(admin_page, replies[2])
    expect(widget_bodies(frame, ".fd-theirs")).to_have_count(3, timeout=LIVE_MS)

    # Both sides hold the whole exchange, in order, each message exactly once.
    exchange = [first, replies[0], later[0], replies[1], later[1], replies[2]]
    expect(widget_bodies(frame)).to_have_text(exchange)
    expect(thread_bodies(admin_page)).to_have_text(exchange)
    expect(widget_bodies(frame, ".fd-theirs")).to_have_text(replies)
    expect(widget_bodies(frame, ".fd-mine")).to_have_text([first, *later])
    expect(thread_bodies(admin_page, ".from-client")).to_have_text([first, *later])
    expect(thread_bodies(admin_page, ".from-agent")).to_have_text(replies)
    # The line break survives into the widget.
    second = widget_bodies(frame, ".fd-theirs").nth(1)
    assert second.evaluate("p => p.textContent") == replies[1]
    assert_not_reloaded(page, widget_frame(page), admin_page)


def test_stream_cut_and_resumed_loses_nothing(admin_page, visitor, live_server, cuttable_proxy):
    """The network between the widget and the server drops (a TCP proxy resets the connections
    and refuses new ones; ``set_offline`` alone leaves Chromium's open stream alive), the agent
    replies twice meanwhile, the network comes back: the widget shows both replies, once."""
    choose_auth_type(admin_page, AUTH_NONE)
    page = visitor()
    streams = stream_requests(page.context)
    frame = open_chat(page, cuttable_proxy.live)  # the agent is not behind the proxy
    first = unique("Is the shop open on Sunday?")
    visitor_writes(frame, first)
    open_conversation(admin_page, live_server, first)
    before = unique("Let me check")
    agent_replies(admin_page, before)
    theirs = widget_bodies(frame, ".fd-theirs")
    expect(theirs).to_have_text([before], timeout=LIVE_MS)
    before_id = frame.locator("#messages .fd-theirs").get_attribute("data-message-id")
    mark_pages(page, widget_frame(page))
    assert last_event_ids(streams) == [None]

    page.context.set_offline(True)
    cuttable_proxy.cut()
    missed = [unique("Yes, from 10 to 16"), unique("And on holidays too")]
    agent_replies(admin_page, missed[0])
    agent_replies(admin_page, missed[1], press_enter=True)
    expect(theirs).to_have_text([before])  # nothing can have come through
    page.context.set_offline(False)
    cuttable_proxy.restore()

    expect(theirs).to_have_count(3, timeout=RECONNECT_MS)
    expect(theirs).to_have_text([before, *missed])
    expect(widget_bodies(frame)).to_have_text([first, before, *missed])
    # The stream came back by itself, naming the last event it had shown.
    assert before_id in last_event_ids(streams)[1:], last_event_ids(streams)
    assert_not_reloaded(page, widget_frame(page))

    # And it is live again, both ways.
    after = unique("See you then")
    agent_replies(admin_page, after)
    expect(theirs).to_have_text([before, *missed, after], timeout=LIVE_MS)
    thanks = unique("Great, thanks")
    visitor_writes(frame, thanks)
    expect(thread_bodies(admin_page, ".from-client")).to_have_text([first, thanks], timeout=LIVE_MS)


def test_stream_cut_by_server_restart_loses_nothing(new_context, restartable_server):
    """The server process dies and starts again (same port, same database) between two replies:
    the widget, never reloaded, reconnects and shows each reply exactly once."""
    server = restartable_server.live
    admin = new_context().new_page()
    log_in(admin, server)
    choose_auth_type(admin, AUTH_NONE)
    page = new_context().new_page()
    streams = stream_requests(page.context)
    frame = open_chat(page, server)
    first = unique("Where is my parcel?")
    visitor_writes(frame, first)
    open_conversation(admin, server, first)
    reply_a = unique("It left our warehouse today")
    agent_replies(admin, reply_a)
    theirs = widget_bodies(frame, ".fd-theirs")
    expect(theirs).to_have_text([reply_a], timeout=LIVE_MS)
    a_id = frame.locator("#messages .fd-theirs").get_attribute("data-message-id")
    mark_pages(page, widget_frame(page))

    restartable_server.restart()  # killed, so every stream is cut mid-flight
    admin.reload()
    reply_b = unique("It should arrive on Friday")
    agent_replies(admin, reply_b)

    expect(theirs).to_have_count(2, timeout=RECONNECT_MS)
    expect(theirs).to_have_text([reply_a, reply_b])
    expect(widget_bodies(frame)).to_have_text([first, reply_a, reply_b])
    assert a_id in last_event_ids(streams)[1:], last_event_ids(streams)
    assert_not_reloaded(page, widget_frame(page))

    # The new process's streams are live both ways.
    reply_c = unique("Tracking number follows")
    agent_replies(admin, reply_c)
    expect(theirs).to_have_text([reply_a, reply_b, reply_c], timeout=LIVE_MS)
    thanks = unique("Thank you!")
    visitor_writes(frame, thanks)
    expect(thread_bodies(admin, ".from-client")).to_have_text([first, thanks], timeout=LIVE_MS)


def test_inbox_live_and_title_count(admin_page, visitor, live_server):
    """A new conversation appears in the open inbox with its unread badge and the title's count
    goes up; once the agent has read it, the badge is gone and the count is back."""
    choose_auth_type(admin_page, AUTH_NONE)
    goto_inbox(admin_page, live_server)
    unread_before = unread_in_title(admin_page)
    mark_pages(admin_page)

    page = visitor()
    frame = open_chat(page, live_server)
    first = unique("Can I change my delivery address?")
    visitor_writes(frame, first)

    row = admin_page.locator("#inbox-list ul.inbox a").filter(has_text=first)
    expect(row).to_have_count(1, timeout=LIVE_MS)
    expect(row.locator(".badge")).to_have_text("1")
    expect(admin_page).to_have_title(re.compile(rf"^\({unread_before + 1}\) Inbox"))
    href = row.get_attribute("href")
    entry = admin_page.locator(f'#inbox-list ul.inbox a[href="{href}"]')

    # A second message: the same entry, first in the list, two unread; still one conversation.
    second = unique("To Storgata 1, please")
    visitor_writes(frame, second)
    expect(entry.locator(".badge")).to_have_text("2", timeout=LIVE_MS)
    expect(entry.locator(".preview")).to_have_text(second)
    expect(admin_page.locator("#inbox-list ul.inbox a").first).to_have_attribute("href", href)
    expect(admin_page).to_have_title(re.compile(rf"^\({unread_before + 1}\) Inbox"))
    assert_not_reloaded(admin_page)

    # Opened beside the list, which shows it read at once.
    entry.click()
    expect(thread_bodies(admin_page, ".from-client")).to_have_text([first, second])
    entry = admin_page.locator(f'#inbox-list ul.inbox a[href="{href}"]')
    expect(entry).to_have_count(1)
    expect(entry.locator(".badge")).to_have_count(0)
    expect(admin_page.locator("#inbox-list li.unread").filter(has=entry)).to_have_count(0)
    if unread_before:
        expect(admin_page).to_have_title(re.compile(rf"^\({unread_before}\) Inbox"))
    else:
        expect(admin_page).to_have_title(re.compile(r"^Inbox"))


def test_close_and_start_new(admin_page, visitor, live_server):
    """The agent closes the conversation: the widget says so at once and offers a new one, which
    starts empty and reaches the inbox as a new open conversation with a working stream."""
    choose_auth_type(admin_page, AUTH_NONE)
    page = visitor()
    frame = open_chat(page, live_server)
    first = unique("Do you gift-wrap?")
    visitor_writes(frame, first)
    open_conversation(admin_page, live_server, first)
    closed_id = conversation_id(admin_page)
    reply = unique("Yes, for free")
    agent_replies(admin_page, reply)
    expect(widget_bodies(frame, ".fd-theirs")).to_have_text([reply], timeout=LIVE_MS)
    mark_pages(page, widget_frame(page))

    admin_page.get_by_role("button", name="Close conversation").click()
    expect(admin_page.get_by_text("Conversation closed.")).to_be_visible()
    expect(admin_page.get_by_role("button", name="Reopen")).to_be_visible()

    notices = frame.locator("#messages .fd-system")
    expect(notices).to_have_count(1, timeout=LIVE_MS)
    expect(notices).to_contain_text(CLOSED_NOTICE)
    start_new = frame.get_by_role("button", name=START_NEW)
    expect(start_new).to_be_visible()
    expect(frame.get_by_placeholder(COMPOSER)).to_have_count(0)
    expect(widget_bodies(frame)).to_have_text([first, reply])
    assert_not_reloaded(page, widget_frame(page))

    start_new.click()
    composer = frame.get_by_placeholder(COMPOSER)
    expect(composer).to_be_visible()
    expect(composer).to_have_value("")
    expect(frame.locator("#messages .fd-message, #messages .fd-system")).to_have_count(0)
    expect(start_new).to_have_count(0)

    goto_inbox(admin_page, live_server)
    fresh = unique("One more question")
    visitor_writes(frame, fresh)
    row = admin_page.locator("#inbox-list ul.inbox a").filter(has_text=fresh)
    expect(row).to_have_count(1, timeout=LIVE_MS)
    closed_href = f"/admin/?conversation={closed_id}"
    assert row.get_attribute("href") != closed_href
    expect(admin_page.locator(f'#inbox-list a[href="{closed_href}"]')).to_have_count(0)

    row.click()
    expect(admin_page.get_by_role("button", name="Close conversation")).to_be_visible()
    expect(thread_bodies(admin_page)).to_have_text([fresh])
    expect(admin_page.locator("#thread .message.system")).to_have_count(0)

    # The widget's new stream carries the new conversation's replies, each once.
    answer = unique("Sure, go ahead")
    agent_replies(admin_page, answer)
    expect(widget_bodies(frame, ".fd-theirs")).to_have_text([answer], timeout=LIVE_MS)
    expect(widget_bodies(frame)).to_have_text([fresh, answer])

    admin_page.get_by_role("link", name="Closed", exact=True).click()
    open_id = conversation_id(admin_page)
    expect(admin_page).to_have_url(re.compile(rf"/admin/\?conversation={open_id}&status=closed$"))
    closed_row = f'#inbox-list a[href="/admin/?conversation={closed_id}&status=closed"]'
    expect(admin_page.locator(closed_row)).to_have_count(1)


def test_inbox_stream_cut_and_resumed_shows_what_changed(
    admin_page, visitor, live_server, cuttable_proxy
):
    """The agent's network drops while a new conversation starts; when the inbox's stream is
    back, the inbox and the title's unread count must catch up without a reload."""
    choose_auth_type(admin_page, AUTH_NONE)
    goto_inbox(admin_page, cuttable_proxy.live)  # the agent is behind the proxy, the visitor not
    unread_before = unread_in_title(admin_page)
    mark_pages(admin_page)

    cuttable_proxy.cut()
    page = visitor()
    frame = open_chat(page, live_server)
    first = unique("Hello while the agent is offline")
    visitor_writes(frame, first)

    def reconnected(response):
        return "/admin/live" in response.url and response.ok

    with admin_page.expect_response(reconnected, timeout=RECONNECT_MS):
        cuttable_proxy.restore()

    row = admin_page.locator("#inbox-list ul.inbox a").filter(has_text=first)
    expect(row).to_have_count(1, timeout=LIVE_MS)
    expect(row.locator(".badge")).to_have_text("1")
    expect(admin_page).to_have_title(re.compile(rf"^\({unread_before + 1}\) Inbox"))
    assert_not_reloaded(admin_page)
