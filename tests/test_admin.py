"""Request-level tests of the admin: sign-in, CSRF, framing, settings, inbox and replies."""

import secrets

import pytest
from helpers import (
    ADMIN_PASSWORD,
    csrf_token_from,
    fill_in_form,
    general_url,
    identify,
    post_reply,
    save_general,
    send_message,
    set_auth_type,
    sign_in,
    visitor_headers,
)

from models import AuthType, Message, Widget


def test_admin_pages_need_a_sign_in(client):
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login" in response.headers["Location"]


def test_wrong_password_is_refused(client):
    response = sign_in(client, password="wrong")
    assert response.status_code == 401
    assert b"do not match" in response.data
    assert client.get("/admin/").status_code == 302


def test_sign_in_without_csrf_token_is_refused(client):
    response = client.post(
        "/admin/login", data={"email": "admin@example.com", "password": "whatever"}
    )
    assert response.status_code == 400
    assert b"expired" in response.data


def test_admin_is_not_frameable(admin):
    for path in ("/admin/login", "/admin/"):
        response = admin.get(path)
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_general_page_lists_the_four_types(admin, widget):
    page = admin.get("/admin/widgets/", follow_redirects=True)
    assert page.status_code == 200
    text = page.data.decode()
    assert "Client authentication type" in text
    for label in (
        "No data required – client will appear as &#34;visitor&#34;",
        "You provide information about client through code",
        "Client provides information through form",
        "Client can optionally provide information through form",
    ):
        assert label in text


def test_saving_the_type_applies_to_the_next_widget(admin, client, widget):
    response = save_general(admin, widget, auth_type=AuthType.FORM, language="de")
    assert response.status_code == 200
    assert b"Saved." in response.data
    assert b"<html" not in response.data  # the partial alone, for htmx to swap
    assert Widget.get_by_id(widget.id).auth_type == AuthType.FORM
    pane = client.get(f"/widget/{widget.key}/pane", headers=visitor_headers())
    assert b"E-Mail" in pane.data


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"auth_type": "telepathy"}, b"Not a valid choice"),
        ({"auth_type": ""}, b"Choose how clients identify."),
        ({"name": ""}, b"Give the widget a name"),
        ({"language": "xx"}, b"Not a valid choice"),
    ],
)
def test_invalid_settings_are_refused_with_a_message(admin, widget, changes, message):
    response = save_general(admin, widget, **changes)
    assert response.status_code == 422
    assert message in response.data
    unchanged = Widget.get_by_id(widget.id)
    assert (unchanged.auth_type, unchanged.name, unchanged.language) == (
        widget.auth_type,
        widget.name,
        widget.language,
    )


def test_settings_post_without_csrf_is_refused(admin, widget):
    response = admin.post(general_url(widget), data={"name": "x", "auth_type": AuthType.CODE})
    assert response.status_code == 400
    assert Widget.get_by_id(widget.id).auth_type == AuthType.NONE


def test_agent_without_admin_rights_cannot_open_settings(
    client, widget, agent_without_admin_rights
):
    assert sign_in(client, "agent@example.com", "agent-password-1").status_code == 302
    assert client.get("/admin/").status_code == 200
    assert client.get(general_url(widget)).status_code == 403
    assert client.get("/admin/widgets/").status_code == 403


def test_inbox_shows_who_is_asking(admin, client, widget):
    set_auth_type(widget, AuthType.NONE)
    send_message(client, widget, secrets.token_hex(24), "anonymous question")

    set_auth_type(widget, AuthType.FORM)
    token = secrets.token_hex(24)
    fill_in_form(client, widget, token)
    send_message(client, widget, token, "form question")

    set_auth_type(widget, AuthType.CODE)
    token = secrets.token_hex(24)
    identify(client, widget, token, user_data={"id": "7", "name": "Ada", "plan": "Premium"})
    send_message(client, widget, token, "code question")

    inbox = admin.get("/admin/").data.decode()
    assert "Visitor #" in inbox
    assert "Grace Hopper" in inbox and "grace@example.com" in inbox
    assert "Ada" in inbox
    # newest activity first
    assert inbox.index("code question") < inbox.index("form question")
    assert inbox.index("form question") < inbox.index("anonymous question")


def test_conversation_page_shows_messages_and_client_data(admin, client, widget):
    set_auth_type(widget, AuthType.CODE)
    token = secrets.token_hex(24)
    identify(client, widget, token, user_data={"id": "7", "name": "Ada", "phone": "+44 1"})
    send_message(client, widget, token, "alpha question")
    send_message(client, widget, token, "beta question")
    conversation = Message.get(Message.body == "alpha question").conversation
    page = admin.get(f"/admin/conversations/{conversation.id}").data.decode()
    # The workspace: the inbox list (whose row previews the last message), then the thread.
    thread = page[page.index('id="thread"') :]
    assert thread.index("alpha question") < thread.index("beta question")
    assert "+44 1" in thread and "phone" in thread


def test_agent_reply_is_stored_and_shown_to_the_client(admin, client, widget):
    token = secrets.token_hex(24)
    send_message(client, widget, token, "Do you ship to Norway?")
    response = post_reply(admin, Message.get().conversation, "Yes, in 3 days.")
    assert response.status_code == 200
    assert b"Yes, in 3 days." in response.data
    reply = Message.get(Message.body == "Yes, in 3 days.")
    assert reply.sender == Message.FROM_AGENT and reply.agent.email == "admin@example.com"
    pane = client.get(f"/widget/{widget.key}/pane", headers=visitor_headers(token))
    assert b"Yes, in 3 days." in pane.data and b"fd-theirs" in pane.data


def test_empty_reply_is_refused(admin, client, widget):
    send_message(client, widget, secrets.token_hex(24), "hello")
    response = post_reply(admin, Message.get().conversation, "  ")
    assert response.status_code == 422
    assert b"Write a reply first." in response.data
    assert Message.select().count() == 1


def test_unknown_conversation_is_a_404(admin):
    response = admin.get("/admin/conversations/999999")
    assert response.status_code == 404
    assert b"Not found" in response.data


def test_login_redirect_stays_on_this_site(client):
    page = client.get("/admin/login")
    response = client.post(
        "/admin/login?next=https://evil.example/",
        data={
            "email": "admin@example.com",
            "password": ADMIN_PASSWORD,
            "csrf_token": csrf_token_from(page),
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"


# --- sign-in limits ----------------------------------------------------------------------------


def test_sign_in_attempts_are_limited(app, client):
    app.config["SIGN_IN_ATTEMPTS_PER_15_MINUTES"] = 3
    statuses = [sign_in(client, password="wrong").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    locked = sign_in(client)  # even the right password waits
    assert b"Too many failed sign-ins. Try again in 15 minutes." in locked.data
