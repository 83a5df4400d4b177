"""What strangers can try: floods, odd input, old databases, framing; each gets a clear answer."""

import email
import email.policy
import json
import secrets
import time
from pathlib import Path

import pytest
from conftest import fill_in_form, post_reply, send_message, set_auth_type, sign_in, visitor_headers
from peewee import PostgresqlDatabase
from playhouse.migrate import SchemaMigrator, migrate

from models import (
    Agent,
    AuthType,
    Client,
    Conversation,
    Message,
    Rating,
    TranscriptMail,
    Widget,
)
from schema import create_tables


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


def test_sign_in_attempts_are_limited(app, client):
    app.config["SIGN_IN_ATTEMPTS_PER_15_MINUTES"] = 3
    statuses = [sign_in(client, password="wrong").status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    assert b"Too many sign-in attempts" in sign_in(client).data  # even the right password waits


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
    data = {"custom_user_data": json.dumps({"id": "x", "email": email})}
    response = client.post(
        f"/widget/{widget.key}/identify", data=data, headers=visitor_headers(token)
    )
    assert response.status_code == 200
    assert Client.get().email is None
    transcript = client.post(f"/widget/{widget.key}/transcript", headers=visitor_headers(token))
    assert transcript.status_code == 403


@pytest.mark.parametrize(
    "path, headers",
    [
        ("/stream?after=%C2%B2", {}),
        ("/stream", {"Last-Event-ID": "²"}),
        ("/stream?after=99999999999999999999999", {}),
    ],
)
def test_odd_stream_positions_are_not_a_500(client, widget, path, headers):
    token = secrets.token_hex(24)
    send_message(client, widget, token)
    response = client.get(
        f"/widget/{widget.key}{path}",
        headers={**visitor_headers(token), **headers},
        buffered=False,
    )
    assert response.status_code == 200
    response.close()


def test_nul_characters_are_refused(client, widget):
    response = send_message(client, widget, secrets.token_hex(24), "bad\x00byte")
    assert response.status_code == 400
    assert Message.select().count() == 0
    assert client.get("/widget/ab%00cd").status_code == 400


def test_deeply_nested_user_data_is_refused(client, widget):
    set_auth_type(widget, AuthType.CODE)
    nested = "[" * 100_000 + "]" * 100_000
    response = client.post(
        f"/widget/{widget.key}/identify",
        data={"custom_user_data": '{"id": "1", "x": ' + nested[:8000] + "}"},
        headers=visitor_headers(),
    )
    assert response.status_code in (413, 422)
    assert Client.select().count() == 0


def test_share_of_good_ratings_counts_each_conversation_once(client, widget, db):
    token = secrets.token_hex(24)
    send_message(client, widget, token)
    conversation = Conversation.get()
    admin = Agent.by_email("admin@example.com")
    for text in ("one", "two", "three"):
        conversation.add_message(text, Message.FROM_AGENT, agent=admin)
    Rating.rate(conversation, good=True)
    assert Rating.share_good_per_agent() == [("Admin", 1, 1.0)]


def test_pages_outside_the_widget_refuse_framing(client):
    for path in ("/", "/demo", "/healthz", "/no-such-page"):
        response = client.get(path)
        assert response.headers["X-Frame-Options"] == "DENY", path
        assert response.headers["Content-Security-Policy"] == "frame-ancestors 'none'", path


def test_demo_is_off_unless_asked_for(app, client):
    app.config["DEMO"] = False
    assert client.get("/demo").status_code == 404
    assert b"/demo" not in client.get("/").data


def test_a_deactivated_agent_stream_ends(app, client, db, agent_without_admin_rights):
    agent_client = app.test_client()
    sign_in(agent_client, "agent@example.com", "agent-password-1")
    response = agent_client.get("/admin/live", buffered=False)
    chunks = iter(response.response)
    assert b"inbox-changed" in next(chunks)
    Agent.update(active=False).where(Agent.id == agent_without_admin_rights.id).execute()
    from events import broker

    broker.publish("inbox")
    assert list(chunks) == []  # the stream is over
    response.close()


def test_agent_names_never_become_script(admin, db):
    Agent.create_with_password("x@example.com", "x');alert(1);//", "long-enough-pw")
    page = admin.get("/admin/agents/").data.decode()
    assert 'data-name="x&#39;);alert(1);//"' in page
    assert "Remove x" not in page


def test_an_older_database_is_brought_up_to_date(db):
    migrator = SchemaMigrator.from_database(db.obj)
    older = [
        migrator.drop_column("widget", "identity_secret"),
        migrator.drop_column("widget", "follow_browser_language"),
    ]
    if isinstance(db.obj, PostgresqlDatabase):  # SQLite cannot drop a foreign-key column
        older[:0] = [
            migrator.drop_index("client", "client_linked_to_id"),
            migrator.drop_column("client", "linked_to_id"),
        ]
    migrate(*older)
    db.drop_tables([Rating])
    create_tables()
    assert "linked_to_id" in {c.name for c in db.get_columns("client")}
    assert "client_linked_to_id" in {i.name for i in db.get_indexes("client")}
    assert "rating" in db.get_tables()
    secrets_now = [w.identity_secret for w in Widget.select()]
    assert secrets_now and all(len(secret) == 64 for secret in secrets_now)
    create_tables()  # and running it again changes nothing


def test_unknown_smtp_security_is_a_recorded_failure(app, client, widget):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_SECURITY="tls-please")
    set_auth_type(widget, AuthType.FORM)
    token = secrets.token_hex(24)
    fill_in_form(client, widget, token)
    send_message(client, widget, token)
    response = client.post(f"/widget/{widget.key}/transcript", headers=visitor_headers(token))
    assert response.status_code == 503
    assert "FRONTDESK_SMTP_SECURITY" in TranscriptMail.get().error


def test_replying_to_a_closed_conversation_reopens_and_refreshes(admin, client, widget):
    send_message(client, widget, secrets.token_hex(24))
    conversation = Conversation.get()
    conversation.set_status(Conversation.CLOSED, agent=None)
    response = post_reply(admin, conversation, "Back again")
    assert response.headers.get("HX-Refresh") == "true"
    assert Conversation.get_by_id(conversation.id).is_open


def test_visitor_addresses_come_from_trusted_proxies_only(tmp_path):
    from app import create_app

    for proxies, expected in ((0, "127.0.0.1"), (1, "203.0.113.9")):
        app = create_app(
            {"DATABASE_URL": f"sqlite:///{tmp_path}/p.db", "SECRET_KEY": "x",
             "TRUSTED_PROXIES": proxies}
        )  # fmt: skip

        @app.get("/whoami")
        def whoami():
            from flask import request

            return request.remote_addr

        seen = app.test_client().get("/whoami", headers={"X-Forwarded-For": "203.0.113.9"})
        assert seen.data.decode() == expected


def test_each_limit_counts_its_own_key_and_forgets_with_its_own_window(app):
    from throttle import allow

    app.config.update(ONE_PER_SECOND=1, NONE_AT_ALL=0)
    with app.app_context():
        assert allow("sign-in", ("ada@example.com", "10.0.0.1"), "ONE_PER_SECOND", 1)
        assert not allow("sign-in", ("ada@example.com", "10.0.0.1"), "ONE_PER_SECOND", 1)
        assert allow("sign-in", ("bob@example.com", "10.0.0.1"), "ONE_PER_SECOND", 1)
        assert allow("write", "10.0.0.1", "ONE_PER_SECOND", 1)  # another bucket, its own count
        assert allow("zero", "10.0.0.1", "NONE_AT_ALL", 60)  # a limit of 0 acts as 1
        assert not allow("zero", "10.0.0.1", "NONE_AT_ALL", 60)
        time.sleep(1.1)
        assert allow("sign-in", ("ada@example.com", "10.0.0.1"), "ONE_PER_SECOND", 1)


def test_nul_inside_site_data_is_dropped(client, widget):
    set_auth_type(widget, AuthType.CODE)
    token = secrets.token_hex(24)
    raw = '{"id": "42", "name": "A\\u0000", "plan\\u0000": "x", "phone": "1"}'
    response = client.post(
        f"/widget/{widget.key}/identify",
        data={"custom_user_data": raw},
        headers=visitor_headers(token),
    )
    assert response.status_code == 200
    stored = Client.get()
    assert stored.name is None and stored.custom_fields == {"phone": "1"}
    bad_id = client.post(
        f"/widget/{widget.key}/identify",
        data={"custom_user_data": '{"id": "a\\u0000b"}'},
        headers=visitor_headers(),
    )
    assert bad_id.status_code == 422


def test_a_subject_with_a_line_break_stays_one_header(app, client, widget):
    from models import LabelOverride

    app.config["SMTP_HOST"] = None
    set_auth_type(widget, AuthType.FORM)
    LabelOverride.create(
        widget=widget, language="en", key="email.subject", text="Hi {site}\nBcc: x@y.z"
    )
    token = secrets.token_hex(24)
    fill_in_form(client, widget, token)
    send_message(client, widget, token)
    response = client.post(f"/widget/{widget.key}/transcript", headers=visitor_headers(token))
    assert response.status_code == 200  # the subject is kept on one line
    raw = next(Path(app.config["OUTBOX_DIR"]).glob("*.eml")).read_bytes()
    mail = email.message_from_bytes(raw, policy=email.policy.default)
    assert mail["Subject"] == "Hi Demo shop Bcc: x@y.z"
    assert mail["Bcc"] is None


@pytest.mark.parametrize("value, on", [("off", False), ("no", False), ("False", False),
                                       ("0", False), ("true", True), ("1", True)])  # fmt: skip
def test_the_demo_switch_is_read_strictly(tmp_path, value, on):
    from app import create_app

    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/d.db", "SECRET_KEY": "x",
                      "DEMO": value})  # fmt: skip
    assert app.config["DEMO"] is on


def test_a_long_signed_email_is_stored(client, widget):
    import time

    import jwt

    set_auth_type(widget, AuthType.CODE)
    email = "a" * 60 + "@" + "b" * 60 + ".example.com"
    signed = jwt.encode(
        {"id": "7", "email": email, "exp": int(time.time()) + 60},
        widget.identity_secret,
        algorithm="HS256",
    )
    response = client.post(
        f"/widget/{widget.key}/identify",
        data={"identity_token": signed},
        headers=visitor_headers(),
    )
    assert response.status_code == 200
    assert Client.get().contact.email == email
