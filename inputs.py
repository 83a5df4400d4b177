"""Input checks at the edge: text no view should ever see, refused before any view reads it.

One home for what every request is checked for (``request_problem``, run by a ``before_request``
hook in ``app.py``) and for the JSON a view parses itself (``json_problem``: the widget's
``custom_user_data`` and the claims of a signed identity token):

- control characters: C0 but tab, newline and carriage return, DEL and C1. Nobody types them;
  NUL cannot even be stored in PostgreSQL, and the rest hide text or break it in pages and mails;
- lone surrogates (``"\\ud800"`` as a JSON escape): valid Python text that no database driver or
  page can encode, so storing one would break every page that shows it;
- bytes that are not UTF-8 in the path, the query string, a form body or the headers Frontdesk
  reads (percent-encoded or raw): Werkzeug would quietly turn them into other characters.

Numeric ids in URLs go through ``IdConverter``: out of a database's range is a 404, not a 500.
"""

import re
from urllib.parse import parse_qsl

from werkzeug.routing import IntegerConverter

FORBIDDEN_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")

# The request headers Frontdesk reads and may store or show; others are left to the server.
CHECKED_HEADERS = (
    "X-Frontdesk-Token",
    "X-Frontdesk-Page",
    "X-Frontdesk-Language",
    "Last-Event-ID",
    "Accept-Language",
    "Origin",
)

BAD_TEXT = "Text must not contain control characters or invalid Unicode."
NOT_UTF8 = "The request is not valid UTF-8."

ID_MAX = 2**63 - 1  # a signed 64-bit integer: the largest id SQLite and PostgreSQL store


def text_is_clean(text):
    """Whether ``text`` holds no forbidden character."""
    return FORBIDDEN_CHARACTERS.search(text) is None


def json_problem(value):
    """Why a parsed JSON value (keys and values at any depth) is refused, or None."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if not text_is_clean(item):
                return BAD_TEXT
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return None


def utf8(raw):
    """``raw`` bytes as text, or None when they are not UTF-8."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def urlencoded_problem(raw):
    """Why a query string or form body (bytes) is refused, or None: every name and value, once
    percent-decoded, must be clean UTF-8 text."""
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True, encoding="latin-1")
    for name, value in pairs:
        for text in (name, value):
            decoded = utf8(text.encode("latin-1"))
            if decoded is None:
                return NOT_UTF8
            if not text_is_clean(decoded):
                return BAD_TEXT
    return None


def header_problem(value):
    """Why a header value is refused, or None. WSGI hands headers over as Latin-1 text of the
    bytes sent; those bytes must be UTF-8."""
    try:
        decoded = utf8(value.encode("latin-1"))
    except UnicodeEncodeError:  # not bytes off the wire at all (only a test client sends these)
        return BAD_TEXT
    if decoded is None:
        return NOT_UTF8
    return None if text_is_clean(decoded) else BAD_TEXT


def request_problem(request):
    """Why this request's text is refused (a message for the 400), or None."""
    path = request.environ.get("PATH_INFO", "")
    problem = header_problem(path)
    if problem is None:
        problem = urlencoded_problem(request.query_string)
    if problem is None and request.mimetype == "application/x-www-form-urlencoded":
        problem = urlencoded_problem(request.get_data(cache=True))  # the form parses it again
    for name in CHECKED_HEADERS:
        if problem is None and name in request.headers:
            problem = header_problem(request.headers[name])
    if problem is None:
        # Multipart forms: Werkzeug decoded them (undecodable bytes became U+FFFD).
        texts = [text for pair in request.form.items(multi=True) for text in pair]
        if not all(text_is_clean(text) for text in texts):
            problem = BAD_TEXT
    return problem


def row_id(text):
    """The row id ``text`` spells (1 to ``ID_MAX``, digits only), else None."""
    if not (isinstance(text, str) and text.isascii() and text.isdigit() and len(text) <= 19):
        return None
    number = int(text)
    return number if 1 <= number <= ID_MAX else None


class IdConverter(IntegerConverter):
    """``<id:name>``: a row id, 1 to 2**63 - 1. Anything else in its place is a 404."""

    regex = r"\d{1,19}"

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=ID_MAX)
