"""A conversation's language as the desk shows it: a short badge ("IT") and its name.

The desk is in English; the names come from CLDR through Babel ("it" is "Italian"), so a
third brand language needs no code here. Knows nothing of HTTP.
"""

from __future__ import annotations

import html

from bot.language.names import language_name

__all__ = ["language_badge", "language_label", "language_name", "language_tag"]


def language_badge(code: str) -> str:
    """A small "IT" badge, its name as a tooltip and for screen readers (markup, escaped)."""
    name = html.escape(language_name(code))
    return (f'<span class="lang" title="{name}"><span aria-hidden="true">'
            f'{html.escape(code.upper() or "?")}</span><span class="sr-only">{name}</span></span>')


def language_tag(code: str) -> str:
    """The badge alone, for the eye only: where the name is written beside it (markup)."""
    return f'<span class="lang" aria-hidden="true">{html.escape(code.upper() or "?")}</span>'


def language_label(code: str) -> str:
    """The badge followed by the name, where there is room for both (markup, escaped)."""
    return f"{language_tag(code)} {html.escape(language_name(code))}"
