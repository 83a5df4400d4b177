"""How a message body reads in the widget and the admin: ``linkify`` is the one place it
becomes HTML. Everything is escaped; only http(s) addresses become links, opened in a new tab
without telling the site who sent the visitor there. Line breaks stay as typed (the message
styles keep white space).
"""

import re
from urllib.parse import urlsplit

from markupsafe import Markup, escape

# An address starts with http:// or https:// and runs to white space or a character that cannot
# be part of it in running text (quotes, angle brackets).
URL_PATTERN = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
TRAILING_PUNCTUATION = ".,;:!?"
LINK_TEXT_MAX = 60  # longer addresses are shown shortened; the link keeps the whole


def linkify(text):
    """``text`` as safe HTML: escaped, with its http(s) addresses as links."""
    text = "" if text is None else str(text)
    parts, position = [], 0
    for match in URL_PATTERN.finditer(text):
        url = trim_url(match.group(0))
        if not is_web_address(url):
            continue
        start, end = match.start(), match.start() + len(url)
        parts.append(escape(text[position:start]))
        parts.append(link(url))
        position = end
    parts.append(escape(text[position:]))
    return Markup("").join(parts)


def trim_url(url):
    """The address without the punctuation that ends the sentence around it (and without a
    closing parenthesis the address did not open)."""
    while url and url[-1] in TRAILING_PUNCTUATION + ")":
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    return url


def is_web_address(url):
    """An http(s) address with a host: nothing else becomes a link."""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. a malformed IPv6 host
        return False
    return parts.scheme.lower() in {"http", "https"} and bool(parts.hostname)


def link(url):
    """One link to ``url``, its text shortened when long."""
    shown = url if len(url) <= LINK_TEXT_MAX else url[: LINK_TEXT_MAX - 1] + "…"
    return Markup('<a href="{}" rel="noopener noreferrer" target="_blank">{}</a>').format(
        url, shown
    )


def init_app(app):
    """Make ``linkify`` a filter of every template, the widget's and the admin's."""
    app.add_template_filter(linkify, "linkify")
