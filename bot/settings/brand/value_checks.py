"""Checks of single values in brand.yml: keys, texts, numbers, times, days, links.

Each check returns the value in its typed form or raises :class:`_Problem` at its key path.
Texts with words are given in every brand language (:func:`_localized`).
"""

from __future__ import annotations

import contextvars
import difflib
import math
import re
from collections.abc import Mapping
from datetime import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.settings.brand.model import Localized
from bot.settings.brand.problems import _item, _key, _Problem, _show


def _fields(value: object, path: str, names: tuple[str, ...]) -> dict[str, Any]:
    """Check a mapping has exactly the expected keys and return it.

    Args:
        value: The YAML value.
        path: Its key path.
        names: The keys it must have, in the order to report missing ones.

    Returns:
        The mapping.

    Raises:
        _Problem: If it is not a mapping, has an unknown key or misses one.
    """
    mapping = _mapping(value, path)
    for name in mapping:
        if name not in names:
            hint = difflib.get_close_matches(str(name), names, n=1)
            suggestion = (
                f"did you mean {hint[0]}?" if hint else f"expected one of {', '.join(names)}"
            )
            raise _Problem(_key(path, name), f"unknown key ({suggestion})")
    for name in names:
        if name not in mapping:
            raise _Problem(_key(path, name), "missing")
    return mapping


def _mapping(value: object, path: str) -> dict[Any, Any]:
    """Require a mapping."""
    if not isinstance(value, dict):
        raise _Problem(path, f"expected a mapping of keys, got {_show(value)}")
    return value


def _list(value: object, path: str) -> list[Any]:
    """Require a list."""
    if not isinstance(value, list):
        raise _Problem(path, f"expected a list, got {_show(value)}")
    return value


def _text(value: object, path: str) -> str:
    """Require non-empty text and return it stripped."""
    if not isinstance(value, str):
        raise _Problem(path, f"expected text, got {_show(value)}")
    if not value.strip():
        raise _Problem(path, "must not be empty")
    return value.strip()


def _texts(value: object, path: str, *, allow_empty: bool = True) -> tuple[str, ...]:
    """Require a list of non-empty texts."""
    items = _list(value, path)
    if not items and not allow_empty:
        raise _Problem(path, "must list at least one item")
    return tuple(_text(item, _item(path, index)) for index, item in enumerate(items))


_LANGUAGES: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "brand_languages", default=("en",)
)
"""The brand's languages while its file is parsed: every text with words needs them all."""


def _localized(value: object, path: str, parse: Any) -> Localized[Any]:
    """A fact given per language ("it: ...", "en: ..."), each form checked by `parse`."""
    languages = _LANGUAGES.get()
    example = ", ".join(f"{code}: ..." for code in languages)
    if not isinstance(value, Mapping):
        raise _Problem(path, f"give it in every brand language ({example}), got {_show(value)}")
    for code in value:
        if code not in languages:
            raise _Problem(_key(path, code), f"is not a brand language ({', '.join(languages)})")
    for code in languages:
        if code not in value:
            raise _Problem(_key(path, code), "missing: every brand language needs its form")
    return Localized({code: parse(value[code], _key(path, code)) for code in languages})


def _localized_text(value: object, path: str) -> Localized[str]:
    """A text given in every brand language."""
    return _localized(value, path, _text)


def _number(value: object, path: str) -> float:
    """Require a finite, non-negative number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Problem(path, f"expected a number, got {_show(value)}")
    if not math.isfinite(value):
        raise _Problem(path, f"expected a finite number, got {_show(value)}")
    if value < 0:
        raise _Problem(path, f"must not be negative, got {_show(value)}")
    return float(value)


def _whole(value: object, path: str) -> int:
    """Require a non-negative whole number."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Problem(path, f"expected a whole number, got {_show(value)}")
    if value < 0:
        raise _Problem(path, f"must not be negative, got {_show(value)}")
    return value


def _flag(value: object, path: str) -> bool:
    """Require true or false."""
    if not isinstance(value, bool):
        raise _Problem(path, f"expected true or false, got {_show(value)}")
    return value


_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")
_DAYS = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")


def _parse_clock(text: str) -> time | None:
    """Parse ``HH:MM`` (24-hour) or return ``None``."""
    match = _CLOCK.match(text)
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def _clock(value: object, path: str) -> time:
    """Require a time of day like ``13:00``."""
    parsed = _parse_clock(value) if isinstance(value, str) else None
    if parsed is None:
        raise _Problem(path, f'expected a time like "13:00", got {_show(value)}')
    return parsed


def _days(value: object, path: str) -> str:
    """Require a number of days like ``1`` or a range like ``5-10``."""
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    match = _DAYS.match(text) if isinstance(text, str) else None
    if not match:
        raise _Problem(path, f'expected a number of days like "5-10" or "1", got {_show(value)}')
    low, high = match.group(1), match.group(2)
    if high is None:
        return str(int(low))
    if int(high) < int(low):
        raise _Problem(path, f"{_show(value)} ends before it starts")
    return f"{int(low)}-{int(high)}"


def _url(value: object, path: str) -> str:
    """Require an http(s) URL."""
    text = _text(value, path)
    if not re.match(r"^https?://\S+$", text):
        raise _Problem(path, f"expected a web address starting with https://, got {_show(value)}")
    return text


def _timezone(value: object, path: str) -> ZoneInfo:
    """Require a known IANA time zone name."""
    name = _text(value, path)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise _Problem(path, f"unknown time zone {_show(name)}") from None
