"""Transcript by email and chat rating: only for clients with a known email."""

import email
import secrets
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from helpers import (
    CONFIRMATION_LINK,
    confirm_email,
    csrf_token_from,
    fill_in_form,
    free_port,
    identify,
    send_message,
    set_auth_type,
    visitor_headers,
)

from models import (
    Agent,
    AuthType,
    Client,
    Conversation,
    LabelOverride,
    Message,
    Rating,
    TranscriptMail,
)


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self):
        self.mails = []

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=policy.default)
        self.mails.append((envelope.rcpt_tos, parsed))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(app):
    """A real SMTP server on loopback, and the app configured to use it."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=port,
        SMTP_SECURITY="none",
        SMTP_FROM="Demo shop <support@shop.example>",
    )
    yield inbox
    controller.stop()


@pytest.fixture
def dead_smtp_server(app):
    """SMTP settings pointing at a port where nothing listens."""
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_SECURITY="none")


def form_client(client, widget, body="Where is my parcel?", language="en"):
    set_auth_type(widget, AuthType.FORM, language)
    token = secrets.token_hex(24)
    fill_in_form(client, widget, token)
    send_message(client, widget, token, body)
    return token


def reply(body, agent_email="admin@example.com"):
    conversation = Message.get(Message.sender == Message.FROM_CLIENT).conversation
    return conversation.add_message(body, Message.FROM_AGENT, agent=Agent.by_email(agent_email))


def test_transcript_goes_to_the_stored_email_in_the_widget_language(client, widget, smtp_server):
    token = form_client(client, widget, body="Wo ist mein Paket?", language="de")
    reply("Es ist unterwegs.")
    response = client.post(
        f"/widget/{widget.key}/transcript",
        data={"email": "attacker@evil.example"},  # ignored: the stored address is used
        headers=visitor_headers(token),
    )
    assert response.status_code == 200
    assert "grace@example.com" in response.data.decode()
    # A typed address is confirmed first: a link, in the widget's language, nothing typed.
    recipients, confirmation = smtp_server.mails[0]
    assert recipients == ["grace@example.com"]
    assert confirmation["Subject"] == "Bestätige deine E-Mail-Adresse für Demo shop"
    text = confirmation.get_body(preferencelist=("plain",)).get_content()
    assert "Wo ist mein Paket?" not in text and "Grace" not in text
    (link,) = CONFIRMATION_LINK.findall(text)
    assert confirm_email(client, link).status_code == 200
    recipients, mail = smtp_server.mails[1]
    assert recipients == ["grace@example.com"]
    assert mail["Subject"] == "Dein Gespräch mit Demo shop"
    assert mail["Content-Language"] == "de"
    plain = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    for body in (plain, html):
        assert "Hallo Grace Hopper," in body
        assert "Wo ist mein Paket?" in body and "Es ist unterwegs." in body
        assert "Admin" in body and "UTC" in body
    assert plain.index("Wo ist mein Paket?") < plain.index("Es ist unterwegs.")
    assert '<html lang="de"' in html
    assert [attempt.status for attempt in TranscriptMail.select().order_by(TranscriptMail.id)] == [
        TranscriptMail.CONFIRM,
        TranscriptMail.SENT,
    ]


def test_a_failing_mail_server_loses_nothing_and_admins_see_it(
    client, admin, widget, dead_smtp_server
):
    token = form_client(client, widget)
    response = client.post(f"/widget/{widget.key}/transcript", headers=visitor_headers(token))
    assert response.status_code == 503
    assert b"We could not send the transcript right now. Please try again later." in response.data
    attempt = TranscriptMail.get()
    assert attempt.status == TranscriptMail.FAILED and "ConnectionRefused" in attempt.error
    assert Message.select().count() == 1  # the conversation is untouched
    page = admin.get(f"/admin/conversations/{attempt.conversation_id}").data.decode()
    assert "Transcript not sent to grace@example.com" in page


def test_without_smtp_the_mail_lands_in_the_outbox(app, client, widget):
    app.config["SMTP_HOST"] = None
    token = form_client(client, widget)
    response = client.post(f"/widget/{widget.key}/transcript", headers=visitor_headers(token))
    assert response.status_code == 200
    written = sorted(Path(app.config["OUTBOX_DIR"]).glob("*.eml"))
    assert written and b"grace@example.com" in written[-1].read_bytes()


def test_agent_sends_the_transcript_from_the_conversation(admin, client, widget, smtp_server):
    form_client(client, widget, body="Where is my parcel?")
    conversation = Message.get().conversation

    def agent_sends():
        page = admin.get(f"/admin/conversations/{conversation.id}")
        return admin.post(
            f"/admin/conversations/{conversation.id}/transcript",
            data={"csrf_token": csrf_token_from(page)},
        )

    # An agent too sends the transcript only to a confirmed address: first the link.
    assert agent_sends().status_code == 302
    recipients, mail = smtp_server.mails[0]
    assert recipients == ["grace@example.com"] and "parcel" not in mail.as_string()
    assert TranscriptMail.get().status == TranscriptMail.CONFIRM
    page = admin.get(f"/admin/conversations/{conversation.id}").data.decode()
    assert "Confirmation link sent (the transcript follows once confirmed) to grace" in page

    Client.update(email_confirmed=True).execute()
    assert agent_sends().status_code == 302
    recipients, mail = smtp_server.mails[1]
    assert recipients == ["grace@example.com"] and "Where is my parcel?" in mail.as_string()
    assert TranscriptMail.select().where(TranscriptMail.status == "sent").get().requested_by == (
        "agent"
    )


def rate(client, widget, token, verdict, comment=""):
    return client.post(
        f"/widget/{widget.key}/rating",
        data={"verdict": verdict, "comment": comment},
        headers=visitor_headers(token),
    )


def test_rating_and_rating_again_replaces_it(client, widget, admin):
    token = form_client(client, widget)
    reply("On its way")
    response = rate(client, widget, token, "bad", "Took too long")
    assert response.status_code == 200 and b"You rated this chat: bad." in response.data
    assert rate(client, widget, token, "good").status_code == 200
    assert Rating.select().count() == 1
    rating = Rating.get()
    assert rating.good and rating.comment is None
    inbox = admin.get("/admin/").data.decode()
    assert "Rated good" in inbox


def test_rating_a_closed_conversation(client, widget):
    token = form_client(client, widget)
    reply("On its way")
    Message.get().conversation.set_status("closed", agent=None)
    assert rate(client, widget, token, "good").status_code == 200


@pytest.mark.parametrize(
    "verdict, comment, error",
    [
        ("", "", b"Please choose good or bad."),
        ("great", "", b"Please choose good or bad."),
        ("good", "x" * 1001, b"Please keep your comment under 1000 characters."),
    ],
)
def test_bad_ratings_are_refused(client, widget, verdict, comment, error):
    token = form_client(client, widget)
    reply("On its way")
    response = rate(client, widget, token, verdict, comment)
    assert response.status_code == 422 and error in response.data
    assert Rating.select().count() == 0


def test_visitors_and_guests_get_neither_control(client, widget):
    set_auth_type(widget, AuthType.NONE)
    visitor = secrets.token_hex(24)
    client.post(
        f"/widget/{widget.key}/messages",
        data={"body": "anonymous", "client_msg_id": "v1"},
        headers=visitor_headers(visitor),
    )
    pane = client.get(f"/widget/{widget.key}/pane", headers=visitor_headers(visitor)).data
    assert b"Email me the transcript" not in pane and b"How was this chat?" not in pane
    assert (
        client.post(
            f"/widget/{widget.key}/transcript", headers=visitor_headers(visitor)
        ).status_code
        == 403
    )
    assert rate(client, widget, visitor, "good").status_code == 403

    set_auth_type(widget, AuthType.OPTIONAL_FORM)
    guest = secrets.token_hex(24)
    client.post(f"/widget/{widget.key}/guest", headers=visitor_headers(guest))
    assert rate(client, widget, guest, "good").status_code == 403
    assert Rating.select().count() == 0 and TranscriptMail.select().count() == 0


def test_identified_clients_see_both_controls(client, widget):
    token = form_client(client, widget)
    reply("On its way")
    pane = client.get(f"/widget/{widget.key}/pane", headers=visitor_headers(token)).data
    assert b"Email me the transcript" in pane and b"How was this chat?" in pane


def test_rating_waits_for_an_agents_answer(client, widget):
    token = form_client(client, widget)
    pane = client.get(f"/widget/{widget.key}/pane", headers=visitor_headers(token)).data
    assert b"Email me the transcript" in pane and b"How was this chat?" not in pane
    assert b'id="fd-rate-pending"' in pane  # where the stream puts it once an agent answers
    assert rate(client, widget, token, "good").status_code == 409
    rating_form = client.get(f"/widget/{widget.key}/rating", headers=visitor_headers(token))
    assert rating_form.status_code == 409
    assert Rating.select().count() == 0

    reply("On its way")
    pane = client.get(f"/widget/{widget.key}/pane", headers=visitor_headers(token)).data
    assert b"How was this chat?" in pane
    assert rate(client, widget, token, "good").status_code == 200


def test_code_clients_with_an_email_can_rate(client, widget):
    set_auth_type(widget, AuthType.CODE)
    token = secrets.token_hex(24)
    identify(client, widget, token, user_data={"id": "9", "email": "nine@example.com"})
    send_message(client, widget, token, "hi", "c9")
    reply("Hello")
    assert rate(client, widget, token, "good").status_code == 200


def test_report_page_draws_ratings_and_agent_shares(client, widget, admin):
    token = form_client(client, widget)
    reply("Happy to help")
    rate(client, widget, token, "good")
    page = admin.get("/admin/reports").data.decode()
    assert "<svg" in page and 'class="good"' in page
    assert "Last 30 days: 1 good, 0 bad" in page
    assert "Admin" in page and "100 %" in page
    assert Rating.share_good_per_agent() == [("Admin", 1, 1.0)]
    assert sum(good for _, good, _ in Rating.per_day(30)) == 1


# --- limits, odd input and the mail itself -------------------------------------------------


def test_transcript_is_sent_at_most_once_in_two_minutes(app, client, widget):
    app.config["SMTP_HOST"] = None
    set_auth_type(widget, AuthType.FORM)
    token = secrets.token_hex(24)
    fill_in_form(client, widget, token)
    send_message(client, widget, token)
    first = client.post(f"/widget/{widget.key}/transcript", headers=visitor_headers(token))
    again = client.post(f"/widget/{widget.key}/transcript", headers=visitor_headers(token))
    assert (first.status_code, again.status_code) == (200, 429)
    assert b"We just sent you the transcript" in again.data
    assert TranscriptMail.select().count() == 1


@pytest.mark.parametrize(
    "email",
    ["a@victim.org, b@victim.org", "a@victim.org\r\nBcc: b@victim.org", "not an address"],
)
def test_site_data_cannot_smuggle_recipients(client, widget, email):
    set_auth_type(widget, AuthType.CODE)
    token = secrets.token_hex(24)
    response = identify(client, widget, token, user_data={"id": "x", "email": email})
    assert response.status_code == 200
    assert Client.get().email is None
    transcript = client.post(f"/widget/{widget.key}/transcript", headers=visitor_headers(token))
    assert transcript.status_code == 403


def test_share_of_good_ratings_counts_each_conversation_once(client, widget, db):
    token = secrets.token_hex(24)
    send_message(client, widget, token)
    conversation = Conversation.get()
    admin = Agent.by_email("admin@example.com")
    for text in ("one", "two", "three"):
        conversation.add_message(text, Message.FROM_AGENT, agent=admin)
    Rating.rate(conversation, good=True)
    assert Rating.share_good_per_agent() == [("Admin", 1, 1.0)]


def test_unknown_smtp_security_is_a_recorded_failure(app, client, widget):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_SECURITY="tls-please")
    set_auth_type(widget, AuthType.FORM)
    token = secrets.token_hex(24)
    fill_in_form(client, widget, token)
    send_message(client, widget, token)
    response = client.post(f"/widget/{widget.key}/transcript", headers=visitor_headers(token))
    assert response.status_code == 503
    assert "FRONTDESK_SMTP_SECURITY" in TranscriptMail.get().error


def test_a_subject_with_a_line_break_stays_one_header(app, client, widget):
    app.config["SMTP_HOST"] = None
    set_auth_type(widget, AuthType.FORM)
    LabelOverride.create(
        widget=widget, language="en", key="email.subject", text="Hi {site}\nBcc: x@y.z"
    )
    token = secrets.token_hex(24)
    fill_in_form(client, widget, token)
    Client.update(email_confirmed=True).execute()  # the transcript itself, not the link
    send_message(client, widget, token)
    response = client.post(f"/widget/{widget.key}/transcript", headers=visitor_headers(token))
    assert response.status_code == 200  # the subject is kept on one line
    raw = next(Path(app.config["OUTBOX_DIR"]).glob("*.eml")).read_bytes()
    mail = email.message_from_bytes(raw, policy=email.policy.default)
    assert mail["Subject"] == "Hi Demo shop Bcc: x@y.z"
    assert mail["Bcc"] is None


def test_the_first_answer_brings_the_rating_over_the_stream(client, widget):
    token = form_client(client, widget)
    reply("One moment")
    reply("Found it")
    response = client.get(
        f"/widget/{widget.key}/stream?after=0", headers=visitor_headers(token), buffered=False
    )
    replay = next(iter(response.response))
    response.close()
    replay = replay if isinstance(replay, str) else replay.decode()
    assert replay.count('hx-target="#fd-rate-pending"') == 1
    assert replay.index("One moment") < replay.index("How was this chat?") < replay.index("Found")
