"""The widget's texts: gettext PO files under ``languages/``, one per language.

Each entry is keyed by its ``msgctxt`` (a stable name such as ``composer.send``); ``msgid`` holds
the English source text that translators see, ``msgstr`` the translation, and a ``#.`` comment says
where the text appears. English (``en.po``) is the source; a label missing from another language
falls back to English, so a widget never shows a blank.
"""

import functools
import re
import string
from dataclasses import dataclass
from pathlib import Path

import click
from babel import Locale, UnknownLocaleError
from babel.messages.pofile import read_po, write_po
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
    """The ``{name}`` placeholders a text uses, as a set; ``<broken>`` stands for anything else
    in braces (an unclosed brace, ``{name!r}``, ``{name:>999}``, ``{name.attr}``), which a label
    may not use."""
    try:
        parsed = list(_FORMATTER.parse(text))
    except ValueError:  # an unbalanced brace
        return {"<broken>"}
    found = set()
    for _, field, spec, conversion in parsed:
        if field is None:
            continue
        found.add(field if field.isidentifier() and not spec and not conversion else "<broken>")
    return found


def language_codes(directory=None):
    """Every language with a file, English first (listed again when the folder changes)."""
    directory = directory or LANGUAGES_DIR
    return _language_codes(directory, directory.stat().st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _language_codes(directory, _mtime):
    """The folder's listing, read once per version of the folder: every widget request asks."""
    codes = sorted(path.stem for path in directory.glob("*.po"))
    return tuple(sorted(codes, key=lambda code: code != SOURCE_LANGUAGE))


def language_choices():
    """(code, name in that language) pairs for a language picker."""
    return [
        (code, Locale.parse(code).get_display_name(code).capitalize()) for code in language_codes()
    ]


@functools.lru_cache(maxsize=64)
def text_direction(code):
    """``rtl`` or ``ltr`` for a language code."""
    return Locale.parse(code).text_direction


def load_language(code, directory=None):
    """The labels of one language file as {key: Label}; re-read when the file changes."""
    if not re.fullmatch(r"[a-z]{2,3}(_[A-Z]{2})?", code or ""):
        return {}
    path = (directory or LANGUAGES_DIR) / f"{code}.po"
    if not path.exists():
        return {}
    mtime = path.stat().st_mtime_ns
    cached = _cache.get(path)
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
    _cache[path] = (mtime, entries)
    return entries


class Labels:
    """The texts of one widget language; call it with a key (and placeholder values).

    ``overrides`` ({key: text}) are a widget's own wording, set in the label editor.
    """

    def __init__(self, code, overrides=None):
        self.code = code if code in language_codes() else SOURCE_LANGUAGE
        self.direction = text_direction(self.code)
        self.overrides = overrides or {}
        self._own = load_language(self.code)
        self._source = load_language(SOURCE_LANGUAGE)

    def file_text(self, key):
        """The text the language file gives ``key``: this language's, else English, else the key."""
        for entries in (self._own, self._source):
            label = entries.get(key)
            if label and label.text:
                return label.text
        return key

    def text(self, key):
        """The raw text for ``key``: the widget's override, else the file's."""
        return self.overrides.get(key) or self.file_text(key)

    def __call__(self, key, **values):
        for text in (self.text(key), self.file_text(key)):
            if "<broken>" not in placeholders(text):
                try:
                    return text.format_map(values)  # also turns {{ into {
                except (KeyError, ValueError, IndexError):
                    continue  # a placeholder without a value: try the file's text
        return self.file_text(key)


def resolve_language(default, follow_browser=False, requested=None, accept_languages=()):
    """The language a visitor gets: the host page's request, else (when the widget follows the
    browser) the first browser language with a file, else the widget's default."""
    codes = language_codes()

    def known(tag):
        language, _, region = (tag or "").strip().replace("-", "_").partition("_")
        for candidate in (f"{language.lower()}_{region.upper()}", language.lower()):
            if candidate in codes:
                return candidate
        return None

    if known(requested):
        return known(requested)
    if follow_browser:
        for tag in accept_languages:
            if known(tag):
                return known(tag)
    return default if default in codes else SOURCE_LANGUAGE


def override_problem(text, file_text):
    """Why an override cannot replace ``file_text``, or None: placeholders must match."""
    have, want = placeholders(text), placeholders(file_text)
    if have == want:
        return None
    if "<broken>" in have:
        return "Write placeholders exactly like {name}: a closed brace, a plain name, nothing else."
    missing = sorted(want - have)
    unknown = sorted(have - want)
    parts = []
    if missing:
        parts.append("keep " + ", ".join("{" + name + "}" for name in missing))
    if unknown:
        parts.append("remove unknown " + ", ".join("{" + name + "}" for name in unknown))
    return "Placeholders must match the original: " + " and ".join(parts) + "."


def check_languages(directory=None):
    """Problems per language: missing keys, keys English no longer has, placeholder mismatches."""
    source = load_language(SOURCE_LANGUAGE, directory)
    report = {}
    for code in language_codes(directory):
        entries = load_language(code, directory)
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


labels_cli = AppGroup("labels", help="Check the widget's language files, or start a new one.")


@labels_cli.command("check")
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path))
def check_command(directory):
    """List each language's problems; exit non-zero when any language is incomplete."""
    report = check_languages(directory)
    for code, problems in report.items():
        status = "complete" if not problems else f"{len(problems)} problem(s)"
        click.echo(f"{code}: {status}")
        for problem in problems:
            click.echo(f"  - {problem}")
    if any(report.values()):
        raise SystemExit(1)


@labels_cli.command("new")
@click.argument("code")
def new_language_command(code):
    """Start languages/CODE.po from English: every label, with an empty translation."""
    if not re.fullmatch(r"[a-z]{2,3}(_[A-Z]{2})?", code):
        raise click.ClickException("Use a language code such as pt or pt_BR.")
    try:
        Locale.parse(code)
    except (ValueError, LookupError, UnknownLocaleError) as error:
        raise click.ClickException(f"{code} is not a language Babel knows.") from error
    target = LANGUAGES_DIR / f"{code}.po"
    if target.exists():
        raise click.ClickException(f"{target} already exists.")
    with (LANGUAGES_DIR / f"{SOURCE_LANGUAGE}.po").open("rb") as handle:
        catalog = read_po(handle, locale=SOURCE_LANGUAGE)
    catalog.locale = Locale.parse(code)
    for message in catalog:
        if message.id:
            message.string = ""
    with target.open("wb") as handle:
        write_po(handle, catalog, width=100)
    click.echo(f"Wrote {target}: translate each msgstr, then run `flask --app app labels check`.")
