"""Deleting never loses history silently (issue 11, item 6).

Removing an agent keeps their replies under their name, marked "former agent" in the admin;
deleting a person's data on request removes every row of theirs and nothing of anyone else's.
"""

import html
import re
import secrets

import pytest

from models import (
    Agent,
    Client,
    Contact,
    Conversation,
    Message,
    Rating,
    ReadMark,
    TranscriptMail,
    hash_token,
)

AGENT_EMAIL, AGENT_PASSWORD = "agent@example.com", "agent-password-1"  # the conftest fixture's


def csrf_token_from(response):
    match = re.search(rb'name="csrf_token"(?: type="hidden")? value="([^"]+)"', response.data)
    assert match, "no CSRF token in the page"
    return match.group(1).decode()


def post_from(test_client, page_url, url, data=None):
    """Post ``data`` to ``url`` with the CSRF token of the page the form is on."""
    token = csrf_token_from(test_client.get(page_url))
    return test_client.post(url, data={**(data or {}), "csrf_token": token})


def sign_in(test_client, email, password):
    return post_from(
        test_client, "/admin/login", "/admin/login", {"email": email, "password": password}
    )


def text_of(response):
    return html.unescape(response.get_data(as_text=True))


def person(widget, name, email, browsers=1, conversations=1, replies_by=None):
    """A contact whose browsers each wrote in ``conversations`` conversations; returns it."""
    contact = Contact.create(widget=widget, name=name, email=email)
    for _ in range(browsers):
        chatting(widget, conversations, contact=contact, replies_by=replies_by)
    return contact


def chatting(widget, conversations=1, replies_by=None, **client_fields):
    """A client with ``conversations`` conversations of two client messages and a reply each."""
    client = Client.create(
        widget=widget, token_hash=hash_token(secrets.token_hex(16)), **client_fields
    )
    for n in range(conversations):
        conversation = Conversation.create(widget=widget, client=client)
        conversation.add_message(f"question {n}", Message.FROM_CLIENT, client_msg_id=f"m{n}")
        conversation.add_message("more", Message.FROM_CLIENT)
        conversation.add_message("an answer", Message.FROM_AGENT, agent=replies_by)
    return client


def rows_of(client_ids):
    """Every row that belongs to these clients, per table."""
    conversations = [c.id for c in Conversation.select().where(Conversation.client.in_(client_ids))]
    return {
        "client": Client.select().where(Client.id.in_(client_ids)).count(),
        "conversation": len(conversations),
        "message": Message.select()
        .where(Message.conversation.in_(conversations) | Message.client.in_(client_ids))
        .count(),
        "rating": Rating.select().where(Rating.conversation.in_(conversations)).count(),
        "transcriptmail": TranscriptMail.select()
        .where(TranscriptMail.conversation.in_(conversations))
        .count(),
        "readmark": ReadMark.select().where(ReadMark.conversation.in_(conversations)).count(),
    }


def totals():
    return {
        model._meta.table_name: model.select().count()
        for model in (Contact, Client, Conversation, Message, Rating, TranscriptMail, ReadMark)
    }


def client_ids_of(contact):
    own = [c.id for c in Client.select().where(Client.contact == contact)]
    return own + [c.id for c in Client.select().where(Client.linked_to.in_(own))]


# --- removing an agent -------------------------------------------------------------------------


@pytest.fixture
def sams_rated_reply(db, widget, agent_without_admin_rights):
    """A visitor's conversation that Sam Agent answered and the visitor rated good; its token."""
    token = secrets.token_hex(24)
    client = Client.create(widget=widget, token_hash=hash_token(token))
    conversation = Conversation.create(widget=widget, client=client)
    conversation.add_message("where is my parcel?", Message.FROM_CLIENT, client_msg_id="p1")
    conversation.add_message("On its way!", Message.FROM_AGENT, agent=agent_without_admin_rights)
    Rating.create(conversation=conversation, good=True)
    return conversation, token


def remove_agent(admin, agent):
    return post_from(admin, "/admin/agents/", f"/admin/agents/{agent.id}/delete")


def test_a_removed_agents_replies_keep_their_name_marked_former_agent(
    app, admin, sams_rated_reply, agent_without_admin_rights
):
    conversation, token = sams_rated_reply
    sam = agent_without_admin_rights

    response = remove_agent(admin, sam)

    assert response.status_code == 302
    assert "Their replies stay in the conversations" in text_of(admin.get("/admin/agents/"))
    kept = Agent.get_by_id(sam.id)
    assert kept.removed_at is not None and not kept.active and not kept.is_active
    assert kept.name == "Sam Agent" and kept.email == f"removed-{sam.id}@invalid"
    assert not Agent.select().where(Agent.email.contains("agent@example.com")).exists()
    assert not kept.check_password(AGENT_PASSWORD)
    reply = Message.get(Message.body == "On its way!")
    assert reply.agent_id == sam.id

    page = text_of(admin.get(f"/admin/conversations/{conversation.id}"))
    assert "Sam Agent (former agent)" in page
    reports = text_of(admin.get("/admin/reports"))
    assert "<td>Sam Agent (former agent)</td>" in reports
    assert Rating.share_good_per_agent() == [("Sam Agent (former agent)", 1, 1.0)]
    assert "Sam Agent (former agent): On its way!" in text_of(admin.get("/admin/"))
    # Visitors keep reading the plain name.
    pane = app.test_client().get(
        f"/widget/{conversation.widget.key}/pane",
        headers={"X-Frontdesk-Token": token, "HX-Request": "true"},
    )
    assert "Sam Agent" in text_of(pane) and "former agent" not in text_of(pane)


def test_the_team_page_no_longer_lists_a_removed_agent(admin, agent_without_admin_rights):
    assert "Sam Agent" in text_of(admin.get("/admin/agents/"))
    remove_agent(admin, agent_without_admin_rights)
    assert "Sam Agent was removed" in text_of(admin.get("/admin/agents/"))  # the flash
    assert "Sam Agent" not in text_of(admin.get("/admin/agents/"))
    assert [agent.name for agent in Agent.team()] == ["Admin"]
    # Nothing more can be done to them: they are no longer on the team.
    for action in ("active", "admin", "delete"):
        url = f"/admin/agents/{agent_without_admin_rights.id}/{action}"
        assert post_from(admin, "/admin/agents/", url).status_code == 404


def test_a_removed_agent_cannot_sign_in_and_their_session_ends(
    app, admin, agent_without_admin_rights
):
    sams_browser = app.test_client()
    assert sign_in(sams_browser, AGENT_EMAIL, AGENT_PASSWORD).status_code == 302
    assert sams_browser.get("/admin/").status_code == 200

    remove_agent(admin, agent_without_admin_rights)

    assert sams_browser.get("/admin/").status_code == 302  # back to the sign-in page
    refused = sign_in(app.test_client(), AGENT_EMAIL, AGENT_PASSWORD)
    assert refused.status_code == 401
    removed_address = f"removed-{agent_without_admin_rights.id}@invalid"
    assert sign_in(app.test_client(), removed_address, AGENT_PASSWORD).status_code != 302


def test_a_removed_agents_email_goes_to_a_new_agent_with_a_new_id(
    app, admin, agent_without_admin_rights
):
    old_id = agent_without_admin_rights.id
    remove_agent(admin, agent_without_admin_rights)

    added = post_from(
        admin,
        "/admin/agents/",
        "/admin/agents/",
        {"name": "Sam Again", "email": AGENT_EMAIL, "password": "another-password-2"},
    )

    assert added.status_code == 302
    new = Agent.by_email(AGENT_EMAIL)
    assert new.id != old_id and new.id > old_id and new.name == "Sam Again"
    assert Agent.get_by_id(old_id).name == "Sam Agent"  # the old row stays with its replies
    assert sign_in(app.test_client(), AGENT_EMAIL, "another-password-2").status_code == 302


def test_nobody_removes_themselves_or_the_last_admin(admin, db):
    me = Agent.by_email("admin@example.com")
    assert remove_agent(admin, me).status_code == 409
    me = Agent.get_by_id(me.id)
    assert me.removed_at is None and me.active and me.email == "admin@example.com"


# --- deleting a contact's data -----------------------------------------------------------------


@pytest.fixture
def ada_and_grace(db, widget):
    """Ada: two browsers that filled in the form, one more linked to the first, three
    conversations, a rating, two transcript mails, a read mark. Grace: one of each."""
    admin = Agent.by_email("admin@example.com")
    ada = person(widget, "Ada Lovelace", "ada@example.com", replies_by=admin)
    first = Client.get(Client.contact == ada)
    chatting(widget, conversations=2, contact=ada, replies_by=admin)
    Client.create(widget=widget, token_hash=hash_token("ada's phone"), linked_to=first)
    conversation = first.conversations.get()
    Rating.create(conversation=conversation, good=False, comment="Ada was unhappy")
    for _ in range(2):
        TranscriptMail.create(
            conversation=conversation,
            recipient="ada@example.com",
            requested_by="client",
            status="sent",
        )
    conversation.mark_read(admin)

    grace = person(widget, "Grace Hopper", "grace@example.com", replies_by=admin)
    graces = Client.get(Client.contact == grace).conversations.get()
    Rating.create(conversation=graces, good=True)
    TranscriptMail.create(
        conversation=graces, recipient="grace@example.com", requested_by="agent", status="sent"
    )
    graces.mark_read(admin)
    return ada, grace


def test_the_confirmation_says_what_deleting_a_contact_removes(admin, ada_and_grace):
    ada, _ = ada_and_grace
    contact_page = text_of(admin.get(f"/admin/contacts/{ada.id}"))
    assert f'href="/admin/contacts/{ada.id}/delete">Delete this contact\'s data' in contact_page

    page = text_of(admin.get(f"/admin/contacts/{ada.id}/delete"))

    assert (
        "Ada Lovelace <ada@example.com></strong>: 3 browsers, 3 conversations, 9 messages, "
        "1 rating, 2 transcript emails." in page
    )
    assert "Delete permanently" in page and f'action="/admin/contacts/{ada.id}/delete"' in page
    assert ada.personal_data_counts() == {
        "browsers": 3,
        "conversations": 3,
        "messages": 9,
        "ratings": 1,
        "transcript_mails": 2,
    }


def test_deleting_a_contact_removes_every_row_of_theirs_and_nothing_else(admin, ada_and_grace):
    ada, grace = ada_and_grace
    adas_clients = client_ids_of(ada)
    adas_conversations = [
        c.id for c in Conversation.select().where(Conversation.client.in_(adas_clients))
    ]
    graces_clients = client_ids_of(grace)
    graces_rows = rows_of(graces_clients)
    before = totals()

    response = post_from(
        admin, f"/admin/contacts/{ada.id}/delete", f"/admin/contacts/{ada.id}/delete"
    )

    assert response.status_code == 302 and response.location.endswith("/admin/contacts/")
    assert (
        "Deleted permanently: Ada Lovelace <ada@example.com>: 3 browsers, 3 conversations, "
        "9 messages, 1 rating, 2 transcript emails." in text_of(admin.get("/admin/contacts/"))
    )
    assert Contact.get_or_none(Contact.id == ada.id) is None
    assert rows_of(adas_clients) == dict.fromkeys(graces_rows, 0)
    assert not Message.select().where(Message.conversation.in_(adas_conversations)).exists()
    assert not TranscriptMail.select().where(TranscriptMail.recipient == "ada@example.com").exists()
    assert not Rating.select().where(Rating.comment.contains("Ada")).exists()
    assert totals() == {
        "contact": before["contact"] - 1,
        "client": before["client"] - 3,
        "conversation": before["conversation"] - 3,
        "message": before["message"] - 9,
        "rating": before["rating"] - 1,
        "transcriptmail": before["transcriptmail"] - 2,
        "readmark": before["readmark"] - 1,
    }
    # Grace keeps everything.
    assert Contact.get_by_id(grace.id).email == "grace@example.com"
    assert (
        rows_of(graces_clients)
        == graces_rows
        == {
            "client": 1,
            "conversation": 1,
            "message": 3,
            "rating": 1,
            "transcriptmail": 1,
            "readmark": 1,
        }
    )
    # The old pages are gone.
    assert admin.get(f"/admin/contacts/{ada.id}").status_code == 404
    assert admin.get(f"/admin/contacts/{ada.id}/delete").status_code == 404
    assert admin.get(f"/admin/conversations/{adas_conversations[0]}").status_code == 404
    assert "Ada" not in text_of(admin.get("/admin/")) and "Grace" in text_of(admin.get("/admin/"))


# --- deleting a visitor's data -----------------------------------------------------------------


@pytest.fixture
def site_user_and_visitor(db, widget):
    """A site user without a contact (two conversations, a linked browser); another visitor."""
    admin = Agent.by_email("admin@example.com")
    user = chatting(widget, 2, replies_by=admin, external_id="u-7", name="Kim Site", verified=True)
    Client.create(widget=widget, token_hash=hash_token("kim's laptop"), linked_to=user)
    conversation = user.conversations.get()
    Rating.create(conversation=conversation, good=True)
    conversation.mark_read(admin)
    other = chatting(widget, 1, replies_by=admin)
    return user, other


def test_deleting_a_visitor_removes_their_browsers_and_conversations(admin, site_user_and_visitor):
    kim, other = site_user_and_visitor
    kims_browsers = [kim.id] + [c.id for c in Client.select().where(Client.linked_to == kim)]
    conversation = kim.conversations.get()
    others_rows = rows_of([other.id])
    before = totals()

    page = text_of(admin.get(f"/admin/conversations/{conversation.id}"))
    assert f'href="/admin/clients/{kim.id}/delete">Delete this visitor\'s data' in page
    confirm = text_of(admin.get(f"/admin/clients/{kim.id}/delete"))
    assert (
        "Kim Site</strong>: 2 browsers, 2 conversations, 6 messages, 1 rating, "
        "0 transcript emails." in confirm
    )

    response = post_from(
        admin, f"/admin/clients/{kim.id}/delete", f"/admin/clients/{kim.id}/delete"
    )

    assert response.status_code == 302
    assert "Deleted permanently: Kim Site: 2 browsers" in text_of(admin.get("/admin/"))
    assert rows_of(kims_browsers) == dict.fromkeys(others_rows, 0)
    assert not Client.select().where(Client.external_id == "u-7").exists()
    assert totals() == {
        **before,
        "client": before["client"] - 2,
        "conversation": before["conversation"] - 2,
        "message": before["message"] - 6,
        "rating": before["rating"] - 1,
        "readmark": before["readmark"] - 1,
    }
    assert rows_of([other.id]) == others_rows
    assert admin.get(f"/admin/conversations/{conversation.id}").status_code == 404
    assert admin.get(f"/admin/clients/{kim.id}/delete").status_code == 404


def test_a_contacts_browser_is_deleted_with_the_contact(admin, ada_and_grace):
    ada, _ = ada_and_grace
    first = Client.get(Client.contact == ada)
    page = text_of(admin.get(f"/admin/conversations/{first.conversations.get().id}"))
    assert "Delete this visitor's data" not in page

    response = admin.get(f"/admin/clients/{first.id}/delete")

    assert response.status_code == 302
    assert response.location.endswith(f"/admin/contacts/{ada.id}/delete")
    linked = Client.get(Client.linked_to == first)
    assert admin.get(f"/admin/clients/{linked.id}/delete").status_code == 404


# --- who may delete ----------------------------------------------------------------------------


def test_deleting_needs_a_csrf_token(admin, ada_and_grace, site_user_and_visitor):
    ada, _ = ada_and_grace
    kim, _ = site_user_and_visitor
    before = totals()
    assert admin.post(f"/admin/contacts/{ada.id}/delete").status_code == 400
    assert admin.post(f"/admin/clients/{kim.id}/delete").status_code == 400
    assert totals() == before


def test_agents_without_admin_rights_may_not_delete(
    app, ada_and_grace, site_user_and_visitor, agent_without_admin_rights
):
    ada, _ = ada_and_grace
    kim, _ = site_user_and_visitor
    sam = app.test_client()
    assert sign_in(sam, AGENT_EMAIL, AGENT_PASSWORD).status_code == 302
    before = totals()
    token = csrf_token_from(sam.get("/admin/"))
    for url in (f"/admin/contacts/{ada.id}/delete", f"/admin/clients/{kim.id}/delete"):
        assert sam.get(url).status_code == 403
        assert sam.post(url, data={"csrf_token": token}).status_code == 403
    assert totals() == before
    assert "Delete this contact's data" not in text_of(sam.get(f"/admin/contacts/{ada.id}"))
    conversation = kim.conversations.get()
    page = text_of(sam.get(f"/admin/conversations/{conversation.id}"))
    assert "Delete this visitor's data" not in page


def test_unknown_ids_are_not_found(admin, db):
    token = csrf_token_from(admin.get("/admin/"))
    for url in ("/admin/contacts/999999/delete", "/admin/clients/999999/delete"):
        assert admin.get(url).status_code == 404
        assert admin.post(url, data={"csrf_token": token}).status_code == 404
