"""The label editor in Chromium: filtering as you type, the placeholder warning while typing,
and the first bad row focused after a failed save."""

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser


@pytest.fixture
def editor(admin_page) -> Page:
    """Administration › Language, English."""
    admin_page.get_by_role("link", name="Administration").click()
    admin_page.get_by_role("navigation", name="Widget settings").get_by_role(
        "link", name="Language"
    ).click()
    expect(admin_page.get_by_role("heading", name="Login form")).to_be_visible()
    return admin_page


def test_search_filters_rows_as_you_type(editor):
    rows = editor.locator("tr.label-row")
    total = rows.count()
    editor.get_by_label("Search labels").press_sequentially("rating")
    expect(editor.get_by_role("status").filter(has_text="labels shown")).to_have_text(
        re.compile(rf"^\d+ of {total} labels shown$")
    )
    expect(editor.get_by_label("rating.good")).to_be_visible()
    expect(editor.get_by_label("composer.send")).to_be_hidden()
    expect(editor.get_by_role("heading", name="Rating")).to_be_visible()
    expect(editor.get_by_role("heading", name="Login form")).to_be_hidden()
    groups = editor.get_by_role("navigation", name="Label groups")
    expect(groups.get_by_role("link", name="Login form")).to_be_hidden()
    groups.get_by_role("link", name="Rating").click()
    expect(editor).to_have_url(re.compile(r"#group-\d+$"))
    expect(editor.get_by_role("heading", name="Rating")).to_be_in_viewport()
    expect(editor).to_have_url(re.compile(r"[?&]q=rating"))

    editor.get_by_label("Search labels").fill("no label says this")
    expect(editor.get_by_text("No label matches")).to_be_visible()
    expect(rows.locator("visible=true")).to_have_count(0)

    editor.get_by_label("Search labels").fill("")
    expect(editor.get_by_text("No label matches")).to_be_hidden()
    expect(editor.get_by_label("composer.send")).to_be_visible()
    expect(rows.locator("visible=true")).to_have_count(total)


def test_untranslated_or_overridden_filter(editor):
    editor.get_by_label("chat.empty").fill("Ask us anything")
    editor.get_by_role("button", name="Save").click()
    expect(editor.get_by_text("Saved.")).to_be_visible()
    try:
        editor.get_by_label("Untranslated or overridden only").check()
        expect(editor.locator("tr.label-row").locator("visible=true")).to_have_count(1)
        expect(editor.get_by_label("chat.empty")).to_be_visible()
        expect(editor).to_have_url(re.compile(r"[?&]only=changed"))
        editor.reload()  # the server applies the same filter
        expect(editor.get_by_label("Untranslated or overridden only")).to_be_checked()
        expect(editor.locator("tr.label-row").locator("visible=true")).to_have_count(1)
    finally:
        editor.get_by_role("button", name="Reset to the file's text").click()
        expect(editor.get_by_text("back to the language file's text")).to_be_visible()


def test_unknown_placeholder_is_flagged_while_typing(editor):
    box = editor.get_by_label("error.message_too_long")
    box.press_sequentially("Keep it under {maxx} characters")
    warning = editor.locator("tr.label-row", has=box).locator(".problem")
    expect(warning).to_contain_text("keep {max} and remove unknown {maxx}")
    expect(box).to_have_attribute("aria-describedby", re.compile(r"problem-"))
    box.fill("Keep it under {max} characters")
    box.press("End")
    expect(warning).to_have_text("")


def test_failed_save_focuses_the_first_bad_row(editor):
    editor.get_by_label("error.comment_too_long").fill("Under {maxx}")
    editor.get_by_label("error.name_too_long").fill("Under {nope}")
    editor.get_by_role("button", name="Save").click()
    expect(editor.get_by_role("alert")).to_contain_text("could not be saved")
    first_bad = editor.get_by_label("error.name_too_long")
    expect(first_bad).to_be_focused()
    expect(first_bad).to_be_in_viewport()
    expect(first_bad).to_have_attribute("aria-invalid", "true")
    expect(editor.get_by_role("alert").get_by_role("link")).to_have_text(
        ["error.name_too_long", "error.comment_too_long"]
    )
