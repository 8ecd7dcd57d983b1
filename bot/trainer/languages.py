"""The brand's languages as the trainer's loop uses them (names from `bot.language.names`)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.language.names import language_name, named

__all__ = ["brand_languages", "language_name", "named"]


def brand_languages(languages: Sequence[str] | None = None) -> tuple[str, ...]:
    """`languages` when given, else the brand's (brand.yml, the default first)."""
    if languages is not None:
        return tuple(languages)
    from bot.settings import get_brand

    return tuple(get_brand().languages)
