"""Typed emails earn trust only once confirmed: no contact takeover, no transcript of a
stranger's text mailed to any address, a limit per recipient and day."""

import email
import secrets
import time
from email import policy
from pathlib import Path

import pytest
from helpers import (
    ask_for_transcript,
    confirmation_links,
    fill_in_form,
    identify,
    send_message,
    set_auth_type,
    sign,
    start_chat,
)
from itsdangerous import TimestampSigner

from models import AuthType, Client, Contact, TranscriptMail


@pytest.fixture
def form_widget(app, widget):
    app.config["SMTP_HOST"] = None  # mails land in the outbox folder
    return set_auth_type(widget, AuthType.FORM)


def outbox_mails(app):
    paths = sorted(Path(app.config["OUTBOX_DIR"]).glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in paths]


def customer(client, widget, body="I am the real Grace"):
    """Grace, a known contact: she confirmed her email earlier."""
    token = secrets.token_hex(24)
    fill_in_form(client, widget, token, "Grace Hopper", "grace@example.com")
    start_chat(client, widget, token, body)
    Client.get(Client.email == "grace@example.com").confirm_email()
    return token


def test_a_typed_email_of_a_known_contact_takes_nothing_over(admin, client, form_widget):
    customer(client, form_widget)
    contact = Contact.get()
    attacker = secrets.token_hex(24)
    response = fill_in_form(client, form_widget, attacker, "Mallory", "GRACE@example.com")
    assert response.status_code == 200 and b'id="composer"' in response.data  # may chat
    conversation = start_chat(client, form_widget, attacker, "send me my invoices")

    assert Contact.get().name == "Grace Hopper"  # not renamed
    impostor = conversation.client
    assert impostor.contact_id is None and not impostor.email_confirmed
    assert (impostor.display_name, impostor.display_email) == ("Mallory", "grace@example.com")
    history = admin.get(f"/admin/contacts/{contact.id}").data.decode()
    assert "I am the real Grace" in history and "send me my invoices" not in history
    page = admin.get(f"/admin/conversations/{conversation.id}").data.decode()
    assert "Says they are" in page and "Grace Hopper</a>, not confirmed" in page
    assert '<span class="pill unconfirmed">not confirmed</span>' in page


def test_a_new_typed_address_becomes_a_contact_unconfirmed(admin, client, form_widget):
    token = secrets.token_hex(24)
    fill_in_form(client, form_widget, token, "Ada", "ada@example.com")
    conversation = start_chat(client, form_widget, token, "hello")
    ada = Client.get()
    assert ada.contact.email == "ada@example.com" and not ada.email_confirmed
    page = admin.get(f"/admin/conversations/{conversation.id}").data.decode()
    assert "not confirmed" in page and "Says they are" not in page
    contact_page = admin.get(f"/admin/contacts/{ada.contact_id}").data.decode()
    assert '<span class="pill unconfirmed">not confirmed</span>' in contact_page


def test_the_first_transcript_is_a_confirmation_link_without_visitor_text(app, client, form_widget):
    token = secrets.token_hex(24)
    fill_in_form(client, form_widget, token, "Buy cheap pills", "victim@example.org")
    start_chat(client, form_widget, token, "VISIT spam.example NOW")
    response = ask_for_transcript(client, form_widget, token)
    assert response.status_code == 200
    assert b"We sent a confirmation link to victim@example.org" in response.data
    (mail,) = outbox_mails(app)
    assert mail["To"] == "victim@example.org"
    assert mail["Subject"] == "Confirm your email address for Demo shop"
    raw = mail.as_string()
    assert "spam.example" not in raw and "pills" not in raw.lower()
    assert TranscriptMail.get().status == TranscriptMail.CONFIRM


def test_the_link_page_confirms_only_on_its_button_then_the_transcript_follows(
    app, admin, client, form_widget
):
    customer(client, form_widget)
    token = secrets.token_hex(24)
    fill_in_form(client, form_widget, token, "Grace B. Hopper", "grace@example.com")
    conversation = start_chat(client, form_widget, token, "from my new laptop")
    ask_for_transcript(client, form_widget, token)
    (link,) = confirmation_links(app.config["OUTBOX_DIR"])

    page = client.get(link)  # what a mail scanner's prefetch does
    assert page.status_code == 200 and b"Yes, confirm" in page.data
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert not Client.get_by_id(conversation.client_id).email_confirmed

    done = client.post(link)
    assert done.status_code == 200 and b"grace@example.com is confirmed" in done.data
    assert b"We sent the transcript to grace@example.com" in done.data
    laptop = Client.get_by_id(conversation.client_id)
    assert laptop.email_confirmed and laptop.contact_id == Contact.get().id
    assert Contact.get().name == "Grace B. Hopper"  # renaming is allowed once confirmed
    transcript = outbox_mails(app)[-1]
    assert "from my new laptop" in transcript.get_body(("plain",)).get_content()
    history = admin.get(f"/admin/contacts/{Contact.get().id}").data.decode()
    assert "from my new laptop" in history and '<span class="pill confirmed">' in history
    # Clicking again sends nothing more.
    assert client.post(link).status_code == 200
    assert len(outbox_mails(app)) == 2


def test_a_forged_expired_or_outdated_link_confirms_nothing(app, client, form_widget, monkeypatch):
    token = secrets.token_hex(24)
    fill_in_form(client, form_widget, token, "Ada", "ada@example.com")
    start_chat(client, form_widget, token)
    ask_for_transcript(client, form_widget, token)
    (link,) = confirmation_links(app.config["OUTBOX_DIR"])
    prefix, signed = link.rsplit("/", 1)
    assert client.post(f"{prefix}/{signed[:-2]}xx").status_code == 404  # forged
    with monkeypatch.context() as patch:  # 25 hours later
        later = time.time() + 25 * 3600
        patch.setattr(TimestampSigner, "get_timestamp", lambda self: int(later))
        assert client.post(link).status_code == 404
    fill_in_form(client, form_widget, token, "Ada", "ada@another.example")  # a new address
    expired = client.post(link)
    assert expired.status_code == 404 and b"This link is not valid any more" in expired.data
    assert not Client.get().email_confirmed and len(outbox_mails(app)) == 1


def test_a_confirmed_email_gets_the_transcript_at_once(app, client, form_widget):
    token = customer(client, form_widget, "my question")
    assert ask_for_transcript(client, form_widget, token).status_code == 200
    (mail,) = outbox_mails(app)
    assert "my question" in mail.get_body(("plain",)).get_content()


def test_signed_identities_count_as_confirmed_unsigned_ones_do_not(app, client, widget):
    app.config["SMTP_HOST"] = None
    set_auth_type(widget, AuthType.CODE)
    signed, unsigned = secrets.token_hex(24), secrets.token_hex(24)
    identify(client, widget, signed, identity_token=sign(widget))
    send_message(client, widget, signed, "signed question")
    identify(client, widget, unsigned, user_data={"id": "7", "email": "eve@example.com"})
    send_message(client, widget, unsigned, "unsigned question")
    assert Client.get(Client.verified == True).email_confirmed  # noqa: E712
    assert not Client.get(Client.external_id == "7").email_confirmed

    assert ask_for_transcript(client, widget, signed).status_code == 200
    assert ask_for_transcript(client, widget, unsigned).status_code == 200
    statuses = {mail.recipient: mail.status for mail in TranscriptMail.select()}
    assert statuses == {"ada@example.com": "sent", "eve@example.com": "confirm"}


def test_transcripts_per_recipient_are_limited_per_day_whatever_the_token(app, client, form_widget):
    customer(client, form_widget)
    statuses = []
    for _ in range(TranscriptMail.PER_RECIPIENT_PER_DAY + 2):
        token = secrets.token_hex(24)  # a new browser each time: no per-token cooldown helps
        fill_in_form(client, form_widget, token, "Anyone", "grace@example.com")
        start_chat(client, form_widget, token, secrets.token_hex(4))
        statuses.append(ask_for_transcript(client, form_widget, token).status_code)
    limit = TranscriptMail.PER_RECIPIENT_PER_DAY
    assert statuses == [200] * limit + [429, 429]
    assert len(outbox_mails(app)) == limit
    refused = ask_for_transcript(client, form_widget, token)
    assert b"enough mail to this address today" in refused.data
