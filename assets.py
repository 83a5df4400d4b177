"""Static files as a CDN likes them: content-hashed names, cached forever, sent precompressed.

At start-up every file under ``static/`` is copied into the assets folder (``instance/assets``,
``FRONTDESK_ASSETS_DIR``) as ``name.<hash>.ext`` with ``.br`` and ``.gz`` siblings; a file whose
hash is already there is not redone, so this costs once per change, and writes are atomic, so
several workers may start together. ``flask --app app assets build`` does the same ahead of time.
Our own scripts and styles are minified on the way (``minify``: esbuild); vendor files are not.
The iframe's scripts also come as one bundle (``BUNDLES``), one request instead of five.
WhiteNoise serves the folder under ``/static/``: hashed names are ``immutable`` for a year and
come as brotli or gzip when the browser takes them; the plain ``/static/name.ext`` keeps working,
cached for five minutes. Templates write ``asset_url('widget.css')``.

The loader ``/embed.js`` keeps its own view (short-cached: customers' pages name it without a
hash) and is answered from the built bytes, precompressed too. The chunks it fetches later
(``CHUNKS``) are named in it, and in each other, by their hashed URLs. Flask-Compress compresses the
dynamic HTML and JSON, never a stream (Server-Sent Events must reach the visitor at once).

The widget never reads a cookie, so its responses must not say ``Vary: Cookie`` (which stops any
cache from sharing them); Flask adds it whenever anything looks at the session, as Flask-Login
does after every request. ``CookielessWidgetSessions`` leaves the widget's responses alone.
"""

import gzip
import hashlib
import os
import re
import tempfile
import time
from pathlib import Path

import brotli
import click
from flask import Response, current_app, request, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_compress import Compress
from whitenoise import WhiteNoise

from minify import Minifier

HASH_LENGTH = 12
HASHED_NAME = re.compile(rf"\.[0-9a-f]{{{HASH_LENGTH}}}\.[A-Za-z0-9]+$")
COMPRESSIBLE = frozenset({".js", ".css", ".svg", ".html", ".json", ".txt", ".map"})
LOADER = "embed.js"
# The rest of the loader, fetched when needed: the chat (the iframe), then, for a visitor who
# chats, the unread notice. Built in this order, as each names the one before by its hashed URL.
CHUNKS = ("embed-unread.js", "embed-chat.js")
BUNDLES = {  # built files made of others, in this order; vendor files first, as the page had them
    "widget-frame.js": (  # hx-sse comes later, for a visitor who writes (widget.js fetches it)
        "vendor/htmx.min.js",
        "enter-sends.js",
        "local-times.js",
        "typing.js",
        "widget.js",
    ),
}
PLAIN_MAX_AGE = 300  # /static/name.ext without a hash, and /embed.js
FOREVER = 31536000
STALE_AFTER = 7 * 24 * 3600  # old hashed files stay this long, for pages still naming them

compress = Compress()


def init_app(app):
    """Build the hashed files, serve them with WhiteNoise, compress dynamic responses."""
    app.config.setdefault("ASSETS_DIR", str(Path(app.instance_path) / "assets"))
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_STREAMS", False)  # SSE goes out unbuffered, as it is written
    app.config.setdefault("COMPRESS_BR_LEVEL", 5)
    app.session_interface = CookielessWidgetSessions()
    compress.init_app(app)

    assets = Assets(Path(app.static_folder), Path(app.config["ASSETS_DIR"]), app.static_url_path)
    assets.build()
    app.extensions["assets"] = assets
    app.jinja_env.globals["asset_url"] = asset_url

    served = WhiteNoise(
        app.wsgi_app,
        max_age=PLAIN_MAX_AGE,
        immutable_file_test=lambda _path, url: HASHED_NAME.search(url) is not None,
        add_headers_function=static_headers,
        autorefresh=app.debug,
    )
    prefix = app.static_url_path.strip("/") + "/"
    served.add_files(str(assets.build_dir), prefix=prefix)
    served.add_files(str(assets.source_dir), prefix=prefix)
    app.wsgi_app = served

    @app.cli.group("assets")
    def assets_group():
        """Static files: hashed, precompressed copies in the assets folder."""

    @assets_group.command("build")
    def build_command():
        """Write the hashed and compressed files now (start-up does it too when missing)."""
        current_app.extensions["assets"].build()
        click.echo(f"built {len(assets.manifest)} files into {assets.build_dir}")


def static_headers(headers, _path, url):
    """What WhiteNoise adds to each static file: no type sniffing; a year for a hashed name."""
    headers["X-Content-Type-Options"] = "nosniff"
    if HASHED_NAME.search(url):
        headers["Cache-Control"] = f"public, max-age={FOREVER}, immutable"


def asset_url(filename, _external=False):
    """The hashed URL of ``static/filename`` (cached forever); the plain one if it is not built."""
    assets = current_app.extensions["assets"]
    hashed = assets.hashed(filename, refresh=current_app.debug)
    return url_for("static", filename=hashed, _external=_external)


def send_loader():
    """``/embed.js`` from the built bytes, in the encoding the browser takes best, short-cached."""
    assets = current_app.extensions["assets"]
    encoding = best_encoding(assets.loader)
    response = Response(assets.loader[encoding], mimetype="text/javascript")
    if encoding != "identity":
        response.headers["Content-Encoding"] = encoding
    response.vary.add("Accept-Encoding")
    response.set_etag(f"{assets.loader_etag}-{encoding}")
    response.cache_control.public = True
    response.cache_control.max_age = PLAIN_MAX_AGE
    return response.make_conditional(request)


def best_encoding(available):
    """``br``, ``gzip`` or ``identity``: the first of ``available`` the request accepts."""
    accepted = request.accept_encodings
    for encoding in ("br", "gzip"):
        if encoding in available and accepted[encoding] > 0:
            return encoding
    return "identity"


class CookielessWidgetSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, except that widget responses never touch the cookie.

    The widget recognises visitors by a token header (see ``widget``) and shows nothing of the
    session; yet rendering any template loads Flask-Login's ``current_user`` from it, which may
    even mark it changed (session protection). So a widget response neither sets the cookie nor
    varies on it.
    """

    def save_session(self, app, session, response):
        if request.blueprint == "widget":
            return
        super().save_session(app, session, response)


class Assets:
    """The hashed copies of one static folder, and which hashed name each file has now."""

    def __init__(self, source_dir, build_dir, url_path="/static"):
        self.source_dir = Path(source_dir)
        self.build_dir = Path(build_dir)
        self.url_path = url_path.rstrip("/")
        self.manifest = {}  # "vendor/htmx.min.js" -> "vendor/htmx.min.<hash>.js"
        self.loader = {}  # the loader's bytes per encoding, naming the chunk's hashed URL
        self.loader_etag = ""
        self.minify = Minifier(
            self.build_dir.with_name(self.build_dir.name + "-minified"), atomic_write
        )
        self.built_from = None  # the sources' names, sizes and times at the last build

    def sources(self):
        for path in sorted(self.source_dir.rglob("*")):
            relative = path.relative_to(self.source_dir)
            if path.is_file() and not any(part.startswith(".") for part in relative.parts):
                yield relative.as_posix(), path

    def build(self):
        """Minify, hash, copy and compress every static file that changed, then the bundles, the
        chunks and the loader; forget stale copies."""
        self.build_dir.mkdir(parents=True, exist_ok=True)
        sources = dict(self.sources())
        self.built_from = self.signature(sources)
        served, manifest = {}, {}
        for name, path in sources.items():
            if name != LOADER and name not in CHUNKS:
                served[name] = self.minify(name, path.read_bytes())
                manifest[name] = self.write(name, served[name])
        for bundle, parts in BUNDLES.items():
            if all(part in served for part in parts):
                manifest[bundle] = self.write(bundle, b"\n".join(served[part] for part in parts))
        for chunk in (chunk for chunk in CHUNKS if chunk in sources):
            data = self.minify(chunk, sources[chunk].read_bytes())
            manifest[chunk] = self.write(chunk, self.link(data, manifest))
        self.manifest = manifest
        self.build_loader((self.source_dir / LOADER).read_bytes())
        self.prune()
        return manifest

    def build_loader(self, source):
        """The loader's bytes, naming the chat chunk of its own version (served by its view)."""
        loader = self.minify(LOADER, source) if self.minify.available else slim_script(source)
        loader = self.link(loader, self.manifest)
        self.loader = {"identity": loader, **compressed(LOADER, loader)}
        self.loader_etag = hashlib.sha256(loader).hexdigest()[:HASH_LENGTH]

    def link(self, script, manifest):
        """``script`` with the plain URLs of the chunks already built replaced by hashed ones."""
        for chunk in (chunk for chunk in CHUNKS if chunk in manifest):
            plain = f"{self.url_path}/{chunk}".encode()
            script = script.replace(plain, f"{self.url_path}/{manifest[chunk]}".encode())
        return script

    @staticmethod
    def signature(sources):
        """What tells a changed static folder: each file's name, size and modification time."""
        return sorted(
            (name, path.stat().st_size, path.stat().st_mtime_ns) for name, path in sources.items()
        )

    def write(self, name, data):
        """Write ``name.<hash>.ext`` (and its compressed siblings) unless already there."""
        digest = hashlib.sha256(data).hexdigest()[:HASH_LENGTH]
        stem, dot, extension = name.rpartition(".")
        hashed = f"{stem}.{digest}.{extension}" if dot else f"{name}.{digest}"
        target = self.build_dir / hashed
        if not target.exists():
            atomic_write(target, data)
            for encoding, body in compressed(name, data).items():
                suffix = ".br" if encoding == "br" else ".gz"
                atomic_write(target.with_name(target.name + suffix), body)
        return hashed

    def prune(self):
        """Remove hashed copies no longer current and older than a week."""
        current = set(self.manifest.values())
        current |= {name + ".br" for name in current} | {name + ".gz" for name in current}
        limit = time.time() - STALE_AFTER
        for path in self.build_dir.rglob("*"):
            name = path.relative_to(self.build_dir).as_posix()
            if path.is_file() and name not in current and path.stat().st_mtime < limit:
                path.unlink(missing_ok=True)
        self.minify.prune(STALE_AFTER)

    def hashed(self, filename, refresh=False):
        """The current hashed name of ``filename`` (``refresh``: build again first if a static
        file changed, for the debug server, where they change while it runs)."""
        if refresh and self.signature(dict(self.sources())) != self.built_from:
            self.build()
        return self.manifest.get(filename, filename)


def slim_script(source):
    """A script without its comment lines and indentation: what every page fetches stays small.

    Only whole lines go (the opening block comment, ``//`` lines), so no string is ever cut.
    """
    text = re.sub(r"\A\s*/\*.*?\*/\s*", "", source.decode(), flags=re.DOTALL)
    lines = (line.strip() for line in text.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("//")).encode()


def compressed(name, data):
    """Brotli (best) and gzip copies of a text file, each only when it is smaller."""
    if Path(name).suffix not in COMPRESSIBLE:
        return {}
    copies = {
        "br": brotli.compress(data, quality=11),
        "gzip": gzip.compress(data, compresslevel=9, mtime=0),
    }
    return {encoding: body for encoding, body in copies.items() if len(body) < len(data)}


def atomic_write(target, data):
    """Write through a temporary file and a rename: a reader never sees half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
