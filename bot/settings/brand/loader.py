"""Read brand.yml into the typed :class:`Brand`, or report the exact key that is wrong.

A brand edits ``brand.yml``, never the code. :func:`load_brand` reads that file once,
checks every value, and returns frozen dataclasses the rest of the bot can trust.
Any mistake raises :class:`BrandError` with the file name and the exact key path
that is wrong (``office_hours.monday[1]``, ``shipping.zones[2].cost``...), so the
person editing the file knows what to fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from bot.settings.brand.messenger_profile import _messenger
from bot.settings.brand.model import Brand
from bot.settings.brand.problems import BrandError, _Problem, _show
from bot.settings.brand.section_checks import (
    _contact,
    _holidays,
    _languages,
    _office_hours,
    _refunds,
    _retention_days,
    _returns,
    _shipping,
    _web_chat,
)
from bot.settings.brand.strict_yaml import _BrandLoader
from bot.settings.brand.value_checks import (
    _LANGUAGES,
    _fields,
    _text,
    _timezone,
    _url,
    _whole,
)

DEFAULT_BRAND_PATH = Path(__file__).resolve().parents[3] / "brand.yml"
"""Where the project keeps its ``brand.yml`` (the repository root)."""


_TOP_LEVEL = (
    "brand",
    "timezone",
    "office_hours",
    "holidays",
    "answer_within_minutes_when_open",
    "retention_days",
    "shipping",
    "returns",
    "refunds",
    "contact",
    "messenger",
    "web_chat",
)


def _brand(data: object) -> Brand:
    """Validate the whole document and build the :class:`Brand`."""
    if not isinstance(data, Mapping):
        raise _Problem("(top level)", f"expected a mapping of keys, got {_show(data)}")
    fields = _fields(data, "", _TOP_LEVEL)
    identity = _fields(fields["brand"], "brand",
                       ("name", "bot_name", "avatar_url", "languages", "default_language"))
    languages = _languages(identity["languages"], "brand.languages")
    default = _text(identity["default_language"], "brand.default_language")
    if default not in languages:
        raise _Problem("brand.default_language",
                       f"{_show(default)} is not in brand.languages ({', '.join(languages)})")
    languages = (default, *(code for code in languages if code != default))
    token = _LANGUAGES.set(languages)
    try:
        return _brand_facts(fields, identity, languages)
    finally:
        _LANGUAGES.reset(token)


def _brand_facts(fields: dict[str, Any], identity: dict[str, Any],
                 languages: tuple[str, ...]) -> Brand:
    """Build the :class:`Brand` once the languages are known."""
    return Brand(
        name=_text(identity["name"], "brand.name"),
        bot_name=_text(identity["bot_name"], "brand.bot_name"),
        avatar_url=_url(identity["avatar_url"], "brand.avatar_url"),
        languages=languages,
        timezone=_timezone(fields["timezone"], "timezone"),
        office_hours=_office_hours(fields["office_hours"], "office_hours"),
        holidays=_holidays(fields["holidays"], "holidays"),
        answer_within_minutes_when_open=_whole(
            fields["answer_within_minutes_when_open"], "answer_within_minutes_when_open"
        ),
        retention_days=_retention_days(fields["retention_days"], "retention_days"),
        shipping=_shipping(fields["shipping"], "shipping"),
        returns=_returns(fields["returns"], "returns"),
        refunds=_refunds(fields["refunds"], "refunds"),
        contact=_contact(fields["contact"], "contact"),
        messenger=_messenger(fields["messenger"], "messenger"),
        web_chat=_web_chat(fields["web_chat"], "web_chat"),
    )


def load_brand(path: str | Path) -> Brand:
    """Read, parse and validate a brand file.

    Args:
        path: The brand.yml file.

    Returns:
        The validated brand facts.

    Raises:
        BrandError: If the file cannot be read, is not valid YAML, or any value
            is missing or wrong. The message names the file and the key path.
    """
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise BrandError(file, None, "is not UTF-8 text") from None
    except OSError as error:
        raise BrandError(file, None, f"cannot be read ({error.strerror or error})") from None
    try:
        data = yaml.load(text, Loader=_BrandLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        column = mark.column + 1 if mark else None
        problem = error.problem or error.context or "not valid YAML"
        raise BrandError(file, None, f"invalid YAML: {problem}", line=line, column=column) from None
    except yaml.YAMLError as error:
        raise BrandError(file, None, f"invalid YAML: {error}") from None
    if data is None:
        raise BrandError(file, None, "the file is empty")
    try:
        return _brand(data)
    except _Problem as problem:
        raise BrandError(file, problem.key_path, problem.problem) from None
