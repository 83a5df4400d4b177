"""The widget's texts: gettext PO files under ``languages/``, one per language.

Each entry is keyed by its ``msgctxt`` (a stable name such as ``composer.send``); ``msgid`` holds
the English source text that translators see, ``msgstr`` the translation, and a ``#.`` comment says
where the text appears. English (``en.po``) is the source; a label missing from another language
falls back to English, so a widget never shows a blank.
"""

import re
import string
from dataclasses import dataclass
from pathlib import Path

import click
from babel import Locale
from babel.messages.pofile import read_po
from flask.cli import AppGroup

LANGUAGES_DIR = Path(__file__).parent / "languages"
SOURCE_LANGUAGE = "en"
_FORMATTER = string.Formatter()
_cache = {}


@dataclass(frozen=True)
class Label:
    key: str
    text: str
    source: str
    comment: str


def placeholders(text):
    """The ``{name}`` placeholders a text uses, as a set."""
    try:
        return {field for _, field, _, _ in _FORMATTER.parse(text) if field is not None}
    except ValueError:  # an unbalanced brace
        return {"<broken>"}


def language_codes():
    """Every language with a file, English first."""
    codes = sorted(path.stem for path in LANGUAGES_DIR.glob("*.po"))
    return sorted(codes, key=lambda code: code != SOURCE_LANGUAGE)


def language_choices():
    """(code, name in that language) pairs for a language picker."""
    return [
        (code, Locale.parse(code).get_display_name(code).capitalize()) for code in language_codes()
    ]


def text_direction(code):
    """``rtl`` or ``ltr`` for a language code."""
    return Locale.parse(code).text_direction


def load_language(code):
    """The labels of one language file as {key: Label}; re-read when the file changes."""
    if not re.fullmatch(r"[a-z]{2,3}(_[A-Z]{2})?", code or ""):
        return {}
    path = LANGUAGES_DIR / f"{code}.po"
    if not path.exists():
        return {}
    mtime = path.stat().st_mtime_ns
    cached = _cache.get(code)
    if cached and cached[0] == mtime:
        return cached[1]
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=code)
    entries = {}
    for message in catalog:
        if not message.id or not message.context:
            continue
        entries[message.context] = Label(
            key=message.context,
            text=message.string,
            source=message.id,
            comment=" ".join(message.auto_comments),
        )
    _cache[code] = (mtime, entries)
    return entries


class Labels:
    """The texts of one widget language; call it with a key (and placeholder values)."""

    def __init__(self, code):
        self.code = code if code in language_codes() else SOURCE_LANGUAGE
        self.direction = text_direction(self.code)
        self._own = load_language(self.code)
        self._source = load_language(SOURCE_LANGUAGE)

    def text(self, key):
        """The raw text for ``key``: this language's, else English, else the key itself."""
        for entries in (self._own, self._source):
            label = entries.get(key)
            if label and label.text:
                return label.text
        return key

    def __call__(self, key, **values):
        text = self.text(key)
        return text.format_map(values) if values else text


def check_languages():
    """Problems per language: missing keys, keys English no longer has, placeholder mismatches."""
    source = load_language(SOURCE_LANGUAGE)
    report = {}
    for code in language_codes():
        entries = load_language(code)
        problems = []
        for key, label in source.items():
            own = entries.get(key)
            if own is None or not own.text:
                problems.append(f"missing: {key}")
            elif placeholders(own.text) != placeholders(label.text):
                problems.append(
                    f"placeholders differ in {key}: "
                    f"{sorted(placeholders(own.text))} vs {sorted(placeholders(label.text))}"
                )
        problems += [f"not in English any more: {key}" for key in entries if key not in source]
        report[code] = problems
    return report


labels_cli = AppGroup("labels", help="Check the widget's language files.")


@labels_cli.command("check")
def check_command():
    """List each language's problems; exit non-zero when any language is incomplete."""
    report = check_languages()
    for code, problems in report.items():
        status = "complete" if not problems else f"{len(problems)} problem(s)"
        click.echo(f"{code}: {status}")
        for problem in problems:
            click.echo(f"  - {problem}")
    if any(report.values()):
        raise SystemExit(1)
