"""Serving light: hashed static files cached for good and sent precompressed, a small loader, and
nothing in the widget that keeps a cache from sharing its responses (``Vary: Cookie``)."""

import gzip
import os
import re
import secrets
import time
import urllib.request
from pathlib import Path

import brotli
import pytest
from helpers import ServerProcess, demo_widget_key, send_message, set_auth_type, visitor_headers

import bench
from assets import BUNDLES, HASHED_NAME, Assets, atomic_write
from minify import Minifier
from models import AuthType

HASHED_URL = re.compile(r'(?:href|src)="(/static/[^"]+)"')
BROWSER = {"Accept-Encoding": "gzip, deflate, br, zstd"}


def static_urls(page):
    return HASHED_URL.findall(page.get_data(as_text=True))


def decoded(response):
    encoding = response.headers.get("Content-Encoding")
    if encoding == "br":
        return brotli.decompress(response.data)
    if encoding == "gzip":
        return gzip.decompress(response.data)
    assert encoding is None, encoding
    return response.data


def test_pages_name_hashed_static_files_cached_for_a_year(client, widget):
    frame = client.get(f"/widget/{widget.key}")
    login = client.get("/admin/login")
    for page in (frame, login):
        urls = static_urls(page)
        assert any(url.endswith(".css") for url in urls), urls
        assert any(url.endswith(".js") for url in urls), urls
        for url in urls:
            assert HASHED_NAME.search(url), url
            response = client.get(url, headers=BROWSER)
            assert response.status_code == 200, url
            assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
            assert "Cookie" not in response.headers.get("Vary", "")
            assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("name", ["widget.css", "widget.js", "vendor/htmx.min.js"])
def test_hashed_files_come_precompressed_as_the_browser_takes_them(app, client, name):
    hashed = app.extensions["assets"].hashed(name)
    url = f"/static/{hashed}"
    original = (Path(app.config["ASSETS_DIR"]) / hashed).read_bytes()  # minified, if ours
    for accept, encoding in [("br, gzip", "br"), ("gzip", "gzip"), ("", None)]:
        response = client.get(url, headers={"Accept-Encoding": accept})
        assert response.status_code == 200
        assert response.headers.get("Content-Encoding") == encoding, accept
        assert "Accept-Encoding" in response.headers["Vary"]
        assert decoded(response) == original
        if encoding:
            assert len(response.data) < len(original) / 2


def test_plain_static_urls_keep_working_briefly_cached(client):
    response = client.get("/static/widget.css")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "max-age=300, public"


def test_the_loader_is_small_short_cached_and_names_its_hashed_rest(app, client):
    for accept, encoding in [("br, gzip", "br"), ("gzip", "gzip")]:
        response = client.get("/embed.js", headers={"Accept-Encoding": accept})
        assert response.status_code == 200
        assert response.headers["Content-Encoding"] == encoding
        assert len(response.data) <= 2048, (encoding, len(response.data))
        assert response.headers["Cache-Control"] == "public, max-age=300"
        assert response.headers["Access-Control-Allow-Origin"] == "*"
    script = decoded(response).decode()
    assert "needs_site_user" in script
    chunk = re.search(r'"(/static/embed-chat\.[0-9a-f]+\.js)"', script).group(1)
    assert chunk == f"/static/{app.extensions['assets'].hashed('embed-chat.js')}"
    rest = client.get(chunk, headers=BROWSER)
    assert rest.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert b"frontdesk:init" in decoded(rest)

    plain = client.get("/embed.js")
    assert "Content-Encoding" not in plain.headers
    assert decoded(plain).decode() == script
    again = client.get("/embed.js", headers={"If-None-Match": plain.headers["ETag"]})
    assert again.status_code == 304


def test_widget_responses_do_not_vary_on_a_cookie(client, widget):
    set_auth_type(widget, AuthType.NONE)
    token = secrets.token_hex(24)
    client.get("/admin/login")  # the browser holds a session cookie of the admin's
    assert client.get_cookie("session") is not None
    responses = [
        client.get("/embed.js"),
        client.get("/static/widget.css"),
        client.get(f"/widget/{widget.key}/settings.json"),
        client.get(f"/widget/{widget.key}"),
        client.get(f"/widget/{widget.key}/pane", headers=visitor_headers(token)),
        send_message(client, widget, token),
        client.get("/widget/no-such-key"),
    ]
    for response in responses:
        assert "Cookie" not in response.headers.get("Vary", ""), response.request.path
        assert "Set-Cookie" not in response.headers, response.request.path
    # The admin still varies on its cookie: its pages differ per agent.
    assert "Cookie" in client.get("/admin/login").headers["Vary"]


def test_dynamic_html_is_compressed_but_a_stream_is_not(client, widget):
    set_auth_type(widget, AuthType.NONE)
    token = secrets.token_hex(24)
    frame = client.get(f"/widget/{widget.key}", headers=BROWSER)
    assert frame.headers["Content-Encoding"] == "br"
    assert b"<html" in decoded(frame)
    send_message(client, widget, token)
    stream = client.get(
        f"/widget/{widget.key}/stream",
        headers={**visitor_headers(token), **BROWSER},
        buffered=False,
    )
    assert stream.mimetype == "text/event-stream"
    assert "Content-Encoding" not in stream.headers
    first = next(iter(stream.response))
    stream.close()
    assert (first if isinstance(first, bytes) else first.encode()).startswith(b"retry:")


def styles(colour):
    """A stylesheet that minifying leaves long enough to compress."""
    return "".join(f".c{n} {{ color: {colour} }}\n" for n in range(100))


def test_a_build_writes_each_version_once_and_forgets_old_ones(tmp_path):
    source, built = tmp_path / "static", tmp_path / "assets"
    source.mkdir()
    (source / "embed.js").write_text("/* loader */\nload('/static/embed-chat.js');\n")
    (source / "embed-chat.js").write_text("var rest = 1;\n" * 100)
    (source / "app.css").write_text(styles("red"))
    assets = Assets(source, built)
    first = assets.build()
    css = built / first["app.css"]
    assert css.with_name(css.name + ".br").exists() and css.with_name(css.name + ".gz").exists()
    assert f"/static/{first['embed-chat.js']}".encode() in assets.loader["identity"]
    assert b"loader" not in assets.loader["identity"]  # comment lines are not sent
    written = css.stat().st_mtime_ns

    (source / "app.css").write_text(styles("blue"))
    second = assets.build()
    assert second["app.css"] != first["app.css"]
    assert css.exists()  # pages from just before still find the old version
    assert second["embed-chat.js"] == first["embed-chat.js"]
    assert css.stat().st_mtime_ns == written  # nothing rewritten

    week_ago = time.time() - 8 * 24 * 3600
    for path in built.glob(first["app.css"] + "*"):
        os.utime(path, (week_ago, week_ago))
    assets.build()
    assert not css.exists()
    assert (built / second["app.css"]).exists()


needs_esbuild = pytest.mark.skipif(
    not Minifier(Path("unused"), atomic_write).available,
    reason="esbuild is not installed (`make setup` runs npm ci)",
)


@needs_esbuild
def test_our_files_go_out_minified_and_vendor_files_as_they_are(app):
    assets = app.extensions["assets"]
    built, source = Path(app.config["ASSETS_DIR"]), Path(app.static_folder)
    for name in ("widget.js", "widget.css", "embed-chat.js", "embed-unread.js", "local-times.js"):
        minified = (built / assets.hashed(name)).read_bytes()
        assert len(minified) < len(source.joinpath(name).read_bytes()) * 0.9, name
        assert b"\n  " not in minified, name  # no indentation left
    htmx = source.joinpath("vendor/htmx.min.js").read_bytes()
    assert (built / assets.hashed("vendor/htmx.min.js")).read_bytes() == htmx
    bundle = (built / assets.hashed("widget-frame.js")).read_bytes()
    assert bundle.startswith(htmx)  # htmx first: the glue after it may use it at once
    for part in BUNDLES["widget-frame.js"][1:]:
        assert (built / assets.hashed(part)).read_bytes() in bundle, part


@needs_esbuild
def test_the_chat_chunk_names_the_hashed_notice_chunk(app, client):
    assets = app.extensions["assets"]
    chat = client.get(f"/static/{assets.hashed('embed-chat.js')}").data
    assert f'"/static/{assets.hashed("embed-unread.js")}"'.encode() in chat
    assert b"/static/embed-unread.js" not in chat


def test_without_esbuild_the_files_go_out_as_written_with_one_warning(tmp_path, caplog):
    source = tmp_path / "static"
    source.mkdir()
    (source / "embed.js").write_text("/* loader */\nload('/static/embed-chat.js');\n")
    (source / "embed-chat.js").write_text("var  rest = 1;\n" * 100)
    (source / "app.css").write_text(styles("red"))
    assets = Assets(source, tmp_path / "assets")
    assets.minify.esbuild = tmp_path / "no-esbuild"
    with caplog.at_level("WARNING", logger="minify"):
        manifest = assets.build()
    assert (tmp_path / "assets" / manifest["app.css"]).read_text() == styles("red")
    assert [record.getMessage() for record in caplog.records if "esbuild" in record.getMessage()]
    assert len(caplog.records) == 1
    assert b"loader" not in assets.loader["identity"]  # the loader still loses its comments


@needs_esbuild
def test_a_first_widget_open_stays_within_issue_12s_budget(tmp_path):
    """Measured as `make bench` measures it: gunicorn, the bytes a browser downloads (brotli)."""
    with ServerProcess(tmp_path, command="gunicorn") as server:
        demo = urllib.request.urlopen(f"{server.base_url}/demo", timeout=10).read().decode()
        figures = bench.serving_figures(server.port, demo_widget_key(demo))
    assert figures["loader_bytes"] <= 2048, figures
    assert figures["first_open_bytes"] <= 20_000, figures["first_open_files"]
    assert figures["repeat_open_revalidations"] == 0, figures
    assert figures["vary_cookie"] == [], figures


def test_the_debug_server_builds_again_when_a_static_file_changes(tmp_path):
    source = tmp_path / "static"
    source.mkdir()
    (source / "embed.js").write_text("load('/static/embed-chat.js');\n")
    (source / "app.css").write_text(styles("red"))
    assets = Assets(source, tmp_path / "assets")
    first = assets.build()["app.css"]
    assert assets.hashed("app.css", refresh=True) == first  # nothing changed: the same name
    (source / "app.css").write_text(styles("blue"))
    assert assets.hashed("app.css") == first  # not asked to look again
    assert assets.hashed("app.css", refresh=True) != first
