"""Tests of the app as a whole: health check, demo page, CLI commands, language files, framing,
proxies and rate limits."""

import re
import time

import pytest

from app import create_app
from labels import Labels, load_language, placeholders
from models import Agent
from throttle import allow


def test_healthz_answers_when_the_database_does(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_demo_page_embeds_the_widget_from_the_other_origin(client, widget):
    response = client.get("/demo", base_url="http://localhost:5000")
    page = response.data.decode()
    assert f'"widget": "{widget.key}"' in page
    assert '<script src="http://127.0.0.1:5000/embed.js" async></script>' in page
    assert "Log in as a demo customer" in page


def test_unknown_page_is_a_clear_404(client):
    response = client.get("/nothing-here")
    assert response.status_code == 404
    assert b"Not found" in response.data


def test_oversized_request_is_refused(client, widget):
    response = client.post(
        f"/widget/{widget.key}/messages",
        data={"body": "x" * 100_000},
        headers={"X-Frontdesk-Token": "a" * 48},
    )
    assert response.status_code == 413


def test_create_admin_command(app, db):
    runner = app.test_cli_runner()
    create_admin = ["create-agent", "--admin"]
    result = runner.invoke(
        args=[*create_admin, "--email", "Lin@Example.com", "--name", "Lin", "--password", "pw-1"]
    )
    assert result.exit_code == 0, result.output
    created = Agent.by_email("lin@example.com")
    assert created.is_admin and created.check_password("pw-1")
    again = runner.invoke(
        args=[*create_admin, "--email", "lin@example.com", "--name", "L", "--password", "x"]
    )
    assert again.exit_code == 1 and "already has an account" in again.output


def test_seeded_admin_password_is_hashed(db):
    admin = Agent.by_email("admin@example.com")
    assert "correct horse" not in admin.password_hash
    assert admin.check_password("correct horse battery staple")


def test_every_label_a_widget_template_uses_exists_in_english():
    from pathlib import Path

    english = load_language("en")
    used = set()
    for template in Path("templates/widget").glob("*.html"):
        used |= set(re.findall(r"labels\('([a-z_.]+)'", template.read_text()))
    source = "".join(module.read_text() for module in Path("widget").glob("*.py"))
    used |= set(re.findall(r'labels\("([a-z_.]+)"', source))
    used |= set(re.findall(r'"(error\.[a-z_]+)"', source))
    assert used, "no label keys found in the widget templates"
    assert used <= english.keys(), used - english.keys()


def test_labels_fall_back_to_english_and_format_placeholders():
    german = Labels("de")
    assert german("composer.send") == "Senden"
    assert german("error.message_too_long", max=5000).endswith("unter 5000 Zeichen.")
    assert Labels("xx").code == "en"
    assert Labels("../../etc/passwd").code == "en"
    assert german("no.such.key") == "no.such.key"


def test_placeholder_parsing():
    assert placeholders("Hi {name}, {max} left") == {"name", "max"}
    assert placeholders("broken {name") == {"<broken>"}


# --- framing, the demo switch, proxies and rate limits ---------------------------------------


def test_pages_outside_the_widget_refuse_framing(client):
    for path in ("/", "/demo", "/healthz", "/no-such-page"):
        response = client.get(path)
        assert response.headers["X-Frame-Options"] == "DENY", path
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], path


def test_demo_is_off_unless_asked_for(app, client):
    app.config["DEMO"] = False
    assert client.get("/demo").status_code == 404
    assert b"/demo" not in client.get("/").data


def test_visitor_addresses_come_from_trusted_proxies_only(tmp_path):
    for proxies, expected in ((0, "127.0.0.1"), (1, "203.0.113.9")):
        app = create_app(
            {"DATABASE_URL": f"sqlite:///{tmp_path}/p.db", "SECRET_KEY": "x",
             "TRUSTED_PROXIES": proxies}
        )  # fmt: skip
        assert app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0

        @app.get("/whoami")
        def whoami():
            from flask import request

            return request.remote_addr

        seen = app.test_client().get("/whoami", headers={"X-Forwarded-For": "203.0.113.9"})
        assert seen.data.decode() == expected


def test_each_limit_counts_its_own_key_and_forgets_with_its_own_window(app):
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


@pytest.mark.parametrize("value, on", [("off", False), ("no", False), ("False", False),
                                       ("0", False), ("true", True), ("1", True)])  # fmt: skip
def test_the_demo_switch_is_read_strictly(tmp_path, value, on):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/d.db", "SECRET_KEY": "x",
                      "DEMO": value})  # fmt: skip
    assert app.config["DEMO"] is on
