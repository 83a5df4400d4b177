"""Replies that arrive while the widget is closed: the unread count and preview the launcher
shows, the read mark the open chat sets, the widget's notification settings, and the mail of
unread replies (``flask --app app send-unread-replies``), on SQLite and PostgreSQL."""

import datetime
import email
import secrets
from email import policy
from pathlib import Path

import pytest
from helpers import (
    ADA,
    general_url,
    identify,
    post_reply,
    save_general,
    set_auth_type,
    sign,
    start_chat,
    visitor_headers,
)

from db import utcnow
from models import AuthType, Client, Message, Widget
from unread_mail import send_unread_replies


def unread(client, widget, token):
    response = client.get(f"/widget/{widget.key}/unread", headers=visitor_headers(token))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    return response.get_json()


def mark_read(client, widget, token):
    response = client.post(f"/widget/{widget.key}/unread", headers=visitor_headers(token))
    assert response.status_code == 200
    return response.get_json()


def test_agent_replies_count_as_unread_until_the_open_chat_shows_them(admin, widget):
    token = secrets.token_hex(24)
    assert unread(admin, widget, token) == {"chatting": False, "unread": 0, "preview": ""}
    conversation = start_chat(admin, widget, token, "Where is my parcel?")
    assert unread(admin, widget, token) == {"chatting": True, "unread": 0, "preview": ""}

    post_reply(admin, conversation, "Let me look.")
    post_reply(admin, conversation, "It left the warehouse this morning.")
    assert unread(admin, widget, token) == {
        "chatting": True,
        "unread": 2,
        "preview": "It left the warehouse this morning.",
    }
    assert unread(admin, widget, token)["unread"] == 2  # looking is not reading

    assert mark_read(admin, widget, token) == {"chatting": True, "unread": 0, "preview": ""}
    assert unread(admin, widget, token)["unread"] == 0  # kept on the server: survives a reload
    post_reply(admin, conversation, "It arrives tomorrow.")
    assert unread(admin, widget, token)["unread"] == 1
    other = secrets.token_hex(24)
    start_chat(admin, widget, other, "Hello from another visitor")
    assert unread(admin, widget, other)["unread"] == 0  # one visitor's replies only


def test_the_preview_is_the_first_words_as_plain_text(admin, widget):
    token = secrets.token_hex(24)
    conversation = start_chat(admin, widget, token, "Hi")
    body = "<b>Hello</b>\n\n  there " + "x" * 200
    post_reply(admin, conversation, body)
    preview = unread(admin, widget, token)["preview"]
    assert preview.startswith("<b>Hello</b> there xxx")  # text (the page sets textContent)
    assert len(preview) == Client.PREVIEW_LENGTH and preview.endswith("…")


def test_visitors_own_messages_and_status_changes_are_never_unread(admin, widget):
    token = secrets.token_hex(24)
    conversation = start_chat(admin, widget, token, "One")
    start_chat(admin, widget, token, "Two")
    conversation.set_status("closed", agent=None)
    assert unread(admin, widget, token)["unread"] == 0


def test_without_a_token_the_unread_count_is_refused_plainly(client, widget):
    response = client.get(f"/widget/{widget.key}/unread")
    assert response.status_code == 400
    response = client.post(f"/widget/{widget.key}/unread", headers={"X-Frontdesk-Token": "x"})
    assert response.status_code == 400
    assert client.get("/widget/no-such-key/unread", headers=visitor_headers()).status_code == 404


def test_the_loader_settings_carry_the_notice_texts_and_switches(client, widget):
    widget.language, widget.notify_sound = "de", False
    widget.save()
    settings = client.get(f"/widget/{widget.key}/settings.json").get_json()
    assert settings["unread_one"] == "Chatte mit uns, 1 ungelesene Nachricht"
    assert settings["unread_many"] == "Chatte mit uns, ungelesene Nachrichten: {count}"
    assert settings["new_message"] == "Neue Nachricht" and settings["dismiss"] == "Ausblenden"
    assert settings["notify_sound"] is False and settings["notify_title"] is True


def test_general_settings_save_the_notification_switches(admin, widget):
    response = save_general(admin, widget, notify_title="y", unread_mail_delay="30")
    assert response.status_code == 200 and b"Saved." in response.data
    widget = Widget.get_by_id(widget.id)
    assert (widget.notify_sound, widget.notify_title, widget.unread_mail_delay) == (False, True, 30)
    page = admin.get(general_url(widget)).data.decode()
    assert "<legend>Notifications</legend>" in page and 'value="30"' in page

    for bad in ("-1", "1441", "soon"):
        response = save_general(admin, widget, unread_mail_delay=bad)
        assert response.status_code == 422, bad
    assert b"Enter 0 to 1440 minutes" in response.data
    assert Widget.get_by_id(widget.id).unread_mail_delay == 30


# --- the mail of unread replies ------------------------------------------------------------------


@pytest.fixture
def code_widget(app, widget):
    app.config["SMTP_HOST"] = None  # mails land in the outbox folder
    return set_auth_type(widget, AuthType.CODE)


def outbox_mails(app):
    folder = Path(app.config["OUTBOX_DIR"])
    paths = sorted(folder.glob("*.eml"), key=lambda path: path.stat().st_mtime_ns)
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in paths]


def signed_in_ada(client, widget, language="en"):
    """Ada, signed by the site (a proven address), with a conversation in ``language``."""
    token = secrets.token_hex(24)
    response = identify(client, widget, token, identity_token=sign(widget))
    assert response.status_code == 200
    headers = {**visitor_headers(token), "X-Frontdesk-Language": language}
    response = client.post(
        f"/widget/{widget.key}/messages",
        data={"body": "Is my order on its way?", "client_msg_id": secrets.token_hex(8)},
        headers={**headers, "X-Frontdesk-Page": "https://shop.example/orders"},
    )
    assert response.status_code == 200
    return token, Message.get(Message.body == "Is my order on its way?").conversation


def later(minutes):
    return utcnow() + datetime.timedelta(minutes=minutes)


def test_unread_replies_are_mailed_once_after_the_widgets_delay(app, admin, code_widget):
    token, conversation = signed_in_ada(admin, code_widget)
    post_reply(admin, conversation, "Yes, it ships today.")
    post_reply(admin, conversation, "Tracking: <a href=x>ZX-1</a>")
    with app.app_context():
        assert send_unread_replies(now=later(9)) == 0  # the delay (10 minutes) is not over
        assert send_unread_replies(now=later(11)) == 1
        assert send_unread_replies(now=later(12)) == 0  # never twice for the same replies
    (mail,) = outbox_mails(app)
    assert mail["To"] == ADA["email"] and mail["Subject"] == "New reply from Demo shop"
    text = mail.get_body(preferencelist=("plain",)).get_content()
    assert "Hi Ada Lovelace," in text and "Yes, it ships today." in text
    assert "https://shop.example/orders" in text and "Is my order on its way?" not in text
    html = mail.get_body(preferencelist=("html",)).get_content()
    assert "&lt;a href=x&gt;ZX-1&lt;/a&gt;" in html and "<a href=x>" not in html

    post_reply(admin, conversation, "It arrived at the depot.")
    with app.app_context():
        assert send_unread_replies(now=later(11)) == 1  # a new batch: only the new reply
    text = outbox_mails(app)[-1].get_body(preferencelist=("plain",)).get_content()
    assert "It arrived at the depot." in text and "ships today" not in text
    assert unread(admin, code_widget, token)["unread"] == 3  # mailed is still unread in the widget


def test_read_replies_unproven_addresses_and_a_zero_delay_get_no_mail(app, admin, code_widget):
    token, conversation = signed_in_ada(admin, code_widget)
    post_reply(admin, conversation, "Read in the widget")
    mark_read(admin, code_widget, token)
    with app.app_context():
        assert send_unread_replies(now=later(11)) == 0

    unsigned = secrets.token_hex(24)  # the same address, unsigned: not proven
    identify(admin, code_widget, unsigned, user_data={**ADA, "id": "77"})
    other = start_chat(admin, code_widget, unsigned, "Unsigned question")
    assert not other.client.email_confirmed
    post_reply(admin, other, "Answer to an unproven address")

    post_reply(admin, conversation, "Unread, but mail is off")
    code_widget.unread_mail_delay = 0
    code_widget.save()
    with app.app_context():
        assert send_unread_replies(now=later(60)) == 0
    assert outbox_mails(app) == []


def test_the_command_mails_in_the_language_the_visitor_chatted_in(app, admin, code_widget):
    _, conversation = signed_in_ada(admin, code_widget, language="fr")
    post_reply(admin, conversation, "Oui, aujourd'hui.")
    Message.update(created_at=utcnow() - datetime.timedelta(minutes=15)).execute()

    result = app.test_cli_runner().invoke(args=["send-unread-replies"])
    assert result.exit_code == 0, result.output
    assert "Unread-reply mails sent: 1." in result.output
    (mail,) = outbox_mails(app)
    assert mail["Subject"] == "Nouvelle réponse de Demo shop"
    assert mail["Content-Language"] == "fr"
    again = app.test_cli_runner().invoke(args=["send-unread-replies"])
    assert "Unread-reply mails sent: 0." in again.output


def test_two_runs_at_once_mail_a_batch_once(app, admin, code_widget):
    _, conversation = signed_in_ada(admin, code_widget)
    post_reply(admin, conversation, "Only once, please")
    ada = Client.get(Client.verified == True)  # noqa: E712
    first, second = Client.get_by_id(ada.id), Client.get_by_id(ada.id)  # two runs' reads
    assert [m.body for m in first.claim_unread_for_mail()] == ["Only once, please"]
    assert second.claim_unread_for_mail() == []  # the other run found it claimed
    assert Client.get_by_id(ada.id).replies_mailed_upto == first.unread_replies().first().id


def test_an_email_a_signed_user_left_is_kept_unproven_and_never_mailed(app, admin, code_widget):
    """A site that signs its user without an email: the email the visitor leaves in the widget
    is theirs to confirm. It outlives the site's data on the next page, and no unread reply is
    mailed to it while it is unproven."""
    no_email = {key: value for key, value in ADA.items() if key != "email"}
    token = secrets.token_hex(24)
    assert (
        identify(admin, code_widget, token, identity_token=sign(code_widget, no_email)).status_code
        == 200
    )
    conversation = start_chat(admin, code_widget, token, "Write to me by mail, please")
    left = admin.post(
        f"/widget/{code_widget.key}/email",
        data={"email": "someone@example.com"},
        headers=visitor_headers(token),
    )
    assert left.status_code == 200, left.data
    identify(admin, code_widget, token, identity_token=sign(code_widget, no_email))  # next page
    client = Client.get(Client.verified == True)  # noqa: E712
    assert (client.email, client.email_confirmed) == ("someone@example.com", False)

    post_reply(admin, conversation, "Here is your answer")
    with app.app_context():
        assert send_unread_replies(now=later(60)) == 0
    assert outbox_mails(app) == []
