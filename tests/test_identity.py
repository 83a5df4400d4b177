"""Verified identity for the code type: signed tokens, impersonation attempts, logout, domains."""

import importlib.util
import json
import secrets
import time
from pathlib import Path

import jwt
import pytest
from helpers import (
    ADA,
    csrf_token_from,
    identify,
    save_general,
    send_message,
    set_auth_type,
    sign,
    visitor_headers,
)

from identity import IdentityError, verify_identity_token
from models import AuthType, Client, Contact, Message, Widget, new_identity_secret
from origins import DomainListError, clean_allowed_domains, domain_matches


@pytest.fixture
def code_widget(widget):
    return set_auth_type(widget, AuthType.CODE)


@pytest.fixture
def strict_widget(code_widget):
    code_widget.require_verified_identity = True
    code_widget.save()
    return code_widget


# --- the verification itself: plain functions, no app and no database ------------------------


@pytest.fixture
def widget_on_paper():
    """A code-type widget never saved: verifying a token needs only its key and secret."""
    return Widget(name="Demo shop", auth_type=AuthType.CODE)


def test_a_valid_token_gives_the_claims(widget_on_paper):
    user = verify_identity_token(sign(widget_on_paper), widget_on_paper)
    assert user == {
        "id": "42",
        "name": "Ada Lovelace",
        "email": "ada@example.com",
        "plan": "Premium",
    }


@pytest.mark.parametrize(
    "make_token, reason",
    [
        (lambda w: "", "missing"),
        (lambda w: "not.a.jwt", "malformed"),
        (lambda w: "x" * 5000, "too long"),
        (lambda w: sign(w, secret="someone-elses-secret-of-enough-length!"), "bad signature"),
        (lambda w: sign(w, exp=int(time.time()) - 3600), "expired"),
        (lambda w: sign(w, aud="another-widget-key"), "meant for another widget"),
        (lambda w: sign(w, claims={"name": "No Id"}), "no id claim"),
        (
            lambda w: jwt.encode(ADA, w.identity_secret, algorithm="HS256"),
            "no exp claim: tokens must expire",
        ),
        (lambda w: jwt.encode({"id": "42"}, key=None, algorithm="none"), "malformed"),
        (lambda w: sign(w, algorithm="HS512"), "malformed"),
    ],
)
def test_tokens_that_prove_nothing_are_refused(widget_on_paper, make_token, reason):
    with pytest.raises(IdentityError) as refused:
        verify_identity_token(make_token(widget_on_paper), widget_on_paper)
    assert refused.value.reason == reason
    assert widget_on_paper.identity_secret not in str(refused.value)


def test_a_changed_claim_breaks_the_signature(widget_on_paper):
    header, payload, signature = sign(widget_on_paper).split(".")
    forged = jwt.utils.base64url_encode(json.dumps({**ADA, "id": "1"}).encode()).decode()
    with pytest.raises(IdentityError) as refused:
        verify_identity_token(f"{header}.{forged}.{signature}", widget_on_paper)
    assert refused.value.reason == "bad signature"


def test_a_token_for_another_widget_is_refused(widget_on_paper):
    other = Widget(name="Other shop", auth_type=AuthType.CODE)
    with pytest.raises(IdentityError):
        verify_identity_token(sign(other), widget_on_paper)


def test_a_token_signed_with_the_old_secret_is_refused(widget_on_paper):
    old_token = sign(widget_on_paper)
    widget_on_paper.identity_secret = new_identity_secret()  # what regenerating does
    with pytest.raises(IdentityError) as refused:
        verify_identity_token(old_token, widget_on_paper)
    assert refused.value.reason == "bad signature"


# --- the widget with verification required -----------------------------------------------------


def test_verified_user_chats_and_is_linked_to_the_contact(client, strict_widget):
    token = secrets.token_hex(24)
    response = identify(client, strict_widget, token, sign(strict_widget))
    assert response.status_code == 200 and b'id="composer"' in response.data
    assert send_message(client, strict_widget, token, "signed hello").status_code == 200
    user = Client.get(Client.external_id == "42")
    assert user.verified and user.kind == "site user"
    assert user.contact.email == "ada@example.com"
    assert user.custom_fields == {"plan": "Premium"}


@pytest.mark.parametrize(
    "identity_token, user_data",
    [
        (None, ADA),  # someone else's id and email, typed into the console
        (None, {"id": "42"}),
        ("garbage", ADA),
    ],
)
def test_unsigned_or_bad_identity_is_refused_when_required(
    client, strict_widget, identity_token, user_data
):
    response = identify(client, strict_widget, secrets.token_hex(24), identity_token, user_data)
    assert response.status_code == 401
    assert b"We could not verify your sign-in." in response.data
    assert "X-Frontdesk-Identity-Error" in response.headers
    assert Client.select().count() == 0


def test_refusal_reason_is_told_without_the_secret(client, strict_widget):
    expired = sign(strict_widget, exp=int(time.time()) - 100)
    response = identify(client, strict_widget, secrets.token_hex(24), expired)
    assert response.headers["X-Frontdesk-Identity-Error"] == "expired"
    assert strict_widget.identity_secret.encode() not in response.data
    assert expired.encode() not in response.data


def test_earlier_unverified_clients_cannot_chat_once_verification_is_required(client, code_widget):
    token = secrets.token_hex(24)
    assert identify(client, code_widget, token, user_data=ADA).status_code == 200
    code_widget.require_verified_identity = True
    code_widget.save()
    assert send_message(client, code_widget, token, "still me?").status_code == 403
    assert Message.select().count() == 0


# --- verification off: unsigned data is accepted, but never linked -----------------------------


def test_unsigned_data_is_accepted_as_unverified_and_not_linked(client, code_widget):
    verified_token = secrets.token_hex(24)
    identify(client, code_widget, verified_token, sign(code_widget))
    send_message(client, code_widget, verified_token, "Ada's private question")

    impostor = secrets.token_hex(24)
    response = identify(client, code_widget, impostor, user_data=ADA)
    assert response.status_code == 200
    assert b"Ada's private question" not in response.data
    impostor_client = Client.by_token(code_widget, impostor)
    assert not impostor_client.verified and impostor_client.contact_id is None
    assert impostor_client.id != Client.by_token(code_widget, verified_token).id
    assert Contact.select().count() == 1


def test_an_unverified_claim_cannot_take_over_a_verified_session(client, code_widget):
    token = secrets.token_hex(24)
    identify(client, code_widget, token, sign(code_widget))
    response = identify(client, code_widget, token, user_data={**ADA, "name": "Mallory"})
    assert response.status_code == 401
    assert Client.by_token(code_widget, token).name == "Ada Lovelace"


def test_verified_user_finds_their_history_on_another_browser(client, code_widget):
    laptop, phone = secrets.token_hex(24), secrets.token_hex(24)
    identify(client, code_widget, laptop, sign(code_widget))
    send_message(client, code_widget, laptop, "asked on the laptop")
    response = identify(client, code_widget, phone, sign(code_widget))
    assert b"asked on the laptop" in response.data
    send_message(client, code_widget, phone, "and on the phone")
    assert Client.by_token(code_widget, laptop).id == Client.by_token(code_widget, phone).id
    pane = client.get(f"/widget/{code_widget.key}/pane", headers=visitor_headers(laptop))
    assert b"and on the phone" in pane.data


def test_logout_ends_the_session_of_that_browser(client, code_widget):
    token = secrets.token_hex(24)
    identify(client, code_widget, token, sign(code_widget))
    send_message(client, code_widget, token, "before logout")
    response = client.post(f"/widget/{code_widget.key}/logout", headers=visitor_headers(token))
    assert response.status_code == 204
    assert Client.by_token(code_widget, token) is None
    pane = client.get(f"/widget/{code_widget.key}/pane", headers=visitor_headers(token))
    assert b"before logout" not in pane.data


# --- the install page and its Python example ---------------------------------------------------


def run_python_example(monkeypatch, widget, user):
    path = Path(__file__).resolve().parents[1] / "examples" / "identity_token.py"
    spec = importlib.util.spec_from_file_location("frontdesk_example", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    monkeypatch.setenv("FRONTDESK_IDENTITY_SECRET", widget.identity_secret)
    return example.frontdesk_identity_token(user)


def test_the_python_example_makes_tokens_the_widget_accepts(monkeypatch, client, strict_widget):
    user = {"id": 7, "name": "Grace", "email": "grace@example.com", "plan": "Basic"}
    signed = run_python_example(monkeypatch, strict_widget, user)
    claims = verify_identity_token(signed, strict_widget)
    assert claims["id"] == "7" and claims["plan"] == "Basic"
    response = identify(client, strict_widget, secrets.token_hex(24), signed)
    assert response.status_code == 200 and b"Hi Grace!" in response.data


def test_install_page_shows_snippet_secret_and_examples(admin, widget):
    page = admin.get(f"/admin/widgets/{widget.id}/install").data.decode()
    assert f'widget: "{widget.key}"' in page and "/embed.js" in page
    assert widget.identity_secret in page
    for marker in ("import jwt", "Firebase\\JWT\\JWT", "jsonwebtoken"):
        assert marker in page


def test_regenerating_the_secret(admin, widget):
    old = widget.identity_secret
    page = admin.get(f"/admin/widgets/{widget.id}/install")
    response = admin.post(
        f"/admin/widgets/{widget.id}/identity-secret", data={"csrf_token": csrf_token_from(page)}
    )
    assert response.status_code == 302
    assert Widget.get_by_id(widget.id).identity_secret != old


def test_the_secret_never_reaches_a_visitor(client, code_widget):
    secret = code_widget.identity_secret.encode()
    token = secrets.token_hex(24)
    pages = [
        client.get(f"/widget/{code_widget.key}"),
        client.get(f"/widget/{code_widget.key}/settings.json"),
        client.get("/demo"),
        client.get("/embed.js"),
        identify(client, code_widget, token, sign(code_widget)),
        identify(client, code_widget, secrets.token_hex(24), "bad.token.here"),
    ]
    for response in pages:
        assert secret not in response.data


def test_the_secret_is_not_logged(client, strict_widget, caplog):
    caplog.set_level("DEBUG")
    identify(client, strict_widget, secrets.token_hex(24), sign(strict_widget, exp=1))
    identify(client, strict_widget, secrets.token_hex(24), sign(strict_widget))
    assert strict_widget.identity_secret not in caplog.text


# --- allowed domains ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "entry, origin, matches",
    [
        ("shop.example", "https://shop.example", True),
        ("shop.example", "http://shop.example", True),
        ("shop.example", "https://shop.example:8443", False),
        ("shop.example", "https://www.shop.example", False),
        ("*.example.com", "https://www.example.com", True),
        ("*.example.com", "https://example.com", False),
        ("*.example.com", "https://evil-example.com", False),
        ("https://shop.example:8443", "https://shop.example:8443", True),
        ("https://shop.example:8443", "http://shop.example:8443", False),
        ("localhost:5000", "http://localhost:5000", True),
        ("localhost:5000", "http://localhost:5001", False),
        ("localhost:*", "http://localhost:1234", True),
        ("shop.example", None, False),
        ("shop.example", "null", False),
        ("shop.example", "file://shop.example", False),
    ],
)
def test_domain_matching_reads_entries_as_frame_ancestors_does(entry, origin, matches):
    assert domain_matches(entry, origin) is matches


def test_typed_domains_are_tidied_or_refused():
    typed = " Shop.Example/ \n\nhttps://a.example:8443\nshop.example"
    assert clean_allowed_domains(typed) == "shop.example\nhttps://a.example:8443"
    assert clean_allowed_domains("") is None and clean_allowed_domains(None) is None
    with pytest.raises(DomainListError, match="is not a site"):
        clean_allowed_domains("shop.example\nnot a domain; drop")
    with pytest.raises(DomainListError, match="at most 50"):
        clean_allowed_domains("\n".join(f"s{n}.example" for n in range(51)))


def test_allowed_domains_set_frame_ancestors_and_gate_the_loader(client, widget):
    widget.allowed_domains = "shop.example\n*.example.org"
    widget.save()
    frame = client.get(f"/widget/{widget.key}")
    policy = frame.headers["Content-Security-Policy"]
    assert "frame-ancestors 'self' shop.example *.example.org;" in policy
    settings = f"/widget/{widget.key}/settings.json"
    allowed = client.get(settings, headers={"Origin": "https://shop.example"})
    assert allowed.status_code == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    sub = client.get(settings, headers={"Origin": "https://www.example.org"})
    assert sub.status_code == 200
    refused = client.get(settings, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403
    assert "Access-Control-Allow-Origin" not in refused.headers


def test_no_allowed_domains_means_any_site(client, widget):
    frame = client.get(f"/widget/{widget.key}")
    assert "frame-ancestors" not in frame.headers["Content-Security-Policy"]
    response = client.get(
        f"/widget/{widget.key}/settings.json", headers={"Origin": "https://anywhere.example"}
    )
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_allowed_domains_are_checked_and_tidied_in_settings(admin, widget):
    bad = save_general(admin, widget, allowed_domains="shop.example\nnot a domain; drop")
    assert bad.status_code == 422 and "is not a site" in bad.data.decode()
    assert Widget.get_by_id(widget.id).allowed_domains is None
    good = save_general(
        admin,
        widget,
        allowed_domains=" Shop.Example/ \n\nhttps://a.example:8443\nshop.example",
        require_verified_identity="y",
    )
    assert good.status_code == 200
    saved = Widget.get_by_id(widget.id)
    assert saved.allowed_domains == "shop.example\nhttps://a.example:8443"
    assert saved.require_verified_identity


# --- signed claims that are stored ---------------------------------------------------------------


def test_a_long_signed_email_is_stored(client, widget):
    set_auth_type(widget, AuthType.CODE)
    email = "a" * 60 + "@" + "b" * 60 + ".example.com"
    response = identify(client, widget, identity_token=sign(widget, {"id": "7", "email": email}))
    assert response.status_code == 200
    assert Client.get().contact.email == email
