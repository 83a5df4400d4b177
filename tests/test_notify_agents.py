"""Agents told of visitors' messages: the live stream's ``visitor-message`` events, the
notification settings on Your account, and the ``notify-agents`` mail while nobody is online."""

import datetime
import email
import json
import secrets
from email import policy
from pathlib import Path

from helpers import admin_post, free_port, send_message, sign_in, start_chat

from db import utcnow
from models import Agent, Conversation, Message


def run_notify_agents(app):
    """``flask --app app notify-agents``, as cron runs it."""
    return app.test_cli_runner().invoke(args=["notify-agents"])


def outbox_mails(app):
    """The mails written to the outbox folder, oldest first."""
    paths = sorted(Path(app.config["OUTBOX_DIR"]).glob("*.eml"), key=lambda p: p.stat().st_mtime_ns)
    return [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in paths]


def text_of(mail):
    return mail.get_body(preferencelist=("plain",)).get_content()


def everyone_left(minutes=5):
    """Every agent's admin pages closed ``minutes`` ago."""
    Agent.update(last_seen_at=utcnow() - datetime.timedelta(minutes=minutes)).execute()


# --- the mail ---------------------------------------------------------------------------------


def test_one_mail_per_conversation_with_the_messages_not_mailed_before(app, client, widget, db):
    with app.app_context():
        kim = Agent.create_with_password("kim@example.com", "Kim", "kim-password-1")
        gone = Agent.create_with_password("gone@example.com", "Gone", "gone-password-1")
    gone.active = False
    gone.save()
    everyone_left()
    token = secrets.token_hex(24)
    conversation = start_chat(client, widget, token, "Is the shop open on Sunday?")
    send_message(client, widget, token, "And on Monday?")
    conversation.add_message("an agent's reply is not mailed", Message.FROM_AGENT)
    conversation.add_message("nor is a note", Message.FROM_NOTE, agent=kim.id)
    other = start_chat(client, widget, secrets.token_hex(24), "Do you ship to Norway?")

    result = run_notify_agents(app)
    assert result.exit_code == 0, result.output
    assert "2 mails sent to agents, 0 failed." in result.output
    first, second = outbox_mails(app)
    assert first["To"] == "admin@example.com, kim@example.com"  # active agents only
    assert first["Subject"].startswith("Visitor #") and "wrote on Demo shop" in first["Subject"]
    body = text_of(first)
    assert body.index("Is the shop open on Sunday?") < body.index("And on Monday?")
    assert "not mailed" not in body and "note" not in body
    assert f"/admin/conversations/{conversation.id}" in body
    assert "Do you ship to Norway?" in text_of(second)
    assert f"/admin/conversations/{other.id}" in text_of(second)

    # Again: nothing new, no mail. A new message: a mail with it alone.
    assert "0 mails sent" in run_notify_agents(app).output
    send_message(client, widget, token, "Hello? Anyone?")
    assert "1 mail sent" in run_notify_agents(app).output
    mails = outbox_mails(app)
    assert len(mails) == 3
    assert "Hello? Anyone?" in text_of(mails[2])
    assert "Sunday" not in text_of(mails[2]) and "Monday" not in text_of(mails[2])


def test_no_mail_while_an_agent_has_the_admin_open(app, client, widget, db):
    token = secrets.token_hex(24)
    Agent.update(last_seen_at=utcnow()).execute()  # online: the page notifies them
    start_chat(client, widget, token, "Seen in the admin")
    assert "0 mails sent" in run_notify_agents(app).output
    # Once everyone has left, what came while they were there is not mailed, what came after is.
    Agent.update(last_seen_at=utcnow()).execute()
    everyone_left_at = Agent.select().get().last_seen_at
    Agent.update(last_seen_at=everyone_left_at - Agent.ONLINE_WINDOW).execute()
    Message.update(created_at=everyone_left_at - Agent.ONLINE_WINDOW * 2).execute()
    send_message(client, widget, token, "Written after everyone left")
    assert "1 mail sent" in run_notify_agents(app).output
    (mail,) = outbox_mails(app)
    assert "Written after everyone left" in text_of(mail)
    assert "Seen in the admin" not in text_of(mail)


def test_a_failed_mail_is_tried_again_and_sent_once(app, client, widget, db):
    everyone_left()
    start_chat(client, widget, secrets.token_hex(24), "Are you there?")
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=free_port(), SMTP_SECURITY="none")
    result = run_notify_agents(app)
    assert result.exit_code == 1 and "0 mails sent to agents, 1 failed." in result.output
    assert Conversation.get().agents_mailed_upto == 0
    app.config["SMTP_HOST"] = None  # the outbox folder
    assert "1 mail sent" in run_notify_agents(app).output
    assert "0 mails sent" in run_notify_agents(app).output
    assert len(outbox_mails(app)) == 1


def test_a_conversation_claimed_by_another_run_is_not_mailed_again(app, client, widget, db):
    everyone_left()
    conversation = start_chat(client, widget, secrets.token_hex(24), "Twice?")
    message = Message.get(Message.body == "Twice?")
    stale = Conversation.get_by_id(conversation.id)  # what a second, parallel run read
    assert conversation.claim_agent_mail(0, message.id)
    assert not stale.claim_agent_mail(0, message.id)
    assert "0 mails sent" in run_notify_agents(app).output


# --- the live stream and the settings -----------------------------------------------------------


def stream_chunks(test_client, path="/admin/live"):
    response = test_client.get(path, buffered=False)
    return response, iter(response.response)


def visitor_message_events(chunk):
    chunk = chunk.decode() if isinstance(chunk, bytes) else chunk
    events = []
    for block in chunk.split("\n\n"):
        if block.startswith("event: visitor-message"):
            events.append(json.loads(block.split("data: ", 1)[1]))
    return events


def test_the_admin_stream_announces_new_visitor_messages_only(admin, client, widget, db):
    token = secrets.token_hex(24)
    old = start_chat(client, widget, token, "Written before the page opened")
    response, chunks = stream_chunks(admin)
    assert visitor_message_events(next(chunks)) == []  # history is not announced

    newcomer = secrets.token_hex(24)
    send_message(client, widget, newcomer, "A new chat <b>here</b>")
    announced = visitor_message_events(next(chunks))
    new = Message.get(Message.body == "A new chat <b>here</b>").conversation
    assert announced == [
        {
            "conversation": new.id,
            "title": "New conversation",
            "name": new.client.display_name,
            "text": "A new chat <b>here</b>",
            "url": f"/admin/conversations/{new.id}",
        }
    ]
    send_message(client, widget, token, "Still there?")
    (again,) = visitor_message_events(next(chunks))
    assert (again["title"], again["conversation"], again["text"]) == (
        "New message",
        old.id,
        "Still there?",
    )
    response.close()


def test_notification_settings_are_saved_and_reach_the_page(admin, db):
    page = admin.get("/admin/account/").data.decode()
    assert 'data-notify-desktop="on" data-notify-sound="on"' in page
    assert "Turn on desktop notifications" in page
    response = admin_post(
        admin, "/admin/account/", "/admin/account/notifications", {"notify_desktop": "y"}
    )
    assert response.status_code == 302
    agent = Agent.by_email("admin@example.com")
    assert agent.notify_desktop and not agent.notify_sound
    assert 'data-notify-desktop="on" data-notify-sound="off"' in admin.get("/admin/").data.decode()
    # Without the CSRF token nothing changes.
    assert admin.post("/admin/account/notifications", data={}).status_code == 400
    assert Agent.by_email("admin@example.com").notify_desktop


def test_an_agent_sets_only_their_own_notifications(app, admin, db, agent_without_admin_rights):
    other = app.test_client()
    sign_in(other, "agent@example.com", "agent-password-1")
    admin_post(other, "/admin/account/", "/admin/account/notifications", {})
    assert not Agent.get_by_id(agent_without_admin_rights.id).notify_desktop
    assert Agent.by_email("admin@example.com").notify_desktop


def test_an_assigned_conversation_is_mailed_to_its_assignee_alone(app, client, widget, db):
    with app.app_context():
        kim = Agent.create_with_password("kim@example.com", "Kim", "kim-password-1")
    everyone_left()
    assigned = start_chat(client, widget, secrets.token_hex(24), "Where is my parcel?")
    assigned.assign(kim)
    start_chat(client, widget, secrets.token_hex(24), "Nobody has this one")

    assert run_notify_agents(app).exit_code == 0
    recipients = sorted(mail["To"] for mail in outbox_mails(app))
    assert recipients == ["admin@example.com, kim@example.com", "kim@example.com"]


def test_a_conversation_of_a_deactivated_assignee_is_mailed_to_everyone(app, client, widget, db):
    with app.app_context():
        kim = Agent.create_with_password("kim@example.com", "Kim", "kim-password-1")
        Agent.create_with_password("sam@example.com", "Sam", "sam-password-1")
    everyone_left()
    start_chat(client, widget, secrets.token_hex(24), "Where is my parcel?").assign(kim)
    Agent.update(active=False).where(Agent.id == kim.id).execute()

    assert run_notify_agents(app).exit_code == 0
    assert [mail["To"] for mail in outbox_mails(app)] == ["admin@example.com, sam@example.com"]
