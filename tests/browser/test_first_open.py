"""A first open downloads only what it shows (issue 12): the live stream's htmx extension and the
launcher's unread notice come once the visitor writes, and then work as before."""

import re

import pytest
from playwright.sync_api import expect

from browser.pages import (
    AUTH_NONE,
    agent_replies,
    choose_auth_type,
    open_chat,
    open_conversation,
    unique,
    visitor_writes,
)

pytestmark = pytest.mark.browser

STREAM_SCRIPT = re.compile(r"/static/vendor/hx-sse\.min\.[0-9a-f]+\.js$")
NOTICE_SCRIPT = re.compile(r"/static/embed-unread\.[0-9a-f]+\.js$")


def test_the_stream_and_the_notice_come_once_the_visitor_writes(admin_page, visitor, live_server):
    choose_auth_type(admin_page, AUTH_NONE)
    page = visitor()
    fetched = []
    page.on("request", lambda request: fetched.append(request.url))
    frame = open_chat(page, live_server)
    frame.locator(".fd-messages").wait_for()
    assert [url for url in fetched if "/static/" in url and url.endswith(".js")], fetched
    assert not [url for url in fetched if STREAM_SCRIPT.search(url) or NOTICE_SCRIPT.search(url)]

    message = unique("Is the blue one in stock?")
    with page.expect_request(STREAM_SCRIPT), page.expect_request(NOTICE_SCRIPT):
        visitor_writes(frame, message)

    # The stream the late extension opened brings the agent's reply without a reload.
    open_conversation(admin_page, live_server, message)
    agent_replies(admin_page, "Yes, three left")
    expect(frame.locator(".fd-theirs").filter(has_text="Yes, three left")).to_be_visible()
