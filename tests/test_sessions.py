"""Agents' sign-ins as sessions on the server, and the limits on failed sign-ins (issue 13).

Each test signs in through the real form (CSRF token included) on both databases. A stolen
cookie is simulated by copying it from one test client into another.
"""

import datetime

import pytest
from helpers import ADMIN_EMAIL, ADMIN_PASSWORD, admin_post, sign_in

import models
import throttle
from db import utcnow
from models import Agent, AgentSession, hash_token

SESSION_COOKIE = "session"
REMEMBER_COOKIE = "remember_token"
AGENT_EMAIL, AGENT_PASSWORD = "agent@example.com", "agent-password-1"


def browser(app, user_agent="Browser A", address="127.0.0.1"):
    """A test client that says which browser it is and where it comes from."""
    client = app.test_client()
    client.environ_base.update({"HTTP_USER_AGENT": user_agent, "REMOTE_ADDR": address})
    return client


def signed_in(app, email=ADMIN_EMAIL, password=ADMIN_PASSWORD, remember=False, **browser_kw):
    client = browser(app, **browser_kw)
    data = {"email": email, "password": password, **({"remember": "y"} if remember else {})}
    response = admin_post(client, "/admin/login", "/admin/login", data)
    assert response.status_code == 302, response.data
    return client


def copy_of(client, app, *names):
    """Another browser holding copies of ``client``'s cookies (all, or those ``names``)."""
    thief = browser(app, user_agent="Thief")
    for name in names or (SESSION_COOKIE, REMEMBER_COOKIE):
        cookie = client.get_cookie(name)
        if cookie is not None:
            thief.set_cookie(name, cookie.value)
    return thief


def in_admin(client):
    """Whether this browser is signed in: the inbox opens instead of redirecting to sign in."""
    response = client.get("/admin/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def session_data(app, client):
    cookie = client.get_cookie(SESSION_COOKIE)
    return app.session_interface.get_signing_serializer(app).loads(cookie.value)


def sign_out(client):
    return admin_post(client, "/admin/", "/admin/logout")


@pytest.fixture
def agent(app, db):
    with app.app_context():
        return Agent.create_with_password(AGENT_EMAIL, "Sam Agent", AGENT_PASSWORD)


# --- sessions on the server --------------------------------------------------------------------


def test_the_cookie_holds_a_random_session_token_stored_only_as_its_hash(app, db):
    client = signed_in(app, user_agent="Firefox on the desk " + "x" * 300, address="10.0.0.7")
    token = session_data(app, client)["_user_id"]
    admin_agent = Agent.by_email(ADMIN_EMAIL)
    assert token != str(admin_agent.id) and len(token) >= 40
    row = AgentSession.get(AgentSession.token_hash == hash_token(token))
    assert row.agent_id == admin_agent.id and not row.remember
    assert row.ip == "10.0.0.7" and row.user_agent.startswith("Firefox on the desk")
    assert len(row.user_agent) == models.USER_AGENT_MAX_LENGTH
    assert row.created_at <= row.last_seen_at < row.expires_at
    stored = [str(value) for value in AgentSession.select().tuples().get()]
    assert token not in stored  # only its sha256

    other = signed_in(app)  # every sign-in is a session of its own
    assert session_data(app, other)["_user_id"] != token
    assert AgentSession.select().where(AgentSession.agent == admin_agent).count() == 2


def test_a_cookie_copied_before_sign_out_no_longer_opens_the_admin(app, db):
    client = signed_in(app, remember=True)
    thief = copy_of(client, app)
    assert in_admin(thief)
    assert sign_out(client).status_code == 302
    assert not in_admin(thief)
    assert not in_admin(copy_of(client, app))  # nothing left on the signed-out browser either
    assert AgentSession.select().count() == 0


def test_a_forged_or_bare_agent_id_cookie_signs_nobody_in(app, db):
    """What main's cookies held: the agent's id. The loader takes only a live session's token."""
    admin_agent = Agent.by_email(ADMIN_EMAIL)
    client = signed_in(app)
    serializer = app.session_interface.get_signing_serializer(app)
    data = session_data(app, client)
    forged = browser(app)
    forged.set_cookie(SESSION_COOKIE, serializer.dumps({**data, "_user_id": str(admin_agent.id)}))
    assert not in_admin(forged)


def test_an_expired_session_signs_nobody_in(app, db):
    client = signed_in(app)
    AgentSession.update(expires_at=utcnow() - datetime.timedelta(seconds=1)).execute()
    assert not in_admin(client)


def test_deactivation_ends_every_session_of_the_agent(app, db, agent):
    laptop = signed_in(app, AGENT_EMAIL, AGENT_PASSWORD, remember=True)
    phone = signed_in(app, AGENT_EMAIL, AGENT_PASSWORD, user_agent="Phone")
    admin = signed_in(app)
    assert in_admin(laptop) and in_admin(phone)
    admin_post(admin, "/admin/agents/", f"/admin/agents/{agent.id}/active")
    assert AgentSession.select().where(AgentSession.agent == agent).count() == 0
    admin_post(admin, "/admin/agents/", f"/admin/agents/{agent.id}/active")  # back in...
    assert Agent.get_by_id(agent.id).active
    assert not in_admin(laptop) and not in_admin(phone)  # ...but every browser signs in again
    assert in_admin(admin)


def test_removal_ends_the_sessions_and_the_id_is_never_given_again(app, db, agent):
    old = signed_in(app, AGENT_EMAIL, AGENT_PASSWORD, remember=True)
    stolen = copy_of(old, app)
    admin = signed_in(app)
    admin_post(admin, "/admin/agents/", f"/admin/agents/{agent.id}/delete")
    assert AgentSession.select().where(AgentSession.agent == agent).count() == 0
    form = {"name": "New Person", "email": AGENT_EMAIL, "password": "another-long-password"}
    assert admin_post(admin, "/admin/agents/", "/admin/agents/", form).status_code == 302
    newcomer = Agent.by_email(AGENT_EMAIL)
    assert newcomer.id > agent.id  # the removed agent's row stays, so its id stays taken
    assert not in_admin(old) and not in_admin(stolen)


def test_a_removed_agents_cookie_does_not_sign_in_whoever_gets_the_same_id(app, db, agent):
    """Even if a row were deleted and its id reused (SQLite reuses the highest id of a deleted
    row without AUTOINCREMENT), the cookie names a session, never an agent id."""
    old = signed_in(app, AGENT_EMAIL, AGENT_PASSWORD, remember=True)
    assert in_admin(old)
    agent_id = agent.id
    Agent.delete_by_id(agent_id)  # the sessions go with it (ON DELETE CASCADE)
    newcomer = Agent(id=agent_id, email="new@example.com", name="New Person")
    with app.app_context():
        newcomer.set_password("another-long-password")
    newcomer.save(force_insert=True)
    assert Agent.get_by_id(agent_id).email == "new@example.com"
    assert not in_admin(old) and not in_admin(copy_of(old, app))


def test_a_new_password_ends_every_other_session(app, db, agent):
    here = signed_in(app, AGENT_EMAIL, AGENT_PASSWORD)
    elsewhere = signed_in(app, AGENT_EMAIL, AGENT_PASSWORD, user_agent="Browser B", remember=True)
    stolen = copy_of(here, app)
    wrong = admin_post(
        here,
        "/admin/account/",
        "/admin/account/password",
        {"current": "not-it", "password": "a-brand-new-password", "repeat": "a-brand-new-password"},
    )
    assert wrong.status_code == 422 and in_admin(elsewhere)
    changed = admin_post(
        here,
        "/admin/account/",
        "/admin/account/password",
        {
            "current": AGENT_PASSWORD,
            "password": "a-brand-new-password",
            "repeat": "a-brand-new-password",
        },
    )
    assert changed.status_code == 302
    assert in_admin(here)  # this browser got a new session
    assert not in_admin(elsewhere) and not in_admin(stolen)
    assert AgentSession.select().where(AgentSession.agent == agent).count() == 1
    assert sign_in(app.test_client(), AGENT_EMAIL, AGENT_PASSWORD).status_code == 401
    assert sign_in(app.test_client(), AGENT_EMAIL, "a-brand-new-password").status_code == 302


def test_setting_a_password_ends_the_sessions(app, db, agent):
    """The model does it, so any future way of setting a password does too."""
    client = signed_in(app, AGENT_EMAIL, AGENT_PASSWORD)
    with app.app_context():
        agent.set_password("reset-by-someone")
    agent.save()
    assert not in_admin(client)


# --- remember me ---------------------------------------------------------------------------------


def test_remember_me_lasts_30_days_and_differs_on_every_sign_in(app, db):
    client = signed_in(app, remember=True)
    cookie = client.get_cookie(REMEMBER_COOKIE)
    days = (cookie.expires.replace(tzinfo=None) - utcnow()).total_seconds() / 86400
    assert 29.9 < days <= 30
    row = AgentSession.get(AgentSession.remember == True)  # noqa: E712
    assert datetime.timedelta(days=29.9) < row.expires_at - utcnow() <= datetime.timedelta(days=30)
    again = signed_in(app, remember=True)
    assert again.get_cookie(REMEMBER_COOKIE).value != cookie.value

    AgentSession.update(expires_at=utcnow() - datetime.timedelta(seconds=1)).execute()
    assert not in_admin(copy_of(client, app, REMEMBER_COOKIE))  # past its 30 days


def test_the_remember_me_cookie_gets_a_new_token_each_time_it_is_used(app, db):
    client = signed_in(app, remember=True)
    first = client.get_cookie(REMEMBER_COOKIE).value
    restarted = copy_of(client, app, REMEMBER_COOKIE)  # the browser lost its session cookie
    response = restarted.get("/admin/")
    assert response.status_code == 200
    second = restarted.get_cookie(REMEMBER_COOKIE).value
    assert second != first
    token = session_data(app, restarted)["_user_id"]
    assert AgentSession.get(AgentSession.token_hash == hash_token(token)).remember
    left = restarted.get_cookie(REMEMBER_COOKIE).expires.replace(tzinfo=None) - utcnow()
    assert datetime.timedelta(days=29.9) < left <= datetime.timedelta(days=30)  # not renewed
    assert in_admin(restarted)  # its new session cookie works; no rotation on every request
    assert restarted.get_cookie(REMEMBER_COOKIE).value == second
    assert AgentSession.select().count() == 1  # the same sign-in, with a new token

    # The old token is honoured for a few seconds (tabs a restarted browser opens at once)...
    assert in_admin(copy_of(client, app, REMEMBER_COOKIE))
    AgentSession.update(rotated_at=utcnow() - AgentSession.ROTATION_GRACE).execute()
    # ...then a stolen copy of it, or the session cookie that held it, no longer works.
    assert not in_admin(copy_of(client, app, REMEMBER_COOKIE))
    assert not in_admin(client)
    assert in_admin(copy_of(restarted, app, REMEMBER_COOKIE))  # the newest cookie does


# --- your sessions -------------------------------------------------------------------------------


def test_an_agent_sees_their_sessions_and_ends_one(app, db, agent):
    desk = signed_in(app, AGENT_EMAIL, AGENT_PASSWORD, user_agent="Desk Firefox")
    phone = signed_in(
        app, AGENT_EMAIL, AGENT_PASSWORD, user_agent="Phone Safari", address="10.1.2.3"
    )
    signed_in(app, user_agent="Admin Chrome")  # someone else's session is not listed
    page = desk.get("/admin/account/").data.decode()
    assert "Desk Firefox" in page and "Phone Safari" in page and "10.1.2.3" in page
    assert "Admin Chrome" not in page and "(this browser)" in page
    phone_session = AgentSession.get(AgentSession.user_agent == "Phone Safari")

    url = f"/admin/account/sessions/{phone_session.id}/end"
    assert desk.post(url).status_code == 400  # no CSRF token
    assert in_admin(phone)
    assert admin_post(desk, "/admin/account/", url).status_code == 302
    assert not in_admin(phone) and in_admin(desk)

    admin_session = AgentSession.get(AgentSession.user_agent == "Admin Chrome")
    foreign = f"/admin/account/sessions/{admin_session.id}/end"
    assert admin_post(desk, "/admin/account/", foreign).status_code == 404


def test_ending_this_browsers_session_signs_out(app, db):
    client = signed_in(app)
    own = AgentSession.get()
    response = admin_post(client, "/admin/account/", f"/admin/account/sessions/{own.id}/end")
    assert response.status_code == 302 and "/admin/login" in response.headers["Location"]
    assert not in_admin(client)


def test_end_all_other_sessions(app, db, agent):
    here = signed_in(app, AGENT_EMAIL, AGENT_PASSWORD)
    others = [
        signed_in(app, AGENT_EMAIL, AGENT_PASSWORD, user_agent=f"Other {n}", remember=True)
        for n in range(3)
    ]
    admin = signed_in(app)
    assert "End all other sessions" in here.get("/admin/account/").data.decode()
    url = "/admin/account/sessions/end-others"
    assert here.post(url).status_code == 400  # no CSRF token
    response = admin_post(here, "/admin/account/", url)
    assert response.status_code == 302
    assert "3 other sessions ended." in here.get("/admin/account/").data.decode()
    assert in_admin(here) and in_admin(admin)
    assert not any(in_admin(other) for other in others)


def test_an_admin_ends_another_agents_sessions(app, db, agent):
    laptop = signed_in(app, AGENT_EMAIL, AGENT_PASSWORD, user_agent="Lost Laptop")
    admin = signed_in(app)
    assert f"/admin/agents/{agent.id}/sessions" in admin.get("/admin/agents/").data.decode()
    page = admin.get(f"/admin/agents/{agent.id}/sessions").data.decode()
    assert "Lost Laptop" in page
    url = f"/admin/agents/{agent.id}/sessions/end"
    assert admin_post(admin, f"/admin/agents/{agent.id}/sessions", url).status_code == 302
    assert not in_admin(laptop) and in_admin(admin)

    # Agents without admin rights see only their own.
    agent_client = signed_in(app, AGENT_EMAIL, AGENT_PASSWORD)
    admin_agent = Agent.by_email(ADMIN_EMAIL)
    assert agent_client.get(f"/admin/agents/{admin_agent.id}/sessions").status_code == 403


# --- sign-in limits ------------------------------------------------------------------------------


def test_successful_sign_ins_are_not_counted(app, db):
    app.config["SIGN_IN_ATTEMPTS_PER_15_MINUTES"] = 3
    app.config["SIGN_IN_FAILURES_PER_ADDRESS_PER_15_MINUTES"] = 3
    for _ in range(6):
        signed_in(app)
    statuses = [sign_in(app.test_client(), password="wrong").status_code for _ in range(2)]
    assert statuses == [401, 401]
    signed_in(app)  # two failures of three: still in


def test_failures_are_limited_per_account_from_any_address(app, db):
    app.config["SIGN_IN_ATTEMPTS_PER_15_MINUTES"] = 3
    app.config["SIGN_IN_FAILURES_PER_ADDRESS_PER_15_MINUTES"] = 100
    statuses = [
        sign_in(browser(app, address=f"10.0.0.{n}"), password="wrong").status_code for n in range(4)
    ]
    assert statuses == [401, 401, 401, 429]
    # The right password from yet another address waits too (checked before the password)...
    locked = sign_in(browser(app, address="10.9.9.9"))
    assert locked.status_code == 429
    assert "Too many failed sign-ins. Try again in 15 minutes." in locked.data.decode()
    # ...while other accounts, from the same addresses, are not held up.
    with app.app_context():
        Agent.create_with_password(AGENT_EMAIL, "Sam Agent", AGENT_PASSWORD)
    assert sign_in(browser(app, address="10.0.0.1"), AGENT_EMAIL, AGENT_PASSWORD).status_code == 302


def test_failures_are_limited_per_address_across_accounts(app, db):
    app.config["SIGN_IN_ATTEMPTS_PER_15_MINUTES"] = 100
    app.config["SIGN_IN_FAILURES_PER_ADDRESS_PER_15_MINUTES"] = 4
    guesser = browser(app, address="203.0.113.5")
    statuses = [sign_in(guesser, f"guess{n}@example.com", "wrong").status_code for n in range(5)]
    assert statuses == [401, 401, 401, 401, 429]
    assert sign_in(guesser).status_code == 429  # a real account, from that address, waits
    assert sign_in(browser(app, address="198.51.100.1")).status_code == 302  # others do not


def test_a_locked_account_says_how_long_to_wait(app, db, monkeypatch):
    app.config["SIGN_IN_ATTEMPTS_PER_15_MINUTES"] = 1
    assert sign_in(app.test_client(), password="wrong").status_code == 401
    real_time = throttle.time.time

    class TenMinutesLater:
        @staticmethod
        def time():
            return real_time() + 600

    monkeypatch.setattr(throttle, "time", TenMinutesLater)
    response = sign_in(app.test_client())
    assert response.status_code == 429
    assert "Too many failed sign-ins. Try again in 5 minutes." in response.data.decode()


def test_an_unknown_email_costs_the_same_password_check(app, db, monkeypatch):
    checked = []
    real_check = models.check_password_hash

    def spy(password_hash, password):
        checked.append(password_hash)
        return real_check(password_hash, password)

    monkeypatch.setattr(models, "check_password_hash", spy)
    assert sign_in(app.test_client(), "nobody@example.com", "a-guess").status_code == 401
    assert sign_in(app.test_client(), ADMIN_EMAIL, "a-guess").status_code == 401
    unknown, known = checked
    method = app.config["PASSWORD_HASH_METHOD"]
    assert unknown.startswith(method + "$") and known.startswith(method + "$")
    assert unknown != known
