"""Languages named for the team (desk, trainer, reports): "it" is "Italian".

The names come from CLDR through Babel, in English (the team's tools are in English), so a
third brand language needs no code.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from babel import Locale

_TEAM_LOCALE = Locale.parse("en")


@cache
def language_name(code: str) -> str:
    """The language's English name ("Italian"); the code itself when CLDR has none."""
    return _TEAM_LOCALE.languages.get(code.replace("-", "_"), code) if code else "unknown"


def named(codes: Iterable[str]) -> str:
    """Languages for a sentence: "Italian (it), English (en)"."""
    return ", ".join(f"{language_name(code)} ({code})" for code in codes)
