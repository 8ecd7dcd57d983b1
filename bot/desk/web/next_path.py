"""Where a login may send the browser next: only a plain path on this desk."""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote, urlsplit

NEXT_MAX_LENGTH = 512
_BROWSERS_DROP = str.maketrans("", "", "\t\r\n")  # what browsers strip from a URL anywhere


def safe_next(target: str | None) -> str:
    """Where a login may go next: only a plain path on this desk, else "/".

    The value must be printable ASCII without spaces (no control characters, tabs or line
    breaks that browsers drop, no look-alike slashes), at most `NEXT_MAX_LENGTH` long, start
    with one "/" not followed by another, and hold no backslash; it may have no scheme and
    no host. The same holds after each of up to three rounds of percent-decoding, so
    ``/%2F%2Fevil`` and ``/%09/evil`` are refused too, whoever decodes them on the way.
    """
    if not target or len(target) > NEXT_MAX_LENGTH:
        return "/"
    if not all("!" <= character <= "~" for character in target):
        return "/"
    candidate = target
    for _ in range(4):
        if not _plain_path(candidate):
            return "/"
        decoded = unquote(candidate)
        if decoded == candidate:
            return target
        candidate = decoded
    return "/"  # still encoded after three rounds: nothing a desk link looks like


def _plain_path(value: str) -> bool:
    """A path of this site, also once browsers have dropped tabs and line breaks."""
    if any(unicodedata.category(character) == "Cc" for character in value):
        return False
    stripped = value.translate(_BROWSERS_DROP)
    if not stripped.startswith("/") or stripped[1:2] == "/" or "\\" in stripped:
        return False
    parts = urlsplit(stripped)
    return not parts.scheme and not parts.netloc
