"""The label editor's groups, search, filter and placeholder check, as the server renders them."""

import re
import shutil
from html.parser import HTMLParser

from helpers import admin_post, csrf_token_from

import labels as labels_module
from admin.label_editor import LABEL_GROUPS, label_group
from models import LabelOverride


def editor_url(widget, lang="en", **filters):
    query = "".join(f"&{name}={value}" for name, value in filters.items())
    return f"/admin/widgets/{widget.id}/language?lang={lang}{query}"


class EditorPage(HTMLParser):
    """The rows and groups an editor page shows: those without a ``hidden`` attribute."""

    def __init__(self, page):
        super().__init__()
        self.keys, self.groups, self.row_hidden, self.group_hidden, self.in_title = [], [], 0, 0, 0
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "section" and "label-group" in classes:
            self.group_hidden = "hidden" in attrs
        elif tag == "h2" and (attrs.get("id") or "").startswith("group-"):
            self.in_title = not self.group_hidden
        elif tag == "tr" and "label-row" in classes:
            self.row_hidden = "hidden" in attrs or self.group_hidden
        elif tag == "textarea" and not self.row_hidden:
            self.keys.append(attrs["name"].removeprefix("label:"))

    def handle_data(self, data):
        if self.in_title:
            self.groups.append(data.strip())
            self.in_title = False


def shown_keys(page):
    """The keys of the rows the page shows."""
    return EditorPage(page).keys


def no_match_notice(page):
    """The start tag of the "No label matches" notice."""
    return re.search(r'<p id="no-label-matches"[^>]*>', page).group()


def group_titles(page):
    """The titles of the groups the page shows."""
    return EditorPage(page).groups


def test_every_label_is_in_a_group_of_where_it_appears(admin, widget):
    english = labels_module.load_language("en")
    assert label_group("launcher.open") == "Launcher and chat window"
    assert label_group("error.email_invalid") == "Login form"
    assert label_group("rating.good") == "Rating"
    assert label_group("email.subject") == "Emails and the email confirmation page"
    assert label_group("error.unavailable") == "Notices and errors"
    page = admin.get(editor_url(widget)).data.decode()
    assert group_titles(page) == [title for title, _ in LABEL_GROUPS]
    assert sorted(shown_keys(page)) == sorted(english)
    assert f"{len(english)} of {len(english)} labels shown" in page


def test_search_keeps_matching_rows_only(admin, widget):
    page = admin.get(editor_url(widget, q="RATING")).data.decode()
    keys = shown_keys(page)
    assert "rating.good" in keys and "rating.comment_label" in keys
    assert "composer.send" not in keys and "launcher.open" not in keys
    assert group_titles(page)[0] == "Rating"
    assert 'value="RATING"' in page
    # every field is still in the form, so saving keeps what the filter hides
    assert page.count('name="label:') == len(labels_module.load_language("en"))


def test_search_finds_words_of_the_translation_and_the_comment(admin, widget):
    german = shown_keys(admin.get(editor_url(widget, "de", q="senden")).data.decode())
    assert "composer.send" in german and "launcher.open" not in german
    keys = shown_keys(admin.get(editor_url(widget, q="screen readers")).data.decode())
    assert "launcher.close" in keys and "composer.send" not in keys


def test_only_untranslated_or_overridden(admin, widget, tmp_path, monkeypatch):
    copy = tmp_path / "languages"
    shutil.copytree(labels_module.LANGUAGES_DIR, copy)
    german = (copy / "de.po").read_text()
    german = german.replace('msgstr "Senden"', 'msgstr ""')
    (copy / "de.po").write_text(german)
    monkeypatch.setattr(labels_module, "LANGUAGES_DIR", copy)
    LabelOverride.replace_all(widget, "de", {"chat.empty": "Schreib uns!"})

    page = admin.get(editor_url(widget, "de", only="changed")).data.decode()
    assert sorted(shown_keys(page)) == ["chat.empty", "composer.send"]
    assert f"2 of {len(labels_module.load_language('en'))} labels shown" in page
    english_page = admin.get(editor_url(widget, "en", only="changed")).data.decode()
    assert shown_keys(english_page) == []
    assert "hidden" not in no_match_notice(english_page)
    assert "hidden" in no_match_notice(page)


def test_saving_with_a_filter_keeps_hidden_overrides_and_the_filter(admin, widget):
    LabelOverride.replace_all(widget, "en", {"composer.send": "Go"})
    url = editor_url(widget, q="guest")
    page = admin.get(url).data.decode()
    assert f'action="{url.replace("&", "&amp;")}"' in page
    fields = dict(re.findall(r'name="(label:[^"]+)"[^>]*>([^<]*)</textarea>', page))
    response = admin_post(admin, url, url, {**fields, "label:login.guest": "Just looking"})
    assert response.status_code == 302 and response.location.endswith("lang=en&q=guest")
    assert LabelOverride.for_widget(widget, "en") == {
        "composer.send": "Go",
        "login.guest": "Just looking",
    }


def test_a_failed_save_lists_and_focuses_the_first_bad_row(admin, widget):
    url = editor_url(widget)
    response = admin_post(
        admin,
        url,
        url,
        {
            "label:error.message_too_long": "Under {maxx} characters.",
            "label:error.name_too_long": "At most {max} letters, {name}.",
        },
    )
    assert response.status_code == 422
    page = response.data.decode()
    summary = page[page.index('class="error-summary"') : page.index("</ul>")]
    # page order: the login form's labels come before the chat's
    assert summary.index("error.name_too_long") < summary.index("error.message_too_long")
    focused = re.findall(r'<textarea id="label-([^"]+)"[^>]*autofocus', page)
    assert focused == ["error.name_too_long"]


def check(admin, widget, key, text, lang="en"):
    page = admin.get(editor_url(widget, lang))
    return admin.post(
        f"/admin/widgets/{widget.id}/language/check?lang={lang}&key={key}",
        data={f"label:{key}": text, "csrf_token": csrf_token_from(page)},
        headers={"HX-Request": "true"},
    )


def test_placeholder_check_while_typing_uses_the_save_rule(admin, widget):
    bad = check(admin, widget, "error.message_too_long", "Under {maxx} characters.")
    assert bad.status_code == 200
    assert "keep {max} and remove unknown {maxx}" in bad.data.decode()
    good = check(admin, widget, "error.message_too_long", "Under {max} characters.")
    assert good.status_code == 200 and "error" not in good.data.decode()
    assert check(admin, widget, "error.message_too_long", "").data.decode().strip() == ""
    german = check(admin, widget, "chat.greeting", "Hallo {nom}!", lang="de")
    assert "keep {name}" in german.data.decode()
    assert check(admin, widget, "no.such_key", "x").status_code == 404
    assert LabelOverride.select().count() == 0
