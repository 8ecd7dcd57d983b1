"""Checks of brand.yml's sections, each read into its part of the brand's model.

The sections: languages, office hours, holidays, shipping, returns, refunds, contact, how
long data is kept and the web chat's texts. A check that fails raises :class:`_Problem`
with the exact key path (``office_hours.monday[1]``, ``shipping.zones[2].cost``...).
"""

from __future__ import annotations

import re
from datetime import date
from itertools import pairwise

from bot.settings.brand.countries import country_key
from bot.settings.brand.model import (
    WEB_CHAT_TEXTS,
    WEEKDAYS,
    Contact,
    Express,
    Refunds,
    Returns,
    Shift,
    Shipping,
    ShippingZone,
    WebChatTexts,
)
from bot.settings.brand.problems import _item, _key, _Problem, _show
from bot.settings.brand.value_checks import (
    _clock,
    _days,
    _fields,
    _flag,
    _list,
    _localized,
    _localized_text,
    _mapping,
    _number,
    _parse_clock,
    _text,
    _texts,
    _url,
    _whole,
)

_ISO_DATE = re.compile(r"^\s*\d{4}-\d{2}-\d{2}\s*$")
_CURRENCY = re.compile(r"^[A-Za-z]{3}$")


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
