"""A widget's looks and an agent's face: the accent colour's contrast, and uploaded images.

Pure functions, so the settings forms, the account page and the tests share one rule each.
"""

import re

DEFAULT_ACCENT = "#2d5be3"
MIN_CONTRAST = 4.5  # WCAG AA for normal text: white text on the accent colour
IMAGE_MAX_BYTES = 200 * 1024
HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")

# What an image's first bytes say it is. SVG is absent on purpose: it can carry script.
IMAGE_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


class ImageProblem(ValueError):
    """An upload that cannot be a logo or an avatar; the message says why, for the form."""


def relative_luminance(hex_colour):
    """WCAG 2 relative luminance of ``#rrggbb``."""
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    red, green, blue = linear
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_with_white(hex_colour):
    """The WCAG contrast ratio of white text on ``hex_colour`` (1 to 21)."""
    return 1.05 / (relative_luminance(hex_colour) + 0.05)


def accent_problem(text):
    """Why ``text`` cannot be the accent colour, or None; white text must stay readable on it."""
    if not HEX_COLOUR.fullmatch(text or ""):
        return "Enter a colour as # and six hex digits, such as #2d5be3."
    ratio = contrast_with_white(text)
    if ratio < MIN_CONTRAST:
        return (
            f"White text on {text} has a contrast of {ratio:.1f}:1; it needs at least "
            f"{MIN_CONTRAST}:1 to be readable. Choose a darker colour."
        )
    return None


def image_type(data):
    """The content type of an uploaded PNG, JPEG or WebP image, told by its bytes.

    Raises ``ImageProblem`` for anything else (SVG first: it can carry script), or when too big.
    """
    if len(data) > IMAGE_MAX_BYTES:
        raise ImageProblem(f"The image is {len(data) // 1024} KB; keep it under 200 KB.")
    head = data[:512].lstrip().lower()
    if head.startswith((b"<?xml", b"<svg", b"<!doctype svg")) or b"<svg" in head:
        raise ImageProblem("SVG images are refused: they can carry script. Use PNG, JPEG or WebP.")
    for signature, content_type in IMAGE_SIGNATURES:
        if data.startswith(signature):
            return content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    raise ImageProblem("That file is not a PNG, JPEG or WebP image.")


def initials(name):
    """Up to two initials for a default avatar: "Sam Lee" -> "SL"."""
    words = [word for word in (name or "").split() if word[:1].isalnum()]
    return "".join(word[0] for word in words[:2]).upper() or "?"
