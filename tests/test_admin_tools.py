"""The agent's tools in a conversation: internal notes (never on a visitor's path), the question
before a reply reopens a closed conversation, and canned replies (Administration > Website
widget > Canned replies, and the picker in the reply box)."""

import email
import json
import secrets
from email import policy
from pathlib import Path

from helpers import (
    admin_post,
    ask_for_transcript,
    identify,
    send_message,
    set_auth_type,
    sign,
    sign_in,
    start_chat,
    visitor_headers,
)

import backup
from models import Agent, AuthType, CannedReply, Client, Conversation, Message, Rating

NOTE = "Internal: refund approved by Kim, do not mention the voucher"


def post_to_conversation(test_client, conversation, **data):
    """Post the conversation page's reply form as htmx does (CSRF token from the page)."""
    page = f"/admin/conversations/{conversation.id}"
    return admin_post(test_client, page, f"{page}/reply", data, {"HX-Request": "true"})


def verified_client_chat(client, widget):
    """A visitor signed in on the site (a confirmed email) who wrote; their token."""
    set_auth_type(widget, AuthType.CODE)
    token = secrets.token_hex(24)
    assert identify(client, widget, token, identity_token=sign(widget)).status_code == 200
    send_message(client, widget, token, "Where is my parcel?")
    return token


# --- internal notes ---------------------------------------------------------------------------


def test_a_note_is_stored_as_its_own_kind_and_shown_to_agents_apart(admin, client, widget, db):
    conversation = start_chat(client, widget, secrets.token_hex(24))
    response = post_to_conversation(admin, conversation, body=NOTE, mode="note")
    assert response.status_code == 200
    note = Message.get(Message.body == NOTE)
    assert note.sender == Message.FROM_NOTE and note.agent.email == "admin@example.com"
    assert 'class="message note"' in response.data.decode()
    page = admin.get(f"/admin/conversations/{conversation.id}").data.decode()
    assert NOTE in page and "internal note, the client does not see it" in page
    inbox = admin.get("/admin/").data.decode()
    assert f"Note · Admin: {NOTE}" in inbox  # the inbox row says so too
    # The fresh reply box stays in note mode for the next note.
    assert 'value="note" checked' in response.data.decode()


def test_a_note_never_reaches_the_widget_history_or_stream(admin, client, widget, db):
    token = secrets.token_hex(24)
    conversation = start_chat(client, widget, token, "Hello there")
    post_to_conversation(admin, conversation, body=NOTE, mode="note")
    post_to_conversation(admin, conversation, body="Happy to help", mode="reply")

    pane = client.get(f"/widget/{widget.key}/pane", headers=visitor_headers(token)).data.decode()
    assert "Happy to help" in pane and "Hello there" in pane
    assert NOTE not in pane

    stream = client.get(
        f"/widget/{widget.key}/stream?after=0", headers=visitor_headers(token), buffered=False
    )
    first = next(iter(stream.response))
    stream.close()
    first = first.decode() if isinstance(first, bytes) else first
    assert "Happy to help" in first
    assert NOTE not in first
    note_id = Message.get(Message.body == NOTE).id
    assert f"id: {note_id}\n" not in first


def test_a_note_is_not_in_the_transcript_mail(app, admin, client, widget, db):
    token = verified_client_chat(client, widget)
    conversation = Conversation.get()
    post_to_conversation(admin, conversation, body=NOTE, mode="note")
    post_to_conversation(admin, conversation, body="It ships today", mode="reply")
    assert ask_for_transcript(client, widget, token).status_code == 200
    (written,) = Path(app.config["OUTBOX_DIR"]).glob("*.eml")
    mail = email.message_from_bytes(written.read_bytes(), policy=policy.default)
    for kind in ("plain", "html"):
        text = mail.get_body(preferencelist=(kind,)).get_content()
        assert "It ships today" in text and "Where is my parcel?" in text
        assert NOTE not in text and "Kim" not in text


def test_a_note_counts_as_neither_unread_nor_an_answer(app, admin, client, widget, db):
    """Unread counts are of visitors' messages only; a rating credits the agents who answered,
    not one who only wrote a note."""
    with app.app_context():
        kim = Agent.create_with_password("kim@example.com", "Kim", "kim-password-1")
    token = verified_client_chat(client, widget)
    conversation = Conversation.get()
    kim_client = app.test_client()
    sign_in(kim_client, "kim@example.com", "kim-password-1")
    kim_client.get(f"/admin/conversations/{conversation.id}")  # Kim has read it all
    post_to_conversation(admin, conversation, body=NOTE, mode="note")
    assert Conversation.unread_count(kim) == 0
    assert b'class="unread"' not in kim_client.get("/admin/").data

    def rate():
        return client.post(
            f"/widget/{widget.key}/rating", data={"verdict": "good"}, headers=visitor_headers(token)
        )

    assert rate().status_code == 409  # a note answers nobody: nothing to rate yet
    assert Rating.select().count() == 0
    post_to_conversation(admin, conversation, body="Sorted", mode="reply")
    assert rate().status_code == 200
    assert Rating.get().good
    assert [name for name, _, _ in Rating.share_good_per_agent()] == ["Admin"]


def test_a_note_keeps_its_kind_in_the_json_backup(admin, client, widget, db, tmp_path):
    """The backup is the operator's copy of everything; restored, a note is a note again and
    stays off every visitor path."""
    conversation = start_chat(client, widget, secrets.token_hex(24))
    post_to_conversation(admin, conversation, body=NOTE, mode="note")
    target = tmp_path / "backup.json"
    backup.json_backup(target)
    table = json.loads(target.read_text())["tables"]["message"]
    rows = [dict(zip(table["columns"], row, strict=True)) for row in table["rows"]]
    (note,) = [row for row in rows if row["body"] == NOTE]
    assert note["sender"] == "note" and note["client_id"] is None


def test_a_note_on_a_closed_conversation_leaves_it_closed(admin, client, widget, db):
    conversation = start_chat(client, widget, secrets.token_hex(24))
    conversation.set_status(Conversation.CLOSED, agent=None)
    response = post_to_conversation(admin, conversation, body=NOTE, mode="note")
    assert response.status_code == 200
    assert not Conversation.get_by_id(conversation.id).is_open


# --- replying to a closed conversation --------------------------------------------------------


def test_a_reply_to_a_closed_conversation_without_the_reopen_flag_is_refused(
    admin, client, widget, db
):
    conversation = start_chat(client, widget, secrets.token_hex(24))
    conversation.set_status(Conversation.CLOSED, agent=None)
    messages = Message.select().count()
    response = post_to_conversation(admin, conversation, body="Are you still there?")
    assert response.status_code == 409
    page = response.data.decode()
    assert "This conversation is closed. Reopen and send?" in page
    assert "Are you still there?" in page  # the text stays in the box
    assert 'hx-confirm="This conversation is closed. Reopen and send?"' in page
    assert 'name="reopen" value="1"' in page  # the next send, once confirmed, reopens
    assert not Conversation.get_by_id(conversation.id).is_open
    assert Message.select().count() == messages


def test_the_closed_conversation_page_asks_before_a_reply(admin, client, widget, db):
    conversation = start_chat(client, widget, secrets.token_hex(24))
    open_page = admin.get(f"/admin/conversations/{conversation.id}").data.decode()
    assert "hx-confirm" not in open_page and 'name="reopen"' not in open_page
    conversation.set_status(Conversation.CLOSED, agent=None)
    closed_page = admin.get(f"/admin/conversations/{conversation.id}").data.decode()
    assert 'hx-confirm="This conversation is closed. Reopen and send?"' in closed_page


# --- canned replies ---------------------------------------------------------------------------


def canned_url(widget, *rest):
    return "/".join([f"/admin/widgets/{widget.id}/canned", *map(str, rest)])


def test_canned_replies_are_added_edited_and_deleted(admin, widget, db):
    page = admin.get(canned_url(widget))
    assert page.status_code == 200
    assert 'aria-current="page">Canned replies</a>' in page.data.decode()
    response = admin_post(
        admin,
        canned_url(widget),
        canned_url(widget),
        {"title": "Greeting", "body": "Hello {name}, how can I help?"},
    )
    assert response.status_code == 302
    reply = CannedReply.get()
    assert (reply.widget_id, reply.title) == (widget.id, "Greeting")
    listed = admin.get(canned_url(widget)).data.decode()
    assert "Hello {name}, how can I help?" in listed

    edit = canned_url(widget, reply.id)
    response = admin_post(admin, edit, edit, {"title": "Hi", "body": "Hi {name}!"})
    assert response.status_code == 302
    assert (CannedReply.get_by_id(reply.id).title, CannedReply.get_by_id(reply.id).body) == (
        "Hi",
        "Hi {name}!",
    )

    delete = canned_url(widget, reply.id, "delete")
    assert admin_post(admin, canned_url(widget), delete).status_code == 302
    assert CannedReply.select().count() == 0
    assert admin.get(edit).status_code == 404


def test_canned_reply_forms_need_a_csrf_token_and_admin_rights(
    app, admin, widget, db, agent_without_admin_rights
):
    assert admin.post(canned_url(widget), data={"title": "x", "body": "y"}).status_code == 400
    agent = app.test_client()
    sign_in(agent, "agent@example.com", "agent-password-1")
    assert agent.get(canned_url(widget)).status_code == 403
    assert CannedReply.select().count() == 0


def test_unknown_placeholders_and_empty_fields_are_flagged(admin, widget, db):
    response = admin_post(
        admin,
        canned_url(widget),
        canned_url(widget),
        {"title": "Bye", "body": "Bye {nmae}, see you {day}. {name}"},
    )
    assert response.status_code == 422
    assert "Unknown placeholder {nmae}, {day}: only {name} is filled in." in response.data.decode()
    response = admin_post(admin, canned_url(widget), canned_url(widget), {"title": "", "body": ""})
    assert response.status_code == 422
    assert "Give it a title" in response.data.decode()
    assert "Write the reply&#39;s text." in response.data.decode()
    assert CannedReply.select().count() == 0


def test_the_reply_box_offers_canned_replies_filled_in_for_the_client(admin, client, widget, db):
    set_auth_type(widget, AuthType.CODE)
    token = secrets.token_hex(24)
    identify(client, widget, token, identity_token=sign(widget))
    send_message(client, widget, token, "Hi")
    conversation = Conversation.get()
    CannedReply.create(widget=widget, title="Greeting", body="Hello {name}, <b>welcome</b>!")
    page = admin.get(f"/admin/conversations/{conversation.id}").data.decode()
    assert (
        '<option value="Hello Ada Lovelace, &lt;b&gt;welcome&lt;/b&gt;!">Greeting</option>' in page
    )


def test_placeholders_are_filled_with_the_display_name_and_nothing_else(widget, db):
    anonymous = Client.create_for_token(widget, secrets.token_hex(24))
    reply = CannedReply(widget=widget, title="t", body="Hi {name}, {name}! {unknown} {0}")
    assert reply.filled_for(anonymous) == (
        f"Hi {anonymous.display_name}, {anonymous.display_name}! {{unknown}} {{0}}"
    )
    assert CannedReply.unknown_placeholders("{name} {x} {x} {y z}") == ["x", "y z"]
