"""The per-language words of `wording.yml`: the pieces the code puts inside responses.

Loaded once and checked: every brand language has a section, every section has the same keys
as the others with the same `{placeholders}`, and every locale is one CLDR knows.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from babel import Locale, UnknownLocaleError

__all__ = ["Wording", "WordingError", "load_wording"]


class WordingError(ValueError):
    """wording.yml is missing, malformed, or lacks a language or a key."""


def _flatten(value: Any, path: str, into: dict[str, str]) -> None:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            _flatten(inner, f"{path}.{key}" if path else str(key), into)
    elif isinstance(value, str):
        into[path] = value
    else:
        raise WordingError(f"{path}: expected a text or a mapping, got {type(value).__name__}")


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


@dataclass(frozen=True)
class Wording:
    """The words of every language, by dotted key ("when.tomorrow")."""

    words: Mapping[str, Mapping[str, str]]

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages with a section."""
        return tuple(self.words)

    def get(self, language: str, key: str, **values: Any) -> str:
        """The words for `key` in `language`, with `values` filled in.

        Raises:
            KeyError: for a language or key the file does not have.
        """
        text = self.words[language][key]
        return text.format(**values) if values else text

    def locale(self, language: str) -> Locale:
        """The CLDR locale the language's dates and amounts are written in."""
        return Locale.parse(self.words[language]["locale"])


def load_wording(path: str | Path, languages: Sequence[str]) -> Wording:
    """Reads and checks wording.yml for the brand's `languages`.

    Raises:
        WordingError: with the language and key that are wrong.
    """
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise WordingError(f"{path}: {error}") from None
    if not isinstance(data, Mapping):
        raise WordingError(f"{path}: expected a mapping of languages")
    words: dict[str, dict[str, str]] = {}
    for language in languages:
        if language not in data:
            raise WordingError(f"{path}: no section for the brand language {language!r}")
        flat: dict[str, str] = {}
        _flatten(data[language], "", flat)
        words[language] = flat
    reference_language = languages[0]
    reference = words[reference_language]
    for language, flat in words.items():
        for key in sorted(set(reference) ^ set(flat)):
            missing_in = language if key in reference else reference_language
            raise WordingError(f"{path}: {missing_in}.{key} is missing")
        for key, text in flat.items():
            if _placeholders(text) != _placeholders(reference[key]):
                raise WordingError(
                    f"{path}: {language}.{key} uses {sorted(_placeholders(text))}, "
                    f"{reference_language}.{key} uses {sorted(_placeholders(reference[key]))}"
                )
        if "locale" not in flat:
            raise WordingError(f"{path}: {language}.locale is missing")
        try:
            Locale.parse(flat["locale"])
        except (UnknownLocaleError, ValueError):
            raise WordingError(f"{path}: {language}.locale {flat['locale']!r} is unknown") from None
    return Wording(words)
