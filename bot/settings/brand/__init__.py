"""Load and validate the brand's facts file (``brand.yml``) into typed settings.

A brand edits ``brand.yml``, never the code. This module reads that file once,
checks every value, and returns frozen dataclasses the rest of the bot can trust.
Any mistake raises :class:`BrandError` with the file name and the exact key path
that is wrong (``office_hours.monday[1]``, ``shipping.zones[2].cost``...), so the
person editing the file knows what to fix.
"""

from __future__ import annotations

import contextvars
import difflib
import json
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time
from itertools import pairwise
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

__all__ = [
    "DEFAULT_BRAND_PATH",
    "Brand",
    "BrandError",
    "Contact",
    "Express",
    "GREETING_PLACEHOLDERS",
    "HUMAN_REQUEST_PAYLOAD",
    "IceBreaker",
    "Localized",
    "MenuItem",
    "MessengerProfile",
    "Refunds",
    "Returns",
    "Shift",
    "Shipping",
    "ShippingZone",
    "WebChatTexts",
    "WEEKDAYS",
    "country_key",
    "format_money",
    "load_brand",
]

DEFAULT_BRAND_PATH = Path(__file__).resolve().parents[3] / "brand.yml"
"""Where the project keeps its ``brand.yml`` (the repository root)."""

HUMAN_REQUEST_PAYLOAD = "/human_request"
"""The payload of the persistent menu's "Talk to a person" item (the ``human_request`` intent)."""

GREETING_PLACEHOLDERS = ("{{user_first_name}}", "{{user_last_name}}", "{{user_full_name}}")
"""The template strings Messenger fills in a greeting with the customer's name."""

T = TypeVar("T")


@dataclass(frozen=True)
class Localized(Generic[T]):
    """A brand fact with words in it, in every language the brand answers in.

    Attributes:
        by_language: the fact per ISO 639-1 code, every brand language present.
    """

    by_language: Mapping[str, T]

    def of(self, language: str | None) -> T:
        """The fact in `language`; in the brand's first language when it has no such form."""
        if language in self.by_language:
            return self.by_language[language]
        return next(iter(self.by_language.values()))


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
"""Weekday keys of ``office_hours``, in ``date.weekday()`` order (0 = Monday)."""


class BrandError(ValueError):
    """A problem in the brand file, reported with the file and the key path.

    The message always reads ``<file>: <where>: <problem>``, for example
    ``brand.yml: returns.window_days: missing``. ``<where>`` is the key path, or
    ``line N, column M`` for YAML syntax errors, and is left out for problems
    with the file as a whole (unreadable, empty).

    Attributes:
        file: The file name as it was given to :func:`load_brand`.
        key_path: The dotted key path that is wrong, or ``None``.
        problem: What is wrong, in plain words.
        line: 1-based line number for YAML syntax errors, else ``None``.
    """

    def __init__(
        self,
        file: str,
        key_path: str | None,
        problem: str,
        *,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        """Build the error and its message.

        Args:
            file: The file name to show.
            key_path: The key path that is wrong, if known.
            problem: What is wrong.
            line: 1-based line of a syntax error, if any.
            column: 1-based column of a syntax error, if any.
        """
        where = key_path
        if where is None and line is not None:
            where = f"line {line}" if column is None else f"line {line}, column {column}"
        super().__init__(": ".join(part for part in (file, where, problem) if part))
        self.file = file
        self.key_path = key_path
        self.problem = problem
        self.line = line


@dataclass(frozen=True)
class Shift:
    """One stretch of office hours on a weekday, in the brand's time zone.

    Attributes:
        start: When the shift starts (inclusive).
        end: When the shift ends (exclusive); always after ``start``.
    """

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        """Tell whether a wall-clock time falls inside the shift.

        Args:
            moment: A local wall-clock time.

        Returns:
            True when ``start <= moment < end``.
        """
        return self.start <= moment < self.end

    def __str__(self) -> str:
        """Show the shift the way brand.yml writes it, e.g. ``09:00-13:00``."""
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True)
class ShippingZone:
    """A group of countries sharing the same delivery time and cost.

    Attributes:
        name: The zone's display name, per language.
        countries: Country names as written in brand.yml.
        delivery_days: Working days to deliver, e.g. ``"3-5"`` or ``"1"``.
        cost: Standard shipping cost in the shipping currency.
    """

    name: Localized[str]
    countries: tuple[str, ...]
    delivery_days: str
    cost: float


@dataclass(frozen=True)
class Express:
    """The express delivery option.

    Attributes:
        available: Whether express delivery is offered at all.
        delivery_days: Working days to deliver, e.g. ``"1"``.
        cost: Express shipping cost in the shipping currency.
        countries: Countries express delivery goes to.
        order_before: Local cut-off time for same-day dispatch.
    """

    available: bool
    delivery_days: str
    cost: float
    countries: tuple[str, ...]
    order_before: time


@dataclass(frozen=True)
class Shipping:
    """Shipping facts: currency, zones, carriers and express delivery.

    Attributes:
        currency: ISO 4217 code, e.g. ``"EUR"``.
        free_shipping_threshold: Order total from which standard shipping is free.
        carriers: Carrier names.
        zones: Shipping zones; a country is in at most one zone.
        express: The express delivery option.
    """

    currency: str
    free_shipping_threshold: float
    carriers: tuple[str, ...]
    zones: tuple[ShippingZone, ...]
    express: Express

    def zone_for(self, country: str) -> ShippingZone | None:
        """Find the zone that ships to a country.

        Matching ignores case, accents, surrounding spaces and a leading
        "the", and knows common variants such as "UK", "USA", "Deutschland"
        or "Holland".

        Args:
            country: A country name as a customer may write it.

        Returns:
            The matching zone, or ``None`` when no zone ships there.
        """
        key = country_key(country)
        if not key:
            return None
        for zone in self.zones:
            if any(country_key(listed) == key for listed in zone.countries):
                return zone
        return None

    def express_for(self, country: str) -> bool:
        """Tell whether express delivery is offered to a country.

        Args:
            country: A country name as a customer may write it.

        Returns:
            True when express is available and lists that country.
        """
        key = country_key(country)
        if not key or not self.express.available:
            return False
        return any(country_key(listed) == key for listed in self.express.countries)


@dataclass(frozen=True)
class Returns:
    """Return policy.

    Attributes:
        window_days: Days after delivery within which items can be returned.
        conditions: Conditions a return must meet, one sentence each.
        label: How the customer gets the return label.
        label_cost: What the return label costs (0 when free).
        exchanges: How exchanges work.
    """

    window_days: int
    conditions: Localized[tuple[str, ...]]
    label: Localized[str]
    label_cost: float
    exchanges: Localized[str]


@dataclass(frozen=True)
class Refunds:
    """Refund timing.

    Attributes:
        days_by_payment_method: Working days for the money to arrive, by
            payment method (``card``, ``paypal``...), as ``"5-10"`` or ``"1"``.
    """

    days_by_payment_method: dict[str, str]


@dataclass(frozen=True)
class Contact:
    """Ways to reach a person.

    Attributes:
        email: Support e-mail address.
        phone: Support phone number as it should be shown.
        messenger: Messenger link.
        website: Help-centre web page.
    """

    email: str
    phone: str
    messenger: str
    website: str


@dataclass(frozen=True)
class IceBreaker:
    """A question offered to a customer who opens the conversation for the first time.

    Attributes:
        question: What the customer sees and taps (at most 80 characters).
        payload: The intent trigger sent to the bot when tapped, e.g. ``"/order_status"``.
    """

    question: Localized[str]
    payload: str


@dataclass(frozen=True)
class MenuItem:
    """One item of the persistent menu: a postback to the bot or a link to a web page.

    Exactly one of ``payload`` and ``url`` is set.

    Attributes:
        title: What the menu shows (at most 30 characters).
        payload: The intent trigger sent to the bot when tapped, e.g. ``"/human_request"``.
        url: The https web page the item opens.
    """

    title: Localized[str]
    payload: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class MessengerProfile:
    """What the page's Messenger Profile shows: greeting, ice breakers, persistent menu.

    The Get Started button is not configured here: it always sends the payload the
    Messenger channel turns into a greeting.

    Attributes:
        greeting: The welcome-screen text (at most 160 characters); it says the customer is
            talking to an automated assistant and may use ``{{user_first_name}}``.
        ice_breakers: One to four questions for a first conversation.
        persistent_menu: One to twenty items, one of them ``"/human_request"``.
        order_card_image: The picture on an order's card (Messenger's generic template and
            the web chat): an https address where ``{sku}`` stands for the product code of
            the order's first item on its way.
    """

    greeting: Localized[str]
    ice_breakers: tuple[IceBreaker, ...]
    persistent_menu: tuple[MenuItem, ...]
    order_card_image: str = ""

    def order_card_image_for(self, sku: str | None) -> str:
        """The card picture for a product code; empty when there is no product to show."""
        if not sku or not self.order_card_image:
            return ""
        return self.order_card_image.replace("{sku}", quote(sku, safe=""))


WEB_CHAT_TEXTS = (
    "status", "new_chat", "new_chat_hint", "your_name", "message_label", "send", "menu",
    "retry", "open", "card_button", "team", "typing", "not_delivered", "unreachable",
)
"""The web chat page's own words (brand.yml `web_chat`), each given in every language."""


@dataclass(frozen=True)
class WebChatTexts:
    """The web chat page's words, by key of `WEB_CHAT_TEXTS`, in every brand language."""

    texts: Mapping[str, Localized[str]]

    def for_language(self, language: str) -> dict[str, str]:
        """Every text of the page in one language."""
        return {key: text.of(language) for key, text in self.texts.items()}


@dataclass(frozen=True)
class Brand:
    """Everything brand.yml says, validated.

    Attributes:
        name: The brand's name.
        bot_name: The bot's display name.
        avatar_url: The bot's avatar image URL.
        languages: The languages the brand answers in (ISO 639-1), the default first.
        timezone: The brand's time zone.
        office_hours: Shifts per weekday (0 = Monday ... 6 = Sunday), sorted,
            non-overlapping; an empty tuple means closed. All seven days present.
        holidays: Dates the team is closed all day.
        answer_within_minutes_when_open: Usual answer time for a handed-off
            case while the team is open.
        retention_days: How long conversations, tickets and logs are kept; older ones are
            erased (`bot.privacy.retention`).
        shipping: Shipping facts.
        returns: Return policy.
        refunds: Refund timing.
        contact: Contact details.
        messenger: The page's Messenger Profile (greeting, ice breakers, menu).
    """

    name: str
    bot_name: str
    avatar_url: str
    languages: tuple[str, ...]
    timezone: ZoneInfo
    office_hours: dict[int, tuple[Shift, ...]]
    holidays: frozenset[date]
    answer_within_minutes_when_open: int
    retention_days: int
    shipping: Shipping
    returns: Returns
    refunds: Refunds
    contact: Contact
    messenger: MessengerProfile
    web_chat: WebChatTexts

    @property
    def language(self) -> str:
        """The default language: a conversation's language until the customer's words tell."""
        return self.languages[0]


# --------------------------------------------------------------------------- money

_CURRENCY_SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$"}


def format_money(amount: float, currency: str) -> str:
    """Format an amount for a customer, e.g. ``€9.90`` or ``9.90 CHF``.

    Euro, pound and dollar amounts get their symbol in front; other currencies
    get their code after the number. Two decimals, comma thousands separator.

    Args:
        amount: The amount.
        currency: ISO 4217 code (any case).

    Returns:
        The formatted amount.
    """
    code = currency.strip().upper()
    digits = f"{abs(amount):,.2f}"
    sign = "-" if amount < 0 and digits.strip("0.,") else ""
    symbol = _CURRENCY_SYMBOLS.get(code)
    if symbol:
        return f"{sign}{symbol}{digits}"
    return f"{sign}{digits} {code}"


# ------------------------------------------------------------------------ countries

_COUNTRY_ALIASES = {
    "uk": "united kingdom",
    "gb": "united kingdom",
    "great britain": "united kingdom",
    "britain": "united kingdom",
    "england": "united kingdom",
    "scotland": "united kingdom",
    "wales": "united kingdom",
    "northern ireland": "united kingdom",
    "us": "united states",
    "usa": "united states",
    "america": "united states",
    "united states of america": "united states",
    "deutschland": "germany",
    "italia": "italy",
    "espana": "spain",
    "holland": "netherlands",
    "nederland": "netherlands",
    "schweiz": "switzerland",
    "suisse": "switzerland",
    "svizzera": "switzerland",
    "osterreich": "austria",
    "belgique": "belgium",
    "belgie": "belgium",
    "polska": "poland",
    "sverige": "sweden",
    "danmark": "denmark",
    "norge": "norway",
    "eire": "ireland",
    "nippon": "japan",
    "nihon": "japan",
}


def country_key(name: str) -> str:
    """Reduce a country name to a comparable key.

    Lower-cases, drops accents, dots and a leading "the", collapses spaces and
    maps known variants to one English name ("U.S.A." and "America" both give
    ``"united states"``).

    Args:
        name: A country name.

    Returns:
        The key; empty for a blank name.
    """
    if not isinstance(name, str):
        return ""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    words = plain.replace(".", "").split()
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    key = " ".join(words)
    return _COUNTRY_ALIASES.get(key, key)


# ----------------------------------------------------------------------------- YAML


class _BrandLoader(yaml.SafeLoader):
    """Safe YAML loader tuned for brand.yml.

    Unlike PyYAML's default, it keeps ``13:00`` as text (not the base-60
    number 780) and dates as text (so a bad date is reported with its key
    instead of crashing the parser), and it rejects a key written twice.
    """

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict[Any, Any]:
        """Build a mapping, refusing duplicate keys.

        Args:
            node: The mapping node.
            deep: Whether to build nested values immediately.

        Returns:
            The mapping.

        Raises:
            yaml.constructor.ConstructorError: If a key appears twice.
        """
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, _ in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    continue
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                if key_node.value in seen:
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f'the key "{key_node.value}" is written twice',
                        key_node.start_mark,
                    )
                seen.add(key_node.value)
        return super().construct_mapping(node, deep=deep)


def _configure_loader() -> None:
    """Replace the number and date resolvers of :class:`_BrandLoader`."""
    replaced = {"tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp"}
    _BrandLoader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in replaced]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    whole = re.compile(r"^[-+]?(?:0|[1-9][0-9_]*)$")
    decimal = re.compile(
        r"^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    )
    _BrandLoader.add_implicit_resolver("tag:yaml.org,2002:int", whole, list("-+0123456789"))
    _BrandLoader.add_implicit_resolver("tag:yaml.org,2002:float", decimal, list("-+0123456789."))


_configure_loader()


# ------------------------------------------------------------------------ validation


class _Problem(Exception):
    """A validation failure at a key path; turned into :class:`BrandError`."""

    def __init__(self, key_path: str, problem: str) -> None:
        """Remember where and what.

        Args:
            key_path: The key path that is wrong.
            problem: What is wrong.
        """
        super().__init__(f"{key_path}: {problem}")
        self.key_path = key_path
        self.problem = problem


def _key(path: str, name: object) -> str:
    """Extend a key path with a mapping key."""
    return f"{path}.{name}" if path else str(name)


def _item(path: str, index: int) -> str:
    """Extend a key path with a list index."""
    return f"{path}[{index}]"


def _show(value: object) -> str:
    """Describe a YAML value for an error message."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


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
_ISO_DATE = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*$")
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")


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


def _shift(value: object, path: str) -> Shift:
    """Parse one shift ``HH:MM-HH:MM``."""
    parts = value.split("-") if isinstance(value, str) else []
    clocks = [_parse_clock(part) for part in parts]
    if len(clocks) != 2 or clocks[0] is None or clocks[1] is None:
        raise _Problem(path, f'expected a shift like "09:00-13:00", got {_show(value)}')
    start, end = clocks
    if end == start:
        raise _Problem(path, f"{_show(value)} is empty (it starts and ends at the same time)")
    if end < start:
        raise _Problem(path, f"{_show(value)} ends before it starts")
    return Shift(start, end)


def _day_shifts(value: object, path: str) -> tuple[Shift, ...]:
    """Parse one weekday's shifts, sorted; overlapping shifts are refused."""
    if value is None:
        return ()
    items = _list(value, path)
    parsed = [(_shift(item, _item(path, index)), index) for index, item in enumerate(items)]
    parsed.sort(key=lambda pair: (pair[0].start, pair[1]))
    for (earlier, earlier_index), (later, later_index) in pairwise(parsed):
        if later.start < earlier.end:
            # Report the shift written further down the list, naming the one it clashes with.
            if later_index > earlier_index:
                index, other = later_index, earlier
            else:
                index, other = earlier_index, later
            raise _Problem(_item(path, index), f'{_show(items[index])} overlaps "{other}"')
    return tuple(shift for shift, _ in parsed)


def _office_hours(value: object, path: str) -> dict[int, tuple[Shift, ...]]:
    """Parse ``office_hours`` into shifts per weekday number."""
    mapping = _mapping(value, path)
    days: dict[int, tuple[Shift, ...]] = {}
    for name, shifts in mapping.items():
        normal = name.strip().lower() if isinstance(name, str) else None
        if normal not in WEEKDAYS:
            raise _Problem(
                _key(path, name), f"{_show(name)} is not a weekday (expected {', '.join(WEEKDAYS)})"
            )
        weekday = WEEKDAYS.index(normal)
        if weekday in days:
            raise _Problem(_key(path, name), f"{normal} is given twice")
        days[weekday] = _day_shifts(shifts, _key(path, name))
    for weekday, name in enumerate(WEEKDAYS):
        if weekday not in days:
            raise _Problem(_key(path, name), "missing (use [] for a day the team is closed)")
    return dict(sorted(days.items()))


def _holidays(value: object, path: str) -> frozenset[date]:
    """Parse the list of holiday dates."""
    if value is None:
        return frozenset()
    found: set[date] = set()
    for index, item in enumerate(_list(value, path)):
        where = _item(path, index)
        if isinstance(item, date):
            found.add(item)
            continue
        if not isinstance(item, str) or not _ISO_DATE.match(item):
            raise _Problem(where, f'expected a date like "2026-12-25", got {_show(item)}')
        try:
            found.add(date.fromisoformat(item.strip()))
        except ValueError as error:
            raise _Problem(where, f"{_show(item)} is not a valid date ({error})") from None
    return frozenset(found)


def _zones(value: object, path: str) -> tuple[ShippingZone, ...]:
    """Parse shipping zones; a country may appear in one zone only."""
    items = _list(value, path)
    if not items:
        raise _Problem(path, "must list at least one zone")
    zones: list[ShippingZone] = []
    owners: dict[str, int] = {}
    names: dict[str, int] = {}
    for index, item in enumerate(items):
        where = _item(path, index)
        fields = _fields(item, where, ("name", "countries", "delivery_days", "cost"))
        localized_name = _localized_text(fields["name"], _key(where, "name"))
        name = localized_name.of(None)
        if name.casefold() in names:
            raise _Problem(_key(where, "name"), f"zone {_show(name)} is defined twice")
        names[name.casefold()] = index
        countries = _texts(fields["countries"], _key(where, "countries"), allow_empty=False)
        for position, country in enumerate(countries):
            key = country_key(country)
            if key in owners:
                owner = owners[key]
                raise _Problem(
                    _item(_key(where, "countries"), position),
                    f'{_show(country)} is already in zone "{_zone_name(zones, owner, name)}"'
                    f" ({_item(path, owner)})",
                )
            owners[key] = index
        zones.append(
            ShippingZone(
                name=localized_name,
                countries=countries,
                delivery_days=_days(fields["delivery_days"], _key(where, "delivery_days")),
                cost=_number(fields["cost"], _key(where, "cost")),
            )
        )
    return tuple(zones)


def _zone_name(zones: list[ShippingZone], index: int, current: str) -> str:
    """Name of an already parsed zone, or of the zone being parsed."""
    return zones[index].name.of(None) if index < len(zones) else current


def _express(value: object, path: str, zones: tuple[ShippingZone, ...]) -> Express:
    """Parse the express option; its countries must be in some zone."""
    fields = _fields(
        value, path, ("available", "delivery_days", "cost", "countries", "order_before")
    )
    available = _flag(fields["available"], _key(path, "available"))
    countries = _texts(fields["countries"] or [], _key(path, "countries"))
    if available and not countries:
        raise _Problem(
            _key(path, "countries"), "must list at least one country when express is available"
        )
    shipping_keys = {country_key(country) for zone in zones for country in zone.countries}
    for index, country in enumerate(countries):
        if country_key(country) not in shipping_keys:
            raise _Problem(
                _item(_key(path, "countries"), index),
                f"{_show(country)} is not in any shipping zone",
            )
    return Express(
        available=available,
        delivery_days=_days(fields["delivery_days"], _key(path, "delivery_days")),
        cost=_number(fields["cost"], _key(path, "cost")),
        countries=countries,
        order_before=_clock(fields["order_before"], _key(path, "order_before")),
    )


def _shipping(value: object, path: str) -> Shipping:
    """Parse the ``shipping`` section."""
    fields = _fields(
        value, path, ("currency", "free_shipping_threshold", "carriers", "zones", "express")
    )
    currency = _text(fields["currency"], _key(path, "currency"))
    if not _CURRENCY.match(currency):
        raise _Problem(
            _key(path, "currency"),
            f'expected a three-letter currency code like "EUR", got {_show(currency)}',
        )
    zones = _zones(fields["zones"], _key(path, "zones"))
    return Shipping(
        currency=currency.upper(),
        free_shipping_threshold=_number(
            fields["free_shipping_threshold"], _key(path, "free_shipping_threshold")
        ),
        carriers=_texts(fields["carriers"], _key(path, "carriers")),
        zones=zones,
        express=_express(fields["express"], _key(path, "express"), zones),
    )


def _returns(value: object, path: str) -> Returns:
    """Parse the ``returns`` section."""
    fields = _fields(value, path, ("window_days", "conditions", "label", "label_cost", "exchanges"))
    return Returns(
        window_days=_whole(fields["window_days"], _key(path, "window_days")),
        conditions=_localized(fields["conditions"], _key(path, "conditions"), _texts),
        label=_localized_text(fields["label"], _key(path, "label")),
        label_cost=_number(fields["label_cost"], _key(path, "label_cost")),
        exchanges=_localized_text(fields["exchanges"], _key(path, "exchanges")),
    )


def _refunds(value: object, path: str) -> Refunds:
    """Parse the ``refunds`` section."""
    fields = _fields(value, path, ("days_by_payment_method",))
    where = _key(path, "days_by_payment_method")
    methods = _mapping(fields["days_by_payment_method"], where)
    if not methods:
        raise _Problem(where, "must list at least one payment method")
    days: dict[str, str] = {}
    for method, value_days in methods.items():
        if not isinstance(method, str) or not method.strip():
            raise _Problem(
                _key(where, method), f"expected a payment method name, got {_show(method)}"
            )
        days[method.strip()] = _days(value_days, _key(where, method))
    return Refunds(days_by_payment_method=days)


def _contact(value: object, path: str) -> Contact:
    """Parse the ``contact`` section."""
    fields = _fields(value, path, ("email", "phone", "messenger", "website"))
    email = _text(fields["email"], _key(path, "email"))
    if not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", email):
        raise _Problem(_key(path, "email"), f"expected an e-mail address, got {_show(email)}")
    return Contact(
        email=email,
        phone=_text(fields["phone"], _key(path, "phone")),
        messenger=_url(fields["messenger"], _key(path, "messenger")),
        website=_url(fields["website"], _key(path, "website")),
    )


# ----------------------------------------------------------------------- messenger

MAX_GREETING_LENGTH = 160
MAX_ICE_BREAKERS = 4
MAX_ICE_BREAKER_QUESTION = 80
MAX_MENU_ITEMS = 20
MAX_MENU_TITLE = 30
MAX_PAYLOAD = 1000
MAX_URL = 2000
_PLACEHOLDER = re.compile(r"\{\{.*?\}\}")
_AUTOMATED_WORDING = re.compile(
    r"\b(?:automated|bot|chatbot|(?:virtual|digital|ai)\s+assistant"
    r"|assistente\s+(?:virtuale|automatico|digitale)|automatic[oa])\b",
    re.IGNORECASE,
)
_PAYLOAD = re.compile(r"^/[A-Za-z0-9_][^\s{]*(?:\{.*\})?$", re.DOTALL)
_MENU_KEYS = ("title", "payload", "url")


def _length(text: str, path: str, limit: int) -> str:
    """Require text of at most ``limit`` characters."""
    if len(text) > limit:
        raise _Problem(path, f"is {len(text)} characters long; Messenger allows at most {limit}")
    return text


def _greeting(value: object, path: str) -> str:
    """Parse the greeting: short, honest about being automated, known placeholders only."""
    text = _length(_text(value, path), path, MAX_GREETING_LENGTH)
    for placeholder in _PLACEHOLDER.findall(text):
        if placeholder not in GREETING_PLACEHOLDERS:
            raise _Problem(
                path,
                f"{placeholder} is not a Messenger placeholder (use "
                f"{', '.join(GREETING_PLACEHOLDERS)}, or none)",
            )
    if not _AUTOMATED_WORDING.search(_PLACEHOLDER.sub(" ", text)):
        raise _Problem(
            path,
            "must tell the customer they are talking to an automated assistant (say "
            '"automated", "bot", "chatbot" or "virtual assistant"; in Italian "assistente '
            'virtuale" or "automatico"), got ' + _show(text),
        )
    return text


def _payload(value: object, path: str) -> str:
    """Require an intent trigger such as ``/order_status`` (sent to the bot verbatim)."""
    text = _length(_text(value, path), path, MAX_PAYLOAD)
    if not _PAYLOAD.match(text):
        raise _Problem(
            path,
            'expected an intent trigger starting with "/", like "/order_status", got '
            + _show(text),
        )
    return text


def _https_url(value: object, path: str) -> str:
    """Require an https web address (Messenger opens it in its webview)."""
    text = _length(_text(value, path), path, MAX_URL)
    if not re.match(r"^https://[^\s/?#]+\.[^\s/?#]+\S*$", text, re.IGNORECASE):
        raise _Problem(path, f"expected a web address starting with https://, got {_show(text)}")
    return text


def _refuse_repeats(text: Localized[str], where: str, index: int, seen: dict[str, int],
                    path: str, verb: str) -> None:
    """Each language's form once in a list: a repeat names the item of `path` that has it."""
    for code, form in text.by_language.items():
        folded = f"{code}:{form.casefold()}"
        if folded in seen:
            raise _Problem(_key(where, code),
                           f"{_show(form)} is already {verb} by {_item(path, seen[folded])}")
        seen[folded] = index


def _ice_breakers(value: object, path: str) -> tuple[IceBreaker, ...]:
    """Parse one to four ice breakers with different questions."""
    items = _list(value, path)
    if not 1 <= len(items) <= MAX_ICE_BREAKERS:
        raise _Problem(
            path, f"must list 1 to {MAX_ICE_BREAKERS} questions (Messenger shows at most "
            f"{MAX_ICE_BREAKERS}), got {len(items)}"
        )
    found: list[IceBreaker] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        where = _item(path, index)
        fields = _fields(item, where, ("question", "payload"))
        question = _localized(
            fields["question"], _key(where, "question"),
            lambda text, at: _length(_text(text, at), at, MAX_ICE_BREAKER_QUESTION),
        )
        _refuse_repeats(question, _key(where, "question"), index, seen, path, "asked")
        found.append(IceBreaker(question, _payload(fields["payload"], _key(where, "payload"))))
    return tuple(found)


def _menu_item(value: object, path: str) -> MenuItem:
    """Parse one menu item: a title and either a payload or a url."""
    mapping = _mapping(value, path)
    for name in mapping:
        if name not in _MENU_KEYS:
            hint = difflib.get_close_matches(str(name), _MENU_KEYS, n=1)
            suggestion = (
                f"did you mean {hint[0]}?" if hint else f"expected one of {', '.join(_MENU_KEYS)}"
            )
            raise _Problem(_key(path, name), f"unknown key ({suggestion})")
    if "title" not in mapping:
        raise _Problem(_key(path, "title"), "missing")
    title = _localized(
        mapping["title"], _key(path, "title"),
        lambda text, at: _length(_text(text, at), at, MAX_MENU_TITLE),
    )
    if "payload" in mapping and "url" in mapping:
        raise _Problem(
            _key(path, "url"),
            "give either payload (a message to the bot) or url (a web page), not both",
        )
    if "payload" in mapping:
        return MenuItem(title, payload=_payload(mapping["payload"], _key(path, "payload")))
    if "url" in mapping:
        return MenuItem(title, url=_https_url(mapping["url"], _key(path, "url")))
    raise _Problem(
        _key(path, "payload"),
        'missing (give payload, an intent trigger like "/order_status", or url, an https link)',
    )


def _persistent_menu(value: object, path: str) -> tuple[MenuItem, ...]:
    """Parse one to twenty menu items with different titles, "Talk to a person" among them."""
    items = _list(value, path)
    if not 1 <= len(items) <= MAX_MENU_ITEMS:
        raise _Problem(
            path, f"must list 1 to {MAX_MENU_ITEMS} items (Messenger shows at most "
            f"{MAX_MENU_ITEMS}), got {len(items)}"
        )
    menu: list[MenuItem] = []
    titles: dict[str, int] = {}
    for index, item in enumerate(items):
        where = _item(path, index)
        parsed = _menu_item(item, where)
        _refuse_repeats(parsed.title, _key(where, "title"), index, titles, path, "used")
        menu.append(parsed)
    if not any(item.payload == HUMAN_REQUEST_PAYLOAD for item in menu):
        raise _Problem(
            path,
            f'must have an item with payload "{HUMAN_REQUEST_PAYLOAD}" (such as "Talk to a '
            'person"), so a customer can always reach a person',
        )
    return tuple(menu)


def _messenger(value: object, path: str) -> MessengerProfile:
    """Parse the ``messenger`` section (the page's Messenger Profile)."""
    mapping = _mapping(value, path)
    if "get_started" in mapping:
        raise _Problem(
            _key(path, "get_started"),
            "is not configurable: the Get Started button always sends the payload the "
            "Messenger channel answers with a greeting; remove this key",
        )
    fields = _fields(
        mapping, path, ("greeting", "ice_breakers", "persistent_menu", "order_card_image")
    )
    return MessengerProfile(
        greeting=_localized(fields["greeting"], _key(path, "greeting"), _greeting),
        ice_breakers=_ice_breakers(fields["ice_breakers"], _key(path, "ice_breakers")),
        persistent_menu=_persistent_menu(
            fields["persistent_menu"], _key(path, "persistent_menu")
        ),
        order_card_image=_card_image(
            fields["order_card_image"], _key(path, "order_card_image")
        ),
    )


def _card_image(value: object, path: str) -> str:
    """An https picture address whose only placeholder is ``{sku}``."""
    text = _url(value, path)
    if not text.startswith("https://"):
        raise _Problem(path, f"Messenger only shows https pictures, got {_show(value)}")
    unknown = [name for name in re.findall(r"\{([^}]*)\}", text) if name != "sku"]
    if unknown:
        raise _Problem(path, f"the only placeholder is {{sku}}, not {{{unknown[0]}}}")
    return text


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


def _web_chat(value: object, path: str) -> WebChatTexts:
    """Parse the ``web_chat`` section: every text of the page, in every brand language."""
    fields = _fields(value, path, WEB_CHAT_TEXTS)
    return WebChatTexts({key: _localized_text(fields[key], _key(path, key))
                         for key in WEB_CHAT_TEXTS})


MAX_RETENTION_DAYS = 3650


def _retention_days(value: object, path: str) -> int:
    """Days data is kept: a whole number from 1 to ten years."""
    days = _whole(value, path)
    if not 1 <= days <= MAX_RETENTION_DAYS:
        raise _Problem(path, f"must be from 1 to {MAX_RETENTION_DAYS} days, got {days}")
    return days


def _languages(value: object, path: str) -> tuple[str, ...]:
    """The brand's languages: ISO 639-1 codes, at least one, each once; the default first."""
    codes = _texts(value, path, allow_empty=False)
    for index, code in enumerate(codes):
        if not re.fullmatch(r"[a-z]{2}", code):
            raise _Problem(_item(path, index),
                           f'expected a language code like "it" or "en", got {_show(code)}')
        if code in codes[:index]:
            raise _Problem(_item(path, index), f"{_show(code)} is listed twice")
    return codes


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
