"""Inputs refused at the edge (issue 13, item 4): each test fails when its protection is removed.

Unusable text (control characters, lone surrogates, bytes that are not UTF-8), ids beyond what a
database stores, token-dependent widget answers kept out of caches, scripts from files only, and
allowed domains that are not public suffixes.
"""

import re
import secrets
from pathlib import Path

import pytest
from helpers import (
    ADA,
    csrf_token_from,
    identify,
    save_general,
    send_message,
    set_auth_type,
    sign,
    start_chat,
    visitor_headers,
)

from inputs import ID_MAX, IdConverter
from models import AuthType, Client, Contact, Conversation, Message, Widget
from origins import DomainListError, clean_allowed_domains

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


# --- unusable text ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        '{"id": "42", "name": "\\ud800"}',  # a lone surrogate: a 500, and a broken admin page
        '{"id": "42", "plan": {"tier": "\\udfff"}}',  # nested, though nested values are dropped
        '{"id": "42", "\\ud83d": "x"}',  # in a field name
        '{"id": "42", "name": "bell\\u0007"}',  # a control character
        '{"id": "42", "name": "next\\u0085line"}',  # C1
    ],
)
def test_unusable_text_in_custom_user_data_is_refused(client, widget, raw):
    set_auth_type(widget, AuthType.CODE)
    response = identify(client, widget, secrets.token_hex(24), user_data=raw)
    assert response.status_code == 422
    assert b"We could not recognise your account" in response.data  # the widget's notice
    assert Client.select().count() == 0


def test_unusable_text_in_signed_claims_is_refused(client, widget):
    set_auth_type(widget, AuthType.CODE)
    signed = sign(widget, {**ADA, "name": "Ada \ud800"})
    response = identify(client, widget, secrets.token_hex(24), identity_token=signed)
    assert response.status_code == 422
    assert Client.select().count() == 0 and Contact.select().count() == 0


def test_clean_site_data_keeps_tabs_and_newlines(client, widget, db):
    set_auth_type(widget, AuthType.CODE)
    user = {"id": "42", "name": "Ada", "address": "1 Main St\r\nLondon\tUK"}
    assert identify(client, widget, secrets.token_hex(24), user_data=user).status_code == 200
    assert Client.get().custom_fields["address"] == "1 Main St\r\nLondon\tUK"


@pytest.mark.parametrize(
    "body",
    [
        "bell\x07",  # C0
        "del\x7f",  # DEL
        "csi\x9b",  # C1
        b"body=%FF%FE&client_msg_id=m1",  # percent-encoded bytes that are not UTF-8
        b"body=\xff&client_msg_id=m1",  # the same bytes raw
    ],
)
def test_unusable_text_in_a_widget_form_is_a_notice_and_stores_nothing(client, widget, body):
    token = secrets.token_hex(24)
    if isinstance(body, bytes):
        response = client.post(
            f"/widget/{widget.key}/messages",
            data=body,
            content_type="application/x-www-form-urlencoded",
            headers=visitor_headers(token),
        )
    else:
        response = send_message(client, widget, token, body)
    assert response.status_code == 400
    assert b"Something went wrong" in response.data  # the widget's own notice
    assert Message.select().count() == 0 and Client.select().count() == 0


def test_a_message_may_hold_tabs_and_line_breaks(client, widget):
    response = send_message(client, widget, secrets.token_hex(24), "one\ttwo\r\nthree")
    assert response.status_code == 200


@pytest.mark.parametrize(
    "header, value",
    [
        ("X-Frontdesk-Page", "https://shop.example/\x01"),
        ("X-Frontdesk-Page", "https://shop.example/\xff"),  # a byte that is not UTF-8
        ("X-Frontdesk-Language", "de\x1b"),
        ("Last-Event-ID", "\xc3"),
        ("X-Frontdesk-Token", "a" * 48 + "\x00"),
    ],
)
def test_unusable_text_in_frontdesk_headers_is_refused(client, widget, header, value):
    token = secrets.token_hex(24)
    response = send_message(client, widget, token, headers={header: value})
    assert response.status_code == 400
    assert Message.select().count() == 0


def test_utf8_page_addresses_are_fine(client, widget, db):
    page = "https://shop.example/straße".encode().decode("latin-1")  # as WSGI hands it over
    response = send_message(
        client, widget, secrets.token_hex(24), headers={"X-Frontdesk-Page": page}
    )
    assert response.status_code == 200


@pytest.mark.parametrize("query", ["q=%FF", "q=%01", "q=%ED%A0%80"])  # last: UTF-8 of U+D800
def test_unusable_text_in_an_admin_query_is_the_400_page(admin, query):
    response = admin.get(f"/admin/contacts/?{query}")
    assert response.status_code == 400
    assert b"control characters" in response.data or b"not valid UTF-8" in response.data


def test_unusable_text_in_an_admin_form_changes_nothing(admin, widget):
    url = f"/admin/widgets/{widget.id}/general"
    token = csrf_token_from(admin.get(url))
    response = admin.post(
        url,
        data={"csrf_token": token, "name": "Shop\x08", "auth_type": widget.auth_type,
              "language": widget.language},
    )  # fmt: skip
    assert response.status_code == 400
    assert Widget.get_by_id(widget.id).name != "Shop\x08"


# --- ids in URLs -----------------------------------------------------------------------------


def test_every_admin_id_in_a_url_uses_the_id_converter(app):
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("admin.")]
    with_ids = [rule for rule in rules if rule.arguments]
    assert with_ids, "the admin has routes with ids"
    for rule in with_ids:
        for name in rule.arguments:
            assert isinstance(rule._converters[name], IdConverter), rule.rule


@pytest.mark.parametrize(
    "number", [str(ID_MAX + 1), str(2**64), "9" * 19, "9" * 40, "0", str(ID_MAX)]
)
def test_ids_out_of_range_are_404(admin, widget, number):
    for path in (
        f"/admin/conversations/{number}",
        f"/admin/contacts/{number}",
        f"/admin/widgets/{number}/general",
    ):
        assert admin.get(path).status_code == 404, path


def test_ids_out_of_range_in_posts_are_404(admin):
    page = admin.get("/admin/agents/")
    token = csrf_token_from(page)
    response = admin.post(f"/admin/agents/{ID_MAX + 1}/delete", data={"csrf_token": token})
    assert response.status_code == 404


# --- caching of token-dependent widget answers -------------------------------------------------


def test_token_dependent_widget_answers_are_never_cached(client, widget):
    token = secrets.token_hex(24)
    start_chat(client, widget, token)
    headers = visitor_headers(token)
    for response in (
        client.get(f"/widget/{widget.key}/pane", headers=headers),
        send_message(client, widget, token, "again"),
        client.get(f"/widget/{widget.key}/stream", headers=headers, buffered=False),
        client.post(f"/widget/{widget.key}/guest", headers=headers),  # a refusal too
        client.get(f"/widget/{widget.key}"),
    ):
        assert response.headers["Cache-Control"] == "private, no-store", response.request.path
        response.close()
    # The loader is public and the same for everyone: it may be cached.
    assert "max-age" in client.get("/embed.js").headers["Cache-Control"]


# --- Content-Security-Policy ---------------------------------------------------------------------


def policy_of(response):
    directives = {}
    for part in response.headers["Content-Security-Policy"].split(";"):
        name, _, value = part.strip().partition(" ")
        directives[name] = value
    return directives


def test_pages_allow_scripts_from_files_only(admin, client, widget, app):
    pages = [
        admin.get("/admin/"),
        admin.get(f"/admin/widgets/{widget.id}/install"),
        client.get(f"/widget/{widget.key}"),
        app.test_client().get("/admin/login"),
        client.get("/demo", base_url="http://localhost:5000"),
    ]
    for response in pages:
        policy = policy_of(response)
        assert policy["script-src"].split()[0] == "'self'", response.request.path
        assert "unsafe" not in policy["script-src"]
        assert policy["object-src"] == "'none'"
    assert policy_of(pages[0])["frame-ancestors"] == "'none'"
    assert policy_of(pages[-1])["script-src"] == "'self' http://127.0.0.1:5000"


def test_the_policy_keeps_the_widgets_frame_ancestors(client, widget):
    widget.allowed_domains = "shop.example"
    widget.save()
    policy = policy_of(client.get(f"/widget/{widget.key}"))
    assert policy["frame-ancestors"] == "'self' shop.example"
    assert policy["script-src"] == "'self'"


def test_templates_hold_no_inline_script():
    """What a ``script-src 'self'`` page would not run: inline scripts, event handler attributes,
    and htmx's hx-on and ``js:`` values (htmx evaluates those with Function, i.e. eval)."""
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text()
        inline = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", text)
        assert not inline, f"{path}: inline <script>"
        assert not re.search(r"\son[a-z]+\s*=", text), f"{path}: an on...= attribute"
        assert "hx-on" not in text and '"js:' not in text and "'js:" not in text, path
        assert "javascript:" not in text, path


# --- allowed domains ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "entry", ["*.com", "*.co.uk", "com", "co.uk", "github.io", "https://github.io", "*.github.io"]
)
def test_public_suffixes_are_not_allowed_domains(entry):
    with pytest.raises(DomainListError, match="public suffix"):
        clean_allowed_domains(f"shop.example.com\n{entry}")


def test_own_sites_stay_allowed_domains():
    text = "shop.example.com\n*.example.co.uk\nada.github.io\nlocalhost:5000\nshop.example"
    assert clean_allowed_domains(text) == text


def test_the_general_form_says_why_a_public_suffix_is_refused(admin, widget):
    response = save_general(admin, widget, allowed_domains="*.co.uk")
    assert response.status_code == 422
    assert "names a public suffix" in response.data.decode()
    assert Widget.get_by_id(widget.id).allowed_domains is None


def test_a_stored_conversation_page_never_breaks(admin, client, widget):
    """The admin page of a code-type client with odd but valid data still renders."""
    set_auth_type(widget, AuthType.CODE)
    token = secrets.token_hex(24)
    user = {"id": "42", "name": "\U0001f600 Ada", "note": "tab\there"}
    assert identify(client, widget, token, user_data=user).status_code == 200
    start_chat(client, widget, token)
    conversation = Conversation.get()
    assert admin.get(f"/admin/conversations/{conversation.id}").status_code == 200
