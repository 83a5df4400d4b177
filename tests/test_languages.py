"""Full language customization: overrides, translators' files, the visitor's language, RTL."""

import html
import secrets
import shutil

import pytest
from helpers import (
    admin_post,
    csrf_token_from,
    fill_in_form,
    send_message,
    sign_in,
    visitor_headers,
)

import labels as labels_module
from labels import check_languages, language_codes, resolve_language
from models import AuthType, LabelOverride, Widget


def editor_url(widget, lang="en"):
    return f"/admin/widgets/{widget.id}/language?lang={lang}"


def post_editor(admin, widget, data, lang="en"):
    return admin_post(admin, editor_url(widget, lang), editor_url(widget, lang), data)


def pane(client, widget, **headers):
    return client.get(
        f"/widget/{widget.key}/pane", headers={**visitor_headers(), **headers}
    ).data.decode()


# --- the label editor --------------------------------------------------------------------------


def test_editor_lists_every_label_with_its_file_text(admin, widget):
    page = admin.get(editor_url(widget, "de")).data.decode()
    assert "composer.send" in page and "Senden" in page
    assert "Button that sends a message" in page  # where it appears
    assert page.count('name="label:') == len(labels_module.load_language("en"))


def test_an_override_changes_what_the_visitor_sees_and_reset_restores_it(admin, client, widget):
    response = post_editor(admin, widget, {"label:composer.placeholder": "Ask Nordlicht…"})
    assert response.status_code == 302
    assert 'placeholder="Ask Nordlicht…"' in pane(client, widget)

    post_editor(admin, widget, {"reset": "composer.placeholder"})
    assert 'placeholder="Write a message…"' in pane(client, widget)
    assert LabelOverride.select().count() == 0


def test_reset_all(admin, client, widget):
    post_editor(admin, widget, {"label:composer.send": "Go", "label:chat.empty": "Talk to us"})
    assert LabelOverride.select().count() == 2
    post_editor(admin, widget, {"reset_all": "1"})
    assert LabelOverride.select().count() == 0


def test_overrides_are_per_language(admin, client, widget):
    post_editor(admin, widget, {"label:composer.placeholder": "Frag Nordlicht…"}, lang="de")
    assert 'placeholder="Write a message…"' in pane(client, widget)
    widget.language = "de"
    widget.save()
    assert 'placeholder="Frag Nordlicht…"' in pane(client, widget)


@pytest.mark.parametrize(
    "text, message",
    [
        ("Please stay under characters.", "keep {max}"),
        ("Please stay under {maxx} characters.", "keep {max} and remove unknown {maxx}"),
        ("Please stay under {max characters.", "Write placeholders exactly like {name}"),
        ("Please stay under {max:>99999999} characters.", "Write placeholders exactly like"),
        ("Please stay under {max!r} characters.", "Write placeholders exactly like"),
        ("Please stay under {max.__class__} characters.", "Write placeholders exactly like"),
    ],
)
def test_an_override_with_a_broken_placeholder_is_refused(admin, widget, text, message):
    response = post_editor(
        admin, widget, {"label:error.message_too_long": text, "label:composer.send": "Go"}
    )
    assert response.status_code == 422
    assert message in response.data.decode()
    assert html.escape(text, quote=False) in response.data.decode()  # what was typed is kept
    assert LabelOverride.select().count() == 0  # nothing half-saved


def test_preview_shows_the_wording_being_typed(admin, widget):
    page = admin.get(editor_url(widget))
    response = admin.post(
        f"/admin/widgets/{widget.id}/language/preview?lang=en",
        data={"label:login.guest": "Just browsing", "csrf_token": csrf_token_from(page)},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    body = response.data.decode()
    assert "<iframe" in body and "srcdoc=" in body
    assert "Just browsing" in body and "Start chat" in body and "Write a message…" in body
    assert LabelOverride.select().count() == 0  # a preview saves nothing


def test_agents_without_admin_rights_cannot_edit_labels(app, widget, agent_without_admin_rights):
    other = app.test_client()
    sign_in(other, "agent@example.com", "agent-password-1")
    assert other.get(editor_url(widget)).status_code == 403


# --- translators' files ------------------------------------------------------------------------


def test_every_language_file_is_complete_and_german_really_translated():
    assert len(language_codes()) >= 6
    assert {"en", "de", "ar"} <= set(language_codes())
    assert check_languages() == {code: [] for code in language_codes()}
    english, german = labels_module.load_language("en"), labels_module.load_language("de")
    assert english.keys() == german.keys()
    untranslated = [key for key in english if english[key].text == german[key].text]
    # only words that are the same in both languages may stay alike
    assert set(untranslated) <= {"login.name_label", "chat.agent"}


def test_labels_check_catches_a_missing_label_and_a_bad_placeholder(app, tmp_path):
    copy = tmp_path / "languages"
    shutil.copytree(labels_module.LANGUAGES_DIR, copy)
    french = (copy / "fr.po").read_text()
    french = french.replace('msgctxt "composer.send"', 'msgctxt "composer.sent"')
    start = french.index('msgctxt "error.message_too_long"')
    stop = french.index("\n\n", start)
    entry = french[start:stop]
    french = french.replace(entry, entry.replace("{max}", "{maximum}"))
    (copy / "fr.po").write_text(french)

    result = app.test_cli_runner().invoke(args=["labels", "check", "--dir", str(copy)])
    assert result.exit_code == 1
    assert "fr: 3 problem(s)" in result.output
    assert "missing: composer.send" in result.output
    assert "not in English any more: composer.sent" in result.output
    assert "placeholders differ in error.message_too_long" in result.output
    assert "de: complete" in result.output


def test_a_new_language_starts_from_english(app, tmp_path, monkeypatch):
    copy = tmp_path / "languages"
    shutil.copytree(labels_module.LANGUAGES_DIR, copy)
    monkeypatch.setattr(labels_module, "LANGUAGES_DIR", copy)
    result = app.test_cli_runner().invoke(args=["labels", "new", "pt"])
    assert result.exit_code == 0, result.output
    created = (copy / "pt.po").read_text()
    assert 'msgctxt "composer.send"' in created and 'msgid "Send"' in created
    assert "#. Button that sends a message" in created
    report = check_languages(copy)
    assert report["pt"] and all(problem.startswith("missing:") for problem in report["pt"])
    again = app.test_cli_runner().invoke(args=["labels", "new", "pt"])
    assert again.exit_code == 1 and "already exists" in again.output


# --- the visitor's language --------------------------------------------------------------------


@pytest.mark.parametrize(
    "default, follow, requested, accept, expected",
    [
        ("en", False, None, ["de-DE", "de"], "en"),
        ("en", True, None, ["de-AT", "en"], "de"),
        ("en", True, None, ["xx-YY", "fr-CA"], "fr"),
        ("it", True, None, ["xx"], "it"),
        ("en", True, "es", ["de"], "es"),
        ("en", False, "ar", [], "ar"),
        ("en", False, "zz", [], "en"),
        ("en", True, None, ["es-MX"], "es"),
    ],
)
def test_language_resolution(default, follow, requested, accept, expected):
    assert resolve_language(default, follow, requested, accept) == expected


def test_browser_language_and_rtl_in_the_frame(client, widget):
    widget.auth_type, widget.follow_browser_language = AuthType.NONE, True
    widget.save()
    arabic = client.get(f"/widget/{widget.key}", headers={"Accept-Language": "ar-EG,ar;q=0.9"})
    assert '<html lang="ar" dir="rtl">' in arabic.data.decode()
    german = pane(client, widget, **{"Accept-Language": "de-CH"})
    assert "Senden" in german
    unknown = pane(client, widget, **{"Accept-Language": "fi"})
    assert "Write a message…" in unknown


def test_host_page_language_wins(client, widget):
    widget.follow_browser_language = True
    widget.save()
    page = pane(client, widget, **{"Accept-Language": "de", "X-Frontdesk-Language": "fr"})
    assert "Envoyer" in page
    settings = client.get(f"/widget/{widget.key}/settings.json?lang=es").json
    assert settings["language"] == "es" and settings["launcher_label"] == "Chatea con nosotros"


def test_transcript_uses_the_language_the_client_saw(app, client, widget):
    from mailer import transcript_message
    from models import Conversation

    widget.auth_type, widget.follow_browser_language = "form", True
    widget.save()
    token = secrets.token_hex(24)
    italian = {"Accept-Language": "it"}
    fill_in_form(client, widget, token, "Ada", "ada@example.com", headers=italian)
    send_message(client, widget, token, "Ciao", "i1", headers=italian)
    conversation = Conversation.get()
    assert conversation.language == "it"
    with app.test_request_context():
        mail = transcript_message(conversation, "ada@example.com")
    assert mail["Content-Language"] == "it"
    assert Widget.get_by_id(widget.id).language == "en"


def test_region_languages_are_found(tmp_path, monkeypatch):
    copy = tmp_path / "languages"
    shutil.copytree(labels_module.LANGUAGES_DIR, copy)
    shutil.copy(copy / "es.po", copy / "pt_BR.po")
    monkeypatch.setattr(labels_module, "LANGUAGES_DIR", copy)
    assert resolve_language("en", True, None, ["pt-BR", "en"]) == "pt_BR"
    assert resolve_language("en", False, "pt_br", []) == "pt_BR"


def test_literal_braces_and_odd_overrides_never_break_the_widget():
    from labels import Labels

    assert Labels("en", {"composer.send": "Send {{now}}"})("composer.send") == "Send {now}"
    broken = Labels("en", {"chat.greeting": "Hi {name:>99999}"})
    assert broken("chat.greeting", name="Ada") == "Hi Ada!"  # the file's text instead
    missing = Labels("en", {"chat.greeting": "Hi {name}"})
    assert missing("chat.greeting") == "Hi {name}!"  # no value given: shown as written


def test_editing_an_unknown_language_is_a_404(admin, widget):
    assert admin.get(editor_url(widget, "zz")).status_code == 404
