"""Issue 14 in Chromium: the launcher in the widget's colour on the left, the header with the
team's name and logo, the offline pane offering the email field, and General's live preview.

Screenshots (desktop and a 390 px phone) go to /tmp/shots-widget-brand/.
"""

import datetime
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from test_branding import png

from availability import WEEKDAYS
from browser.axe import assert_no_axe_violations
from browser.pages import AUTH_NONE, LAUNCHER, WIDGET_FRAME, choose_auth_type, unique

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/shots-widget-brand")
ACCENT = "#8a1c7c"
PHONE = {"width": 390, "height": 844}


def general_form(page: Page):
    page.get_by_role("link", name="Administration").click()
    expect(page).to_have_url(re.compile(r"/admin/widgets/\d+/general$"))
    return page.locator("form#widget-general")


def save(page: Page, form):
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_contain_text("Saved.")


def brand_widget(page: Page):
    """Administration › General: a purple accent, an icon-only launcher on the left, a team
    name and logo, and office hours that open only tomorrow (so the team is away now)."""
    form = general_form(page)
    form.get_by_label("Accent colour").fill("#ffee00")
    form.get_by_role("button", name="Save").click()
    expect(form.get_by_text("it needs at least 4.5:1")).to_be_visible()  # white text unreadable
    form = page.locator("form#widget-general")
    form.get_by_label("Accent colour").fill(ACCENT)
    form.get_by_label("Bottom left").check()
    form.get_by_label("Icon only").check()
    form.get_by_label("Team name").fill("Ada's Shop")
    form.get_by_label("Logo", exact=True).set_input_files(
        {"name": "logo.png", "mimeType": "image/png", "buffer": png(32, 32)}
    )
    form.get_by_label("Keep office hours").check()
    form.get_by_label("Time zone").fill("UTC")
    tomorrow = WEEKDAYS[(datetime.datetime.now(datetime.UTC).weekday() + 1) % 7]
    for day in WEEKDAYS:
        form.get_by_label(day, exact=True).set_checked(day == tomorrow)
    form.get_by_label("From", exact=True).fill("00:00")
    form.get_by_label("To", exact=True).fill("00:01")
    save(page, form)
    return tomorrow


def unbrand_widget(page: Page):
    """Back to the defaults the other browser tests expect."""
    form = general_form(page)
    form.get_by_label("Accent colour").fill("#2d5be3")
    form.get_by_label("Bottom right").check()
    form.get_by_label("Icon and label").check()
    form.get_by_label("Team name").fill("")
    if form.get_by_label("Remove the logo").count():
        form.get_by_label("Remove the logo").check()
    form.get_by_label("Keep office hours").uncheck()
    save(page, form)


def test_a_branded_launcher_header_and_the_offline_email_offer(
    admin_page, new_context, live_server
):
    SHOTS.mkdir(exist_ok=True)
    choose_auth_type(admin_page, AUTH_NONE)
    try:
        tomorrow = brand_widget(admin_page)
        preview = admin_page.frame_locator("#brand-preview iframe")
        expect(preview.locator(".fd-header h1")).to_have_text("Ada's Shop")
        expect(preview.locator(".launcher")).to_be_visible()
        expect(preview.locator(".fd-header img.fd-logo")).to_be_visible()  # refreshed on save
        admin_page.screenshot(path=SHOTS / "settings-desktop.png", full_page=True)
        admin_page.set_viewport_size(PHONE)
        admin_page.screenshot(path=SHOTS / "settings-phone.png", full_page=True)
        admin_page.locator("#brand-preview").scroll_into_view_if_needed()
        expect(preview.locator(".fd-header h1")).to_have_text("Ada's Shop")
        admin_page.locator("#brand-preview").screenshot(path=SHOTS / "settings-preview-phone.png")

        for name, size in (("desktop", {"width": 1280, "height": 800}), ("phone", PHONE)):
            page = new_context(bypass_csp=True).new_page()  # axe-core runs as an inline script
            page.set_viewport_size(size)
            page.goto(live_server.demo_url)
            launcher = page.get_by_role("button", name=LAUNCHER)
            expect(launcher).to_have_css("background-color", "rgb(138, 28, 124)")
            expect(launcher).to_have_css("left", "20px")
            expect(launcher.locator(".label")).to_be_hidden()  # icon only
            page.screenshot(path=SHOTS / f"launcher-{name}.png")
            launcher.click()
            frame = page.frame_locator(WIDGET_FRAME)
            header = frame.locator(".fd-header")
            expect(header.get_by_role("heading")).to_have_text("Ada's Shop")
            expect(header.locator("img.fd-logo")).to_be_visible()
            expect(header.locator(".fd-status")).to_contain_text(f"Back {tomorrow} at 12:00")
            expect(header.locator(".fd-status")).to_have_css("background-color", "rgba(0, 0, 0, 0)")
            expect(frame.locator("html")).to_have_css("--accent", ACCENT)
            email = frame.get_by_placeholder("you@example.com")
            expect(email).to_be_visible()  # offline: the email field is offered, open
            page.screenshot(path=SHOTS / f"widget-offline-{name}.png")
            if name == "desktop":
                assert_no_axe_violations(page.frame(url=re.compile(r"/widget/")))
            address = f"{unique('ada').split()[1][1:-1]}@example.com"
            email.fill(address)
            frame.get_by_role("button", name="Save email").click()
            expect(frame.get_by_role("status")).to_contain_text(f"We'll answer at {address}.")
            page.screenshot(path=SHOTS / f"widget-email-left-{name}.png")
    finally:
        admin_page.set_viewport_size({"width": 1280, "height": 800})
        unbrand_widget(admin_page)
