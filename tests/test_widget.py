"""Request-level tests of the widget: each authentication type, the forms, the token, bad input."""

import json
import secrets

import pytest
from helpers import fill_in_form, identify, send_message, set_auth_type, visitor_headers

from models import (
    MESSAGE_MAX_LENGTH,
    AuthType,
    Client,
    Contact,
    Conversation,
    Message,
)


def url(widget, path=""):
    return f"/widget/{widget.key}{path}"


def stored_bodies():
    return [m.body for m in Message.select().order_by(Message.id)]


# --- the page inside the iframe, and the loader's settings ---------------------------------


def test_unknown_widget_key_gets_a_friendly_404_inside_the_iframe(client):
    response = client.get("/widget/no-such-key")
    assert response.status_code == 404
    assert b"This chat is not available." in response.data
    assert b"frontdesk-widget" not in response.data  # no key: the glue starts no session


def test_unknown_widget_key_in_partials_and_loader_settings(client):
    pane = client.get("/widget/no-such-key/pane", headers=visitor_headers())
    assert pane.status_code == 404
    assert b"This chat is not available." in pane.data
    settings = client.get("/widget/no-such-key/settings.json")
    assert settings.status_code == 404
    assert settings.json == {"error": "unknown widget key"}


def test_loader_settings_are_public_and_carry_the_type(client, widget):
    set_auth_type(widget, AuthType.CODE, "de")
    response = client.get(url(widget, "/settings.json"))
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.json["auth_type"] == AuthType.CODE
    assert response.json["launcher_label"] == "Chatte mit uns"


def test_widget_frame_can_be_framed_by_any_site(client, widget):
    response = client.get(url(widget))
    assert response.status_code == 200
    assert "X-Frame-Options" not in response.headers
    assert "frame-ancestors" not in response.headers.get("Content-Security-Policy", "")


def test_embed_script_is_served(client):
    response = client.get("/embed.js")
    assert response.status_code == 200
    assert b"/static/embed-chat." in response.data  # the rest of the loader, fetched when needed


# --- the visitor token -------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "short", "x" * 200, "has spaces in it " * 3])
def test_missing_or_malformed_token_is_refused_and_nothing_stored(client, widget, token):
    headers = {"HX-Request": "true"}
    if token is not None:
        headers["X-Frontdesk-Token"] = token
    response = client.post(
        url(widget, "/messages"), data={"body": "hello", "client_msg_id": "a1"}, headers=headers
    )
    assert response.status_code == 400
    assert b"storage" in response.data
    assert Client.select().count() == 0
    assert Message.select().count() == 0


def test_token_is_stored_hashed_and_recognises_the_visitor(client, widget):
    token = secrets.token_hex(24)
    send_message(client, widget, token, "first")
    stored = Client.get()
    assert stored.token_hash != token and token not in stored.token_hash
    send_message(client, widget, token, "second")
    assert Client.select().count() == 1
    pane = client.get(url(widget, "/pane"), headers=visitor_headers(token))
    assert pane.data.index(b"first") < pane.data.index(b"second")
    other = client.get(url(widget, "/pane"), headers=visitor_headers())
    assert b"first" not in other.data


# --- no data required --------------------------------------------------------------------------


def test_no_data_type_shows_the_chat_at_once_and_stores_messages_in_order(client, widget):
    set_auth_type(widget, AuthType.NONE)
    token = secrets.token_hex(24)
    pane = client.get(url(widget, "/pane"), headers=visitor_headers(token))
    assert pane.status_code == 200
    assert b'id="composer"' in pane.data
    assert b'class="fd-contact"' not in pane.data  # no login form (only the optional email)
    for body in ("Hello", "Do you ship to Norway?", "Thanks!"):
        assert send_message(client, widget, token, body).status_code == 200
    assert stored_bodies() == ["Hello", "Do you ship to Norway?", "Thanks!"]
    visitor = Client.get()
    assert visitor.display_name == f"Visitor #{visitor.id}"
    assert visitor.kind == "visitor"


def test_a_resent_message_is_stored_once(client, widget):
    token = secrets.token_hex(24)
    first = send_message(client, widget, token, "Where is my order?", msg_id="msg-123")
    again = send_message(client, widget, token, "Where is my order?", msg_id="msg-123")
    assert first.status_code == again.status_code == 200
    assert stored_bodies() == ["Where is my order?"]


def test_sent_message_comes_back_with_a_fresh_composer(client, widget):
    token = secrets.token_hex(24)
    response = send_message(client, widget, token, "Hi <b>there</b>", msg_id="first-id")
    assert b"Hi &lt;b&gt;there&lt;/b&gt;" in response.data  # escaped, never markup
    assert b'hx-target="#composer"' in response.data
    assert b'value="first-id"' not in response.data


@pytest.mark.parametrize(
    "body, error",
    [
        ("", b"Please write a message first."),
        ("   \n  ", b"Please write a message first."),
        ("x" * (MESSAGE_MAX_LENGTH + 1), b"Your message is too long"),
    ],
)
def test_empty_or_overlong_message_is_refused_and_not_stored(client, widget, body, error):
    response = send_message(client, widget, secrets.token_hex(24), body)
    assert response.status_code == 422
    assert error in response.data
    assert Message.select().count() == 0
    assert Conversation.select().count() == 0


def test_overlong_message_keeps_what_was_typed(client, widget):
    body = "y" * (MESSAGE_MAX_LENGTH + 1)
    response = send_message(client, widget, secrets.token_hex(24), body)
    assert body.encode() in response.data


def test_errors_follow_the_widget_language(client, widget):
    set_auth_type(widget, AuthType.NONE, "de")
    response = send_message(client, widget, secrets.token_hex(24), "")
    assert b"Bitte schreib zuerst eine Nachricht." in response.data


# --- through form ------------------------------------------------------------------------------


def test_form_type_shows_the_form_first_without_a_guest_button(client, widget):
    set_auth_type(widget, AuthType.FORM)
    pane = client.get(url(widget, "/pane"), headers=visitor_headers())
    assert b'name="name"' in pane.data and b'name="email"' in pane.data
    assert b"Continue as guest" not in pane.data
    assert b'id="composer"' not in pane.data


def test_form_type_refuses_chat_before_the_form(client, widget):
    set_auth_type(widget, AuthType.FORM)
    response = send_message(client, widget, secrets.token_hex(24), "let me in")
    assert response.status_code == 403
    assert response.headers["HX-Retarget"] == "#pane"
    assert b'name="email"' in response.data
    assert Message.select().count() == 0
    assert Client.select().count() == 0


def test_empty_form_gets_both_messages(client, widget):
    set_auth_type(widget, AuthType.FORM)
    response = fill_in_form(client, widget, secrets.token_hex(24), "", "")
    assert response.status_code == 422
    assert b"Please enter your name." in response.data
    assert b"Please enter your email address." in response.data
    assert Contact.select().count() == 0


@pytest.mark.parametrize("email", ["grace@", "not an email", "grace@@example.com", "a@b"])
def test_invalid_email_keeps_what_was_typed(client, widget, email):
    set_auth_type(widget, AuthType.FORM)
    response = fill_in_form(client, widget, secrets.token_hex(24), "Grace Hopper", email)
    assert response.status_code == 422
    assert b"Please enter a valid email address" in response.data
    assert b'value="Grace Hopper"' in response.data
    assert Contact.select().count() == 0
    assert Client.select().count() == 0


def test_form_saves_a_contact_and_opens_the_chat(client, widget):
    set_auth_type(widget, AuthType.FORM)
    token = secrets.token_hex(24)
    response = fill_in_form(client, widget, token, "  Grace Hopper ", "Grace@Example.com")
    assert response.status_code == 200
    assert b'id="composer"' in response.data
    saved = Contact.get()
    assert (saved.name, saved.email) == ("Grace Hopper", "grace@example.com")
    assert send_message(client, widget, token, "Hello from Grace").status_code == 200
    visitor = Client.get()
    assert visitor.contact_id == saved.id
    assert visitor.display_name == "Grace Hopper"
    pane = client.get(url(widget, "/pane"), headers=visitor_headers(token))
    assert b"Hello from Grace" in pane.data and b'name="email"' not in pane.data


def test_one_contact_per_email_and_a_new_name_updates_it_once_confirmed(client, widget):
    set_auth_type(widget, AuthType.FORM)
    fill_in_form(client, widget, secrets.token_hex(24), "Grace", "grace@example.com")
    fill_in_form(client, widget, secrets.token_hex(24), "Grace B. Hopper", "GRACE@example.com")
    assert Contact.select().count() == 1
    assert Contact.get().name == "Grace"  # a typed email renames nobody
    assert Client.select().count() == 2
    second = Client.select().order_by(Client.id.desc()).get()
    assert second.contact_id is None and second.display_name == "Grace B. Hopper"
    second.confirm_email()  # what the confirmation link does
    assert Contact.get().name == "Grace B. Hopper" and second.contact_id == Contact.get().id


def test_overlong_name_is_refused(client, widget):
    set_auth_type(widget, AuthType.FORM)
    response = fill_in_form(client, widget, secrets.token_hex(24), "n" * 101, "n@example.com")
    assert response.status_code == 422
    assert b"at most 100 characters" in response.data


# --- optionally through form -------------------------------------------------------------------


def test_optional_form_offers_the_guest_button(client, widget):
    set_auth_type(widget, AuthType.OPTIONAL_FORM)
    pane = client.get(url(widget, "/pane"), headers=visitor_headers())
    assert b"Continue as guest" in pane.data
    assert b'name="email"' in pane.data


def test_guest_path_leads_to_the_chat(client, widget):
    set_auth_type(widget, AuthType.OPTIONAL_FORM)
    token = secrets.token_hex(24)
    response = client.post(url(widget, "/guest"), headers=visitor_headers(token))
    assert response.status_code == 200 and b'id="composer"' in response.data
    assert send_message(client, widget, token, "just browsing").status_code == 200
    guest = Client.get()
    assert guest.is_guest and guest.contact_id is None
    assert guest.display_name == f"Visitor #{guest.id}"


def test_form_path_of_the_optional_type_leads_to_the_chat(client, widget):
    set_auth_type(widget, AuthType.OPTIONAL_FORM)
    token = secrets.token_hex(24)
    assert fill_in_form(client, widget, token, "Ada", "ada@example.com").status_code == 200
    assert send_message(client, widget, token, "hi").status_code == 200
    assert Client.get().display_name == "Ada"


def test_optional_form_still_refuses_chat_before_a_choice(client, widget):
    set_auth_type(widget, AuthType.OPTIONAL_FORM)
    assert send_message(client, widget, secrets.token_hex(24), "hi").status_code == 403
    assert Message.select().count() == 0


# --- requests that do not fit the type ---------------------------------------------------------


@pytest.mark.parametrize(
    "auth_type, path, data",
    [
        (AuthType.CODE, "/contact", {"name": "Eve", "email": "eve@example.com"}),
        (AuthType.NONE, "/contact", {"name": "Eve", "email": "eve@example.com"}),
        (AuthType.FORM, "/guest", {}),
        (AuthType.NONE, "/identify", {"custom_user_data": '{"id": "1"}'}),
        (AuthType.FORM, "/identify", {"custom_user_data": '{"id": "1"}'}),
    ],
)
def test_requests_that_do_not_fit_the_type_store_nothing(client, widget, auth_type, path, data):
    set_auth_type(widget, auth_type)
    response = client.post(url(widget, path), data=data, headers=visitor_headers())
    assert response.status_code == 409
    assert Client.select().count() == 0
    assert Contact.select().count() == 0


# --- through code ------------------------------------------------------------------------------


ADA = {
    "id": "42",
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "plan": "Premium",
    "phone": "+44 20 7946 0000",
}


def test_code_type_without_user_data_does_not_chat(client, widget):
    set_auth_type(widget, AuthType.CODE)
    token = secrets.token_hex(24)
    pane = client.get(url(widget, "/pane"), headers=visitor_headers(token))
    assert pane.status_code == 403
    assert b"Please sign in on the website" in pane.data
    assert send_message(client, widget, token, "hello?").status_code == 403
    assert Message.select().count() == 0


def test_code_type_stores_the_user_data_with_extra_fields(client, widget):
    set_auth_type(widget, AuthType.CODE)
    token = secrets.token_hex(24)
    response = identify(client, widget, token, user_data=ADA)
    assert response.status_code == 200
    assert b'id="composer"' in response.data and b"Hi Ada Lovelace!" in response.data
    assert send_message(client, widget, token, "Hello from Ada").status_code == 200
    user = Client.get()
    assert (user.external_id, user.name, user.email) == ("42", "Ada Lovelace", "ada@example.com")
    assert user.custom_fields == {"plan": "Premium", "phone": "+44 20 7946 0000"}
    assert user.kind == "site user (unverified)" and not user.verified


def test_code_type_updates_the_data_of_the_same_user(client, widget):
    set_auth_type(widget, AuthType.CODE)
    token = secrets.token_hex(24)
    identify(client, widget, token, user_data=ADA)
    identify(client, widget, token, user_data={**ADA, "plan": "Basic", "name": "Ada King"})
    user = Client.get()
    assert user.name == "Ada King" and user.custom_fields["plan"] == "Basic"
    assert Client.select().count() == 1


def test_code_type_refuses_another_user_on_the_same_token(client, widget):
    set_auth_type(widget, AuthType.CODE)
    token = secrets.token_hex(24)
    identify(client, widget, token, user_data=ADA)
    response = identify(client, widget, token, user_data={"id": "43", "name": "Mallory"})
    assert response.status_code == 409
    assert Client.get().name == "Ada Lovelace"


@pytest.mark.parametrize(
    "raw, status",
    [
        ("not json", 422),
        ("[1, 2]", 422),
        ('{"name": "no id"}', 422),
        ('{"id": ""}', 422),
        ('{"id": null}', 422),
        (json.dumps({"id": "1", "bio": "x" * 9000}), 413),
    ],
)
def test_bad_user_data_is_refused_and_nothing_stored(client, widget, raw, status):
    set_auth_type(widget, AuthType.CODE)
    response = identify(client, widget, secrets.token_hex(24), user_data=raw)
    assert response.status_code == status
    assert b"We could not recognise your account" in response.data
    assert Client.select().count() == 0


def test_nested_user_data_values_are_dropped_not_stored(client, widget):
    set_auth_type(widget, AuthType.CODE)
    data = {"id": 7, "tags": ["a"], "meta": {"x": 1}}
    identify(client, widget, secrets.token_hex(24), user_data=data)
    assert Client.get().external_id == "7"
    assert Client.get().custom_fields == {}


def test_changing_the_type_applies_to_the_next_pane(client, widget):
    token = secrets.token_hex(24)
    set_auth_type(widget, AuthType.NONE)
    assert b'id="composer"' in client.get(url(widget, "/pane"), headers=visitor_headers(token)).data
    set_auth_type(widget, AuthType.FORM)
    assert b'name="email"' in client.get(url(widget, "/pane"), headers=visitor_headers(token)).data


def test_wrong_method_in_the_widget_is_a_readable_notice(client, widget):
    response = client.get(url(widget, "/messages"), headers=visitor_headers())
    assert response.status_code == 405
    assert b"Something went wrong. Please try again." in response.data


# --- limits and odd input -------------------------------------------------------------------


def test_widget_writes_per_address_are_limited(app, client, widget):
    app.config["WIDGET_WRITES_PER_MINUTE"] = 5
    token = secrets.token_hex(24)
    statuses = [send_message(client, widget, token, f"m{n}").status_code for n in range(7)]
    assert statuses == [200] * 5 + [429] * 2
    refused = send_message(client, widget, token, "once more")
    assert b"You are sending a lot at once." in refused.data
    assert Message.select().count() == 5


def test_new_visitors_per_address_are_limited(app, client, widget):
    app.config["NEW_CLIENTS_PER_HOUR"] = 3
    statuses = [send_message(client, widget, secrets.token_hex(24)).status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    assert Client.select().count() == 3 and Conversation.select().count() == 3


def test_nul_characters_are_refused(client, widget):
    response = send_message(client, widget, secrets.token_hex(24), "bad\x00byte")
    assert response.status_code == 400
    assert Message.select().count() == 0
    assert client.get("/widget/ab%00cd").status_code == 400


def test_deeply_nested_user_data_is_refused(client, widget):
    set_auth_type(widget, AuthType.CODE)
    nested = "[" * 100_000 + "]" * 100_000
    response = identify(client, widget, user_data='{"id": "1", "x": ' + nested[:8000] + "}")
    assert response.status_code == 422  # within the size limit, refused as too deep to read
    assert Client.select().count() == 0


def test_nul_inside_site_data_is_refused(client, widget):
    set_auth_type(widget, AuthType.CODE)
    token = secrets.token_hex(24)
    for raw in (
        '{"id": "42", "name": "A\\u0000", "phone": "1"}',
        '{"id": "42", "plan\\u0000": "x"}',
        '{"id": "a\\u0000b"}',
    ):
        response = identify(client, widget, token, user_data=raw)
        assert response.status_code == 422, raw
    assert Client.select().count() == 0
