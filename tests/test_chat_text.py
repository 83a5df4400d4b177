"""How messages read: links made safely (one filter, widget and admin), dir="auto", line
breaks, and the words of the day separators in the visitor's language (local-times.js draws
them in the visitor's time zone; tests/browser/test_widget_a11y.py sees them)."""

import html
import re
import secrets

import pytest
from helpers import post_reply, set_auth_type, start_chat, visitor_headers
from hypothesis import given, settings
from hypothesis import strategies as st

from chattext import linkify
from models import Conversation

LINK = re.compile(r'<a href="([^"]*)" rel="noopener noreferrer" target="_blank">([^<]*)</a>')


def test_http_and_https_addresses_become_links_without_the_sentence_around_them():
    out = str(linkify("See https://example.com/a?b=1&c=2. Or (http://example.org/x)!"))
    assert LINK.findall(out) == [
        ("https://example.com/a?b=1&amp;c=2", "https://example.com/a?b=1&amp;c=2"),
        ("http://example.org/x", "http://example.org/x"),
    ]
    assert out.endswith(". Or (" + out.split(". Or (")[1])  # the period and brackets stay text
    assert ")!" in out


@pytest.mark.parametrize(
    "text",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(document.cookie)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "//evil.example/path",
        "ftp://files.example.com/x",
        "mailto:someone@example.com",
    ],
)
def test_other_schemes_stay_escaped_text(text):
    out = str(linkify(text))
    assert "<a" not in out
    assert html.unescape(out) == text


def test_quotes_and_html_cannot_break_out_of_the_link():
    text = 'https://example.com/"onmouseover="alert(1) <b>bold</b> https://x.example/\'><img src=x>'
    out = str(linkify(text))
    assert "<b>" not in out and "<img" not in out
    hrefs = [href for href, _ in LINK.findall(out)]
    assert hrefs == ["https://example.com/", "https://x.example/"]
    assert out.count("<a ") == 2 and out.count('"') == 2 * 6  # only the links' own attributes
    assert html.unescape(re.sub(r"<a [^>]*>|</a>", "", out)) == text


def test_a_very_long_address_keeps_its_target_and_shows_shortened():
    url = "https://example.com/" + "a" * 3000
    ((href, shown),) = LINK.findall(str(linkify(f"look: {url}")))
    assert href == url
    assert len(shown) <= 60 and shown.endswith("…")


def test_line_breaks_are_kept():
    assert str(linkify("one\ntwo\r\nhttps://example.com\nthree")) == (
        'one\ntwo\r\n<a href="https://example.com" rel="noopener noreferrer" target="_blank">'
        "https://example.com</a>\nthree"
    )


def test_a_host_is_needed():
    assert "<a" not in str(linkify("https:// nothing, http://?x"))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab:/.\"'<>&() \nhtps")) | st.characters()))
def test_any_text_comes_back_as_itself_and_only_web_links(text):
    out = str(linkify(text))
    for href, _ in LINK.findall(out):
        assert href.startswith(("http://", "https://"))
    without_links = re.sub(r"<a [^>]*>[^<]*</a>", "", out)
    assert "<" not in without_links and '"' not in without_links and "'" not in without_links
    if "…" not in text:  # shortened link texts aside, the visible text is the message
        shown = re.sub(r"<a [^>]*>|</a>", "", out)
        assert html.unescape(shown) == text or "…" in shown


@pytest.mark.parametrize(
    "language, today, yesterday", [("en", "Today", "Yesterday"), ("ar", "اليوم", "أمس")]
)
def test_the_widget_shows_links_auto_direction_and_day_words(
    client, widget, db, language, today, yesterday
):
    set_auth_type(widget, widget.auth_type, language)
    token = secrets.token_hex(24)
    conversation = start_chat(client, widget, token, body="Where is https://shop.example/1 ?")
    conversation.add_message("Yes, free shipping over 100 EUR.\nSee <b>here</b>", "agent")
    pane = client.get(f"/widget/{widget.key}/pane", headers=visitor_headers(token)).data.decode()
    assert f'data-today="{today}"' in pane and f'data-yesterday="{yesterday}"' in pane
    assert pane.count('class="fd-body" dir="auto"') == 2
    assert '<a href="https://shop.example/1" rel="noopener noreferrer" target="_blank">' in pane
    assert "free shipping over 100 EUR.\nSee &lt;b&gt;here&lt;/b&gt;" in pane


def test_the_admin_thread_uses_the_same_filter(admin, client, widget, db):
    token = secrets.token_hex(24)
    conversation = start_chat(client, widget, token, body="javascript:alert(1) http://a.example")
    page = admin.get(f"/admin/conversations/{conversation.id}").data.decode()
    assert '<p dir="auto">javascript:alert(1) <a href="http://a.example"' in page
    sent = post_reply(admin, Conversation.get_by_id(conversation.id), "https://docs.example")
    assert '<a href="https://docs.example" rel="noopener noreferrer"' in sent.data.decode()
