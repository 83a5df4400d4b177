"""Issue 14: a widget's looks (accent colour, launcher, team name, logo), agents' names and
avatars in the chat, office hours and what the widget honestly says, and "leave your email"."""

import datetime
import io
import struct
import zlib
from zoneinfo import ZoneInfo

import pytest
from helpers import (
    admin_post,
    general_url,
    post_reply,
    save_general,
    send_message,
    set_auth_type,
    visitor_headers,
)

import availability
from branding import ImageProblem, accent_problem, contrast_with_white, image_type, initials
from labels import Labels
from models import Agent, AuthType, Client, Contact, Conversation, Image, Widget

UTC = datetime.UTC
OSLO = ZoneInfo("Europe/Oslo")
WEEKDAYS = frozenset(range(5))


def png(width=4, height=4, rgb=(200, 30, 60)):
    """A real, tiny PNG of one colour (browsers draw it)."""

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(b"\0" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


SVG = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
)


# --- pure rules ----------------------------------------------------------------------------


def test_contrast_of_white_text_follows_wcag():
    assert contrast_with_white("#000000") == pytest.approx(21)
    assert contrast_with_white("#ffffff") == pytest.approx(1)
    assert contrast_with_white("#767676") == pytest.approx(4.54, abs=0.01)  # the AA edge
    assert accent_problem("#2d5be3") is None
    assert "contrast" in accent_problem("#ffcc00")
    assert "six hex digits" in accent_problem("red")


def test_images_are_told_by_their_bytes_and_svg_is_refused():
    assert image_type(png()) == "image/png"
    assert image_type(b"\xff\xd8\xff\xe0" + b"\0" * 20) == "image/jpeg"
    assert image_type(b"RIFF\0\0\0\0WEBPVP8 " + b"\0" * 20) == "image/webp"
    with pytest.raises(ImageProblem, match="SVG"):
        image_type(SVG)
    with pytest.raises(ImageProblem, match="200 KB"):
        image_type(b"\x89PNG\r\n\x1a\n" + b"\0" * 210_000)
    with pytest.raises(ImageProblem, match="not a PNG"):
        image_type(b"GIF89a....")
    assert initials("Sam Lee") == "SL" and initials("ada") == "A" and initials("") == "?"


def hours(zone=OSLO, days=WEEKDAYS, opens="09:00", closes="17:00"):
    return availability.OfficeHours(
        days, availability.parse_time(opens), availability.parse_time(closes), zone
    )


def at(year, month, day, hour, minute=0, zone=UTC):
    return datetime.datetime(year, month, day, hour, minute, tzinfo=zone)


def test_office_hours_are_read_in_the_site_time_zone():
    # Monday 2 March 2026, 07:30 UTC is 08:30 in Oslo (closed) and 08:30 UTC is 09:30 (open).
    assert not hours().is_open(at(2026, 3, 2, 7, 30))
    assert hours().is_open(at(2026, 3, 2, 8, 30))
    # The same instant in New York is 03:30: closed there.
    assert not hours(zone=ZoneInfo("America/New_York")).is_open(at(2026, 3, 2, 8, 30))
    assert not hours().is_open(at(2026, 3, 2, 16, 0))  # 17:00 in Oslo: closing time


def test_next_opening_skips_the_weekend_and_crosses_days_and_dst():
    friday_evening = at(2026, 3, 6, 18, 0)  # 19:00 in Oslo
    assert hours().next_opening(friday_evening) == datetime.datetime(2026, 3, 9, 9, 0, tzinfo=OSLO)
    early = at(2026, 3, 3, 5, 0)  # Tuesday 06:00 in Oslo: today at 09:00
    assert hours().next_opening(early) == datetime.datetime(2026, 3, 3, 9, 0, tzinfo=OSLO)
    # Across the change to summer time (29 March 2026), 09:00 local is 07:00 UTC.
    opening = hours().next_opening(at(2026, 3, 27, 17, 0))
    assert opening.astimezone(UTC) == at(2026, 3, 30, 7, 0)
    assert hours(days=frozenset()).next_opening(friday_evening) is None


def test_availability_and_the_line_the_visitor_reads():
    now = at(2026, 3, 6, 18, 0)  # Friday evening in Oslo
    closed = availability.availability(hours(), anyone_online=True, now=now)
    assert closed.state == availability.CLOSED
    assert availability.status_line(closed, Labels("en"), now) == "Back Monday at 9:00\u202fAM"
    assert availability.status_line(closed, Labels("de"), now) == "Wieder da am Montag um 09:00"
    early = at(2026, 3, 3, 5, 0)
    today = availability.availability(hours(), anyone_online=False, now=early)
    assert availability.status_line(today, Labels("fr"), early) == "De retour aujourd'hui à 09:00"
    inside = at(2026, 3, 3, 9, 0)
    online = availability.availability(hours(), anyone_online=True, now=inside)
    assert availability.status_line(online, Labels("en"), inside).startswith("We usually reply")
    away = availability.availability(None, anyone_online=False, now=inside)
    assert away.state == availability.AWAY


# --- General: saving the looks and office hours ----------------------------------------------


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"accent_color": "#ffcc00"}, b"it needs at least 4.5:1"),
        ({"accent_color": "blue"}, b"six hex digits"),
        ({"time_zone": "Mars/Olympus"}, b"IANA name"),
        ({"office_opens": "25:00"}, b"Enter a time as HH:MM"),
        ({"office_opens": "17:00", "office_closes": "09:00"}, b"must end after they start"),
        ({"office_hours_on": "y", "office_days": []}, b"Choose at least one day"),
        ({"launcher_position": "top"}, b"Not a valid choice"),
    ],
)
def test_bad_looks_or_hours_are_refused_and_nothing_is_stored(admin, widget, changes, message):
    response = save_general(admin, widget, name="Renamed", **changes)
    assert response.status_code == 422
    assert message in response.data
    assert Widget.get_by_id(widget.id).name != "Renamed"


@pytest.mark.parametrize(
    "upload, message",
    [
        ((SVG, "logo.svg"), b"SVG images are refused"),
        ((b"\x89PNG\r\n\x1a\n" + b"\0" * 210_000, "big.png"), b"keep it under 200 KB"),
        ((b"%PDF-1.4 hello", "logo.png"), b"not a PNG, JPEG or WebP"),
    ],
)
def test_a_bad_logo_gets_a_clear_422_and_nothing_is_stored(admin, widget, upload, message):
    data, filename = upload
    response = save_general(admin, widget, name="Renamed", logo_upload=(io.BytesIO(data), filename))
    assert response.status_code == 422
    assert message in response.data
    assert Image.select().count() == 0
    assert Widget.get_by_id(widget.id).name != "Renamed"


def test_looks_are_saved_and_reach_the_loader_and_the_frame(admin, client, widget):
    response = save_general(
        admin,
        widget,
        accent_color="#8A1C7C",
        launcher_position="left",
        launcher_style="icon",
        team_name="Ada's Shop",
        logo_upload=(io.BytesIO(png()), "logo.png"),
    )
    assert response.status_code == 200, response.data
    saved = Widget.get_by_id(widget.id)
    assert (saved.accent_color, saved.launcher_position, saved.team_name) == (
        "#8a1c7c",
        "left",
        "Ada's Shop",
    )
    settings = client.get(f"/widget/{widget.key}/settings.json").get_json()
    assert settings["launcher_css"] == "background:#8a1c7c;left:20px;right:auto;padding:0 14px"
    assert settings["left"] is True and settings["icon_only"] is True
    frame = client.get(f"/widget/{widget.key}").data.decode()
    assert "--accent: #8a1c7c" in frame
    assert "Ada&#39;s Shop" in frame
    logo_url = f"/media/{saved.logo_id}"
    assert f'src="{logo_url}"' in frame
    logo = client.get(logo_url)
    assert logo.status_code == 200 and logo.data == png()
    assert logo.mimetype == "image/png"
    assert logo.headers["X-Content-Type-Options"] == "nosniff"
    assert "immutable" in logo.headers["Cache-Control"]


def test_a_new_logo_gets_a_new_url_and_removing_it_deletes_it(admin, widget):
    save_general(admin, widget, logo_upload=(io.BytesIO(png()), "a.png"))
    first = Widget.get_by_id(widget.id).logo_id
    save_general(admin, widget, logo_upload=(io.BytesIO(png(rgb=(0, 0, 0))), "b.png"))
    second = Widget.get_by_id(widget.id).logo_id
    assert second != first and Image.select().count() == 1
    save_general(admin, widget, remove_logo="y")
    assert Widget.get_by_id(widget.id).logo_id is None and Image.select().count() == 0


def test_the_live_preview_draws_the_typed_looks_unsaved(admin, widget):
    url = f"/admin/widgets/{widget.id}/general/preview"
    data = {"accent_color": "#0b6e4f", "launcher_style": "icon", "team_name": "Typed Team"}
    response = admin_post(admin, general_url(widget), url, data, {"HX-Request": "true"})
    assert response.status_code == 200
    assert b"--accent: #0b6e4f" in response.data and b"Typed Team" in response.data
    assert b"host  icon" in response.data or b"icon" in response.data
    refused = admin_post(admin, general_url(widget), url, {"accent_color": "#ffff00"})
    assert b"--accent: #2d5be3" in refused.data  # a colour that fails the check is not drawn
    assert Widget.get_by_id(widget.id).team_name is None


# --- what the widget says ---------------------------------------------------------------------


def keep_office_hours(widget, days="0,1,2,3,4,5,6", opens="00:00", closes="23:59"):
    widget.office_hours_on = True
    widget.office_days, widget.office_opens, widget.office_closes = days, opens, closes
    widget.time_zone = "Pacific/Auckland"
    widget.save()


def test_the_frame_says_online_only_while_an_agent_has_the_admin_open(client, widget):
    away = client.get(f"/widget/{widget.key}").data
    assert b"We usually reply" not in away and b"We&#39;re away right now" in away
    Agent.get().mark_online()
    online = client.get(f"/widget/{widget.key}").data
    assert b"We usually reply within a few minutes." in online and b"fd-status-online" in online


def test_outside_office_hours_the_widget_says_when_it_is_back(client, widget):
    Agent.get().mark_online()  # online agents do not open a closed office
    now = datetime.datetime.now(ZoneInfo("Pacific/Auckland"))
    tomorrow = (now.weekday() + 1) % 7
    keep_office_hours(widget, days=str(tomorrow), opens="00:00", closes="00:01")
    frame = client.get(f"/widget/{widget.key}").data.decode()
    expected_day = (now + datetime.timedelta(days=1)).strftime("%A")
    assert f"Back {expected_day} at 12:00\u202fAM" in frame
    assert "fd-status-closed" in frame and "We usually reply" not in frame


def test_offline_visitors_are_offered_the_email_field_and_clients_an_email_promise(client, widget):
    keep_office_hours(widget, days="")  # never open: always closed
    pane = client.get(f"/widget/{widget.key}/pane", headers=visitor_headers()).data
    assert b"Leave your email and we&#39;ll answer there" in pane
    assert b"<details open>" in pane
    set_auth_type(widget, AuthType.FORM)
    token = "f" * 48
    client.post(
        f"/widget/{widget.key}/contact",
        data={"name": "Ada", "email": "ada@example.com"},
        headers=visitor_headers(token),
    )
    pane = client.get(f"/widget/{widget.key}/pane", headers=visitor_headers(token)).data
    assert b"We&#39;ll answer by email at ada@example.com." in pane
    assert b"Leave your email" not in pane


def test_online_the_email_offer_waits_folded_mid_chat(client, widget):
    Agent.get().mark_online()
    pane = client.get(f"/widget/{widget.key}/pane", headers=visitor_headers()).data
    assert b"Leave your email" in pane and b"<details open>" not in pane


def test_a_visitor_leaves_an_email_mid_chat_kept_unconfirmed(client, widget):
    token = "e" * 48
    send_message(client, widget, token, "Hello?")
    response = client.post(
        f"/widget/{widget.key}/email",
        data={"email": " Ada@Example.com "},
        headers=visitor_headers(token),
    )
    assert response.status_code == 200
    assert b"We&#39;ll answer at ada@example.com." in response.data
    visitor = Client.get()
    assert visitor.email == "ada@example.com" and not visitor.email_confirmed
    assert visitor.name is None
    assert Contact.get(Contact.email == "ada@example.com").name == "ada@example.com"
    again = client.post(
        f"/widget/{widget.key}/email",
        data={"email": "b@example.com"},
        headers=visitor_headers(token),
    )
    assert again.status_code == 409 and Client.get().email == "ada@example.com"


def test_a_guest_may_leave_an_email_and_a_bad_one_gets_a_message(client, widget):
    set_auth_type(widget, AuthType.OPTIONAL_FORM)
    token = "g" * 48
    refused = client.post(
        f"/widget/{widget.key}/email", data={"email": "a@b.co"}, headers=visitor_headers(token)
    )
    assert refused.status_code == 409  # not a guest yet: the form comes first
    client.post(f"/widget/{widget.key}/guest", headers=visitor_headers(token))
    bad = client.post(
        f"/widget/{widget.key}/email",
        data={"email": "not-an-email"},
        headers=visitor_headers(token),
    )
    assert bad.status_code == 422
    assert b"Please enter a valid email address" in bad.data
    assert Client.get().email is None
    good = client.post(
        f"/widget/{widget.key}/email",
        data={"email": "guest@example.com"},
        headers=visitor_headers(token),
    )
    assert good.status_code == 200 and Client.get().email == "guest@example.com"


# --- agents' names and avatars ----------------------------------------------------------------


def test_agents_name_and_avatar_in_the_chat_grouped_per_sender(admin, client, widget):
    token = "a" * 48
    send_message(client, widget, token, "Hi")
    conversation = Conversation.get()
    post_reply(admin, conversation, "First reply")
    post_reply(admin, conversation, "Second reply")
    pane = client.get(f"/widget/{widget.key}/pane", headers=visitor_headers(token)).data.decode()
    agent = Agent.get()
    assert pane.count(f">{agent.chat_initials}</span>{agent.name}") == 1  # one per group
    assert pane.count("fd-grouped") == 1

    response = admin_post(
        admin,
        "/admin/account/",
        "/admin/account/profile",
        {"display_name": "Sam from Support", "avatar_upload": (io.BytesIO(png()), "me.png")},
    )
    assert response.status_code == 302
    agent = Agent.get_by_id(agent.id)
    pane = client.get(f"/widget/{widget.key}/pane", headers=visitor_headers(token)).data.decode()
    assert f'src="/media/{agent.avatar_id}"' in pane and "Sam from Support" in pane
    assert client.get(f"/media/{agent.avatar_id}").mimetype == "image/png"


def test_an_svg_avatar_is_refused(admin, widget):
    response = admin_post(
        admin,
        "/admin/account/",
        "/admin/account/profile",
        {"display_name": "Sam", "avatar_upload": (io.BytesIO(SVG), "me.svg")},
    )
    assert response.status_code == 422 and b"SVG images are refused" in response.data
    assert Agent.get().display_name is None and Image.select().count() == 0


@pytest.mark.parametrize("number", ["0", "99999", str(2**64)])
def test_unknown_or_absurd_image_ids_are_404(client, number):
    assert client.get(f"/media/{number}").status_code == 404
