"""Request-level tests of the inbox's unread counts, close/reopen, contacts and agents."""

import secrets

from helpers import (
    admin_post,
    ask_for_transcript,
    confirm_email,
    confirmation_links,
    fill_in_form,
    send_message,
    set_auth_type,
    sign_in,
    start_chat,
    visitor_headers,
)

from models import Agent, AuthType, Contact, Conversation, Message

# --- unread counts -----------------------------------------------------------------------------


def test_unread_counts_per_conversation_and_in_the_title(admin, client, widget):
    first = start_chat(client, widget, secrets.token_hex(24), "one")
    token = secrets.token_hex(24)
    second = start_chat(client, widget, token, "two")
    start_chat(client, widget, token, "three")
    admin_agent = Agent.by_email("admin@example.com")
    counts = {c.id: c.unread for c in Conversation.inbox(admin_agent)}
    assert counts == {first.id: 1, second.id: 2}
    assert Conversation.unread_count(admin_agent) == 2
    inbox = admin.get("/admin/").data.decode()
    assert "<title>(2) Inbox" in inbox

    admin.get(f"/admin/conversations/{second.id}")  # reading it clears its count
    counts = {c.id: c.unread for c in Conversation.inbox(admin_agent)}
    assert counts == {first.id: 1, second.id: 0}
    assert "<title>(1) Inbox" in admin.get("/admin/").data.decode()

    start_chat(client, widget, token, "four")  # a new message makes it unread again
    assert {c.id: c.unread for c in Conversation.inbox(admin_agent)}[second.id] == 1


def test_unread_counts_are_per_agent(admin, client, widget, agent_without_admin_rights):
    conversation = start_chat(client, widget, secrets.token_hex(24), "hello team")
    admin.get(f"/admin/conversations/{conversation.id}")
    assert Conversation.unread_count(Agent.by_email("admin@example.com")) == 0
    assert Conversation.unread_count(agent_without_admin_rights) == 1


def test_agent_replies_do_not_count_as_unread(admin, client, widget):
    conversation = start_chat(client, widget, secrets.token_hex(24), "question")
    admin_agent = Agent.by_email("admin@example.com")
    conversation.add_message("answer", Message.FROM_AGENT, agent=admin_agent)
    assert {c.id: c.unread for c in Conversation.inbox(admin_agent)}[conversation.id] == 1


def test_inbox_list_partial_for_live_refresh(admin, client, widget):
    start_chat(client, widget, secrets.token_hex(24), "partial please")
    response = admin.get("/admin/", headers={"HX-Request": "true"})
    assert b"partial please" in response.data
    assert b"<html" not in response.data


# --- close and reopen --------------------------------------------------------------------------


def test_close_and_reopen(admin, client, widget):
    token = secrets.token_hex(24)
    conversation = start_chat(client, widget, token, "thanks, that is all")
    page = f"/admin/conversations/{conversation.id}"
    response = admin_post(admin, page, f"{page}/status", {"status": "closed"})
    assert response.status_code == 302
    assert Conversation.get_by_id(conversation.id).status == Conversation.CLOSED
    assert "thanks, that is all" not in admin.get("/admin/").data.decode()
    assert "thanks, that is all" in admin.get("/admin/?status=closed").data.decode()

    pane = client.get(f"/widget/{widget.key}/pane", headers=visitor_headers(token)).data.decode()
    assert "This conversation was closed." in pane and "Start a new conversation" in pane
    fresh = client.get(f"/widget/{widget.key}/pane?fresh=1", headers=visitor_headers(token))
    assert (
        "thanks, that is all" not in fresh.data.decode() and 'id="composer"' in fresh.data.decode()
    )

    start_chat(client, widget, token, "one more thing")
    newest = Message.get(Message.body == "one more thing").conversation
    assert newest.id != conversation.id and newest.is_open

    admin_post(admin, page, f"{page}/status", {"status": "open"})
    assert Conversation.get_by_id(conversation.id).is_open
    system = [m.body for m in conversation.messages_in_order() if m.is_system]
    assert system == ["closed", "open"]


def test_bad_status_is_refused(admin, client, widget):
    conversation = start_chat(client, widget, secrets.token_hex(24), "hi")
    page = f"/admin/conversations/{conversation.id}"
    response = admin_post(admin, page, f"{page}/status", {"status": "archived"})
    assert response.status_code == 400
    assert Conversation.get_by_id(conversation.id).is_open


def test_page_and_browser_language_are_recorded(admin, client, widget):
    headers = {
        "X-Frontdesk-Page": "https://shop.example/boots?size=42",
        "Accept-Language": "de-DE,de;q=0.9,en;q=0.8",
    }
    send_message(client, widget, None, "Hallo", "x1", headers=headers)
    conversation = Conversation.get()
    assert conversation.page_url == "https://shop.example/boots?size=42"
    assert conversation.browser_language == "de-DE"
    page = admin.get(f"/admin/conversations/{conversation.id}").data.decode()
    assert "https://shop.example/boots?size=42" in page and "de-DE" in page


def test_only_web_addresses_are_kept_as_the_page(client, widget):
    headers = {"X-Frontdesk-Page": "javascript:alert(1)"}
    send_message(client, widget, None, "hi", "y", headers=headers)
    assert Conversation.get().page_url is None


# --- contacts ----------------------------------------------------------------------------------


def test_contact_search_by_name_or_email(admin, client, widget):
    set_auth_type(widget, AuthType.FORM)
    fill_in_form(client, widget, secrets.token_hex(24), "Grace Hopper", "grace@navy.example")
    fill_in_form(client, widget, secrets.token_hex(24), "Alan Turing", "alan@bletchley.example")
    assert "Grace Hopper" in admin.get("/admin/contacts/?q=hopp").data.decode()
    by_email = admin.get("/admin/contacts/?q=BLETCHLEY").data.decode()
    assert "Alan Turing" in by_email and "Grace Hopper" not in by_email
    nothing = admin.get("/admin/contacts/?q=zzz", headers={"HX-Request": "true"})
    assert b"No contact matches" in nothing.data and b"<html" not in nothing.data


def test_guest_who_fills_the_form_later_keeps_the_earlier_conversation(admin, client, widget):
    set_auth_type(widget, AuthType.OPTIONAL_FORM)
    token = secrets.token_hex(24)
    client.post(f"/widget/{widget.key}/guest", headers=visitor_headers(token))
    start_chat(client, widget, token, "asked as a guest")
    fill_in_form(client, widget, token, "Ada", "ada@example.com")
    contact = Contact.get(Contact.email == "ada@example.com")
    page = admin.get(f"/admin/contacts/{contact.id}").data.decode()
    assert "asked as a guest" in page


def test_contact_page_gathers_conversations_from_several_browsers(app, admin, client, widget):
    """A second browser typing the contact's email joins it once the email is confirmed."""
    set_auth_type(widget, AuthType.FORM)
    for body in ("from the laptop", "from the phone"):
        token = secrets.token_hex(24)
        fill_in_form(client, widget, token, "Ada", "ada@example.com")
        start_chat(client, widget, token, body)
    contact = Contact.get()
    page = admin.get(f"/admin/contacts/{contact.id}").data.decode()
    assert "from the laptop" in page and "from the phone" not in page  # typed, not proven
    ask_for_transcript(client, widget, token)
    (link,) = confirmation_links(app.config["OUTBOX_DIR"])
    assert confirm_email(client, link).status_code == 200
    page = admin.get(f"/admin/contacts/{contact.id}").data.decode()
    assert "from the laptop" in page and "from the phone" in page


# --- agents ------------------------------------------------------------------------------------


def test_admin_adds_an_agent_who_can_sign_in_but_not_open_settings(app, admin, widget):
    response = admin_post(
        admin, "/admin/agents/", "/admin/agents/",
        {"name": "Sam", "email": "sam@example.com", "password": "long-enough-pw"},
    )  # fmt: skip
    assert response.status_code == 302
    sam = Agent.by_email("sam@example.com")
    assert sam and not sam.is_admin
    other = app.test_client()
    assert sign_in(other, "sam@example.com", "long-enough-pw").status_code == 302
    assert other.get(f"/admin/widgets/{widget.id}/general").status_code == 403
    assert other.get("/admin/agents/").status_code == 403


def test_agent_form_errors(admin):
    response = admin_post(
        admin, "/admin/agents/", "/admin/agents/",
        {"name": "", "email": "admin@example.com", "password": "short"},
    )  # fmt: skip
    assert response.status_code == 422
    text = response.data.decode()
    assert "Enter the agent&#39;s name." in text
    assert "already exists" in text and "at least 10 characters" in text


def test_deactivate_promote_and_remove(app, admin, agent_without_admin_rights):
    agent_id = agent_without_admin_rights.id
    admin_post(admin, "/admin/agents/", f"/admin/agents/{agent_id}/active")
    assert not Agent.get_by_id(agent_id).active
    refused = sign_in(app.test_client(), "agent@example.com", "agent-password-1")
    assert refused.status_code == 401

    admin_post(admin, "/admin/agents/", f"/admin/agents/{agent_id}/active")
    admin_post(admin, "/admin/agents/", f"/admin/agents/{agent_id}/admin")
    assert Agent.get_by_id(agent_id).is_admin

    admin_post(admin, "/admin/agents/", f"/admin/agents/{agent_id}/delete")
    assert Agent.get_by_id(agent_id).removed_at is not None  # kept: replies keep a name


def test_nobody_locks_themselves_out(admin):
    me = Agent.by_email("admin@example.com")
    for action in ("active", "admin", "delete"):
        response = admin_post(admin, "/admin/agents/", f"/admin/agents/{me.id}/{action}")
        assert response.status_code == 409
    me = Agent.get_by_id(me.id)
    assert me.active and me.is_admin


def test_create_agent_command(app, db):
    result = app.test_cli_runner().invoke(
        args=["create-agent", "--email", "kim@example.com", "--name", "Kim", "--password", "pw"]
    )
    assert result.exit_code == 0, result.output
    assert not Agent.by_email("kim@example.com").is_admin


def test_inbox_shows_the_most_recent_conversations_only(admin, client, widget, monkeypatch):
    import admin as admin_module

    monkeypatch.setattr(admin_module, "INBOX_SIZE", 2)
    for n in range(3):
        start_chat(client, widget, secrets.token_hex(24), f"question {n}")
    page = admin.get("/admin/").data.decode()
    assert "question 2" in page and "question 1" in page and "question 0" not in page
    assert "Showing the 2 most recent conversations" in page


# --- agents' names and replies to closed conversations ---------------------------------------


def test_agent_names_never_become_script(app, admin, db):
    with app.app_context():  # hashed as the app's settings say
        Agent.create_with_password("x@example.com", "x');alert(1);//", "long-enough-pw")
    page = admin.get("/admin/agents/").data.decode()
    assert 'data-name="x&#39;);alert(1);//"' in page
    assert "Remove x" not in page


def test_replying_to_a_closed_conversation_reopens_and_refreshes(admin, client, widget):
    """Once the agent confirmed (the form's ``reopen`` flag; tests/test_admin_tools.py has the
    refusal without it)."""
    send_message(client, widget, secrets.token_hex(24))
    conversation = Conversation.get()
    conversation.set_status(Conversation.CLOSED, agent=None)
    page = f"/admin/conversations/{conversation.id}"
    response = admin_post(
        admin, page, f"{page}/reply", {"body": "Back again", "reopen": "1"}, {"HX-Request": "true"}
    )
    assert response.headers.get("HX-Refresh") == "true"
    assert Conversation.get_by_id(conversation.id).is_open
