"""Allowed domains: which sites may embed a widget, as CSP's ``frame-ancestors`` reads them.

One home for both halves: checking what an admin types (``clean_allowed_domains``) and matching
a page's origin against what was saved (``domain_matches``).
"""

import re

from publicsuffixlist import PublicSuffixList

# The Public Suffix List (ICANN and private suffixes such as github.io), as the package ships it.
# Unknown top-level names (localhost, .example, .test) are not suffixes: they stay usable.
PUBLIC_SUFFIXES = PublicSuffixList(accept_unknown=False)

DEFAULT_PORTS = {"http": "80", "https": "443"}
MAX_ENTRIES = 50

ALLOWED_DOMAIN = re.compile(
    r"(https?://)?(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:(\d{1,5}|\*))?"
)


class DomainListError(ValueError):
    """What is wrong with a typed list of allowed domains, in words for the admin."""


def split_origin(text):
    """(scheme, host, port) of ``scheme://host[:port]``; scheme and port may be empty."""
    scheme, _, rest = text.strip().lower().rpartition("://")
    host, _, port = rest.split("/", 1)[0].partition(":")
    return scheme, host, port


def domain_matches(entry, origin):
    """Whether an allowed-domains entry covers a page's origin, the way CSP's frame-ancestors
    reads a host source: ``shop.example`` (default port), ``*.example.com`` (subdomains),
    ``https://shop.example:8443``, ``localhost:5000``, ``host:*`` (any port)."""
    scheme, host, port = split_origin(origin or "")
    entry_scheme, entry_host, entry_port = split_origin(entry)
    if scheme not in DEFAULT_PORTS or (entry_scheme and entry_scheme != scheme):
        return False
    wanted_port = entry_port or DEFAULT_PORTS[scheme]
    if wanted_port != "*" and wanted_port != (port or DEFAULT_PORTS[scheme]):
        return False
    if entry_host.startswith("*."):
        return host.endswith(entry_host[1:])
    return host == entry_host


def domain_list(text):
    """The saved entries of an allowed-domains text, one per line."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def clean_allowed_domains(text):
    """The typed list tidied up for storing (None when empty); DomainListError when it is not
    one site per line, or when an entry is a public suffix (``com``, ``*.co.uk``, ``github.io``)
    that anyone can have a site under."""
    entries = []
    for line in (text or "").splitlines():
        entry = line.strip().lower().rstrip("/")
        if not entry:
            continue
        if not ALLOWED_DOMAIN.fullmatch(entry):
            raise DomainListError(
                f"“{line.strip()[:80]}” is not a site. Write one per line, like "
                "shop.example.com, *.example.com or https://shop.example.com:8443."
            )
        _scheme, host, _port = split_origin(entry)
        if PUBLIC_SUFFIXES.is_public(host.removeprefix("*.")):
            raise DomainListError(
                f"“{line.strip()[:80]}” names a public suffix (like com, co.uk or github.io), "
                "under which anyone can have a site. Name your own site, like shop.example.com "
                "or *.example.com."
            )
        entries.append(entry)
    if len(entries) > MAX_ENTRIES:
        raise DomainListError(f"List at most {MAX_ENTRIES} sites.")
    return "\n".join(dict.fromkeys(entries)) or None
