"""Tests of the app as a whole: health check, demo page, CLI commands, language files."""

import re

from labels import Labels, check_languages, language_codes, load_language, placeholders
from models import Agent


def test_healthz_answers_when_the_database_does(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_demo_page_embeds_the_widget_from_the_other_origin(client, widget):
    response = client.get("/demo", base_url="http://localhost:5000")
    page = response.data.decode()
    assert f'widget: "{widget.key}"' in page
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
    assert again.exit_code != 0 and "already has an account" in again.output


def test_seeded_admin_password_is_hashed(db):
    admin = Agent.by_email("admin@example.com")
    assert "correct horse" not in admin.password_hash
    assert admin.check_password("correct horse battery staple")


def test_labels_check_passes_for_the_shipped_languages(app):
    result = app.test_cli_runner().invoke(args=["labels", "check"])
    assert result.exit_code == 0, result.output
    assert "en: complete" in result.output and "de: complete" in result.output


def test_english_and_german_are_complete_and_really_translated():
    assert {"en", "de"} <= set(language_codes())
    assert check_languages()["de"] == []
    english, german = load_language("en"), load_language("de")
    assert english.keys() == german.keys()
    untranslated = [key for key in english if english[key].text == german[key].text]
    # only words that are the same in both languages may stay alike
    assert set(untranslated) <= {"login.name_label", "chat.agent"}


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


def test_an_older_database_gets_the_new_columns(db):
    from playhouse.migrate import SchemaMigrator, migrate

    from models import Conversation
    from schema import create_tables

    migrate(SchemaMigrator.from_database(db.obj).drop_column("conversation", "page_url"))
    assert "page_url" not in {c.name for c in db.get_columns("conversation")}
    create_tables()
    assert "page_url" in {c.name for c in db.get_columns("conversation")}
    assert Conversation.select().count() == 0  # and the table still answers
