"""Values as a customer of one language reads them: waits, dates, amounts, lists, countries.

Every word comes from `wording.yml`; month and weekday names, number and currency formats
and country names come from CLDR through Babel, so "tomorrow at 9:00" is "domani alle 9:00"
and "€9.90" is "9,90 €" without a line of Italian in the code.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from functools import cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time
from babel.lists import format_list
from babel.numbers import format_currency

from bot.language.wording import Wording

__all__ = ["Phrasing", "territory_code"]


@cache
def _territory_names(locale_name: str) -> dict[str, str]:
    locale = Locale.parse(locale_name)
    return {name.casefold(): code for code, name in locale.territories.items() if code.isalpha()}


def territory_code(name: str, locales: Sequence[str] = ("en",)) -> str | None:
    """The ISO 3166 code of a country named in one of `locales` ("Germania" -> "DE")."""
    key = name.strip().casefold()
    for locale_name in locales:
        code = _territory_names(locale_name).get(key)
        if code:
            return code
    return None


class Phrasing:
    """Formats values in one language, with the brand's time zone for moments."""

    def __init__(self, wording: Wording, language: str, zone: ZoneInfo) -> None:
        """Phrasing in `language` (a section of `wording`), moments shown in `zone`."""
        self.wording = wording
        self.language = language
        self.zone = zone
        self.locale = wording.locale(language)

    def words(self, key: str, **values: object) -> str:
        """The language's words for `key` of wording.yml, with `values` filled in."""
        return self.wording.get(self.language, key, **values)

    def money(self, amount: float, currency: str) -> str:
        """An amount with its currency as the locale writes it ("€9.90", "9,90 €")."""
        return format_currency(amount, currency.upper(), locale=self.locale)

    def clock(self, moment: datetime) -> str:
        """The time of day of a moment in the brand's zone ("9:00")."""
        return format_time(moment.astimezone(self.zone), self.words("time_format"),
                           locale=self.locale)

    def moment(self, moment: datetime, now: datetime) -> str:
        """When something happens, relative to `now`: "tomorrow at 9:00", "lunedì alle 9:00"."""
        local = moment.astimezone(self.zone)
        time = self.clock(local)
        days = (local.date() - now.astimezone(self.zone).date()).days
        if days <= 0:
            return self.words("when.today", time=time)
        if days == 1:
            return self.words("when.tomorrow", time=time)
        if days < 7:
            weekday = format_date(local.date(), self.words("weekday_format"), locale=self.locale)
            return self.words("when.this_week", weekday=weekday, time=time)
        day = format_date(local.date(), self.words("date_format"), locale=self.locale)
        return self.words("when.later", date=day, time=time)

    def wait(self, moment: datetime | None, now: datetime, open_now: bool = False) -> str:
        """When a person answers: "now" while open, else the moment; "as soon as possible"."""
        if open_now:
            return self.words("when.now")
        if moment is None:
            return self.words("when.unknown")
        return self.moment(moment, now)

    def day(self, day: date | None, today: date) -> str:
        """A date relative to today: today, tomorrow, yesterday, "on Tuesday 24 November"."""
        if day is None:
            return self.words("day.unknown")
        delta = (day - today).days
        if delta == 0:
            return self.words("day.today")
        if delta == 1:
            return self.words("day.tomorrow")
        if delta == -1:
            return self.words("day.yesterday")
        pattern = "day_format" if day.year == today.year else "day_format_other_year"
        return self.words("day.other",
                          day=format_date(day, self.words(pattern), locale=self.locale))

    def listing(self, items: Sequence[str]) -> str:
        """Items joined as the language joins them ("a, b and c", "a, b e c")."""
        return format_list(list(items), locale=self.locale) if items else ""

    def working_days(self, days: str) -> str:
        """A span of working days ("3–5 working days", "1 giorno lavorativo")."""
        shown = days.replace("-", "–")
        key = "working_days.one" if days.strip() == "1" else "working_days.other"
        return self.words(key, days=shown)

    def country(self, english_name: str) -> str:
        """A country named in brand.yml (English), in this language ("Germany" -> "Germania")."""
        code = territory_code(english_name)
        if code is None:
            return english_name
        return self.locale.territories.get(code, english_name)

    def payment_method(self, method: str) -> str:
        """A payment method key of brand.yml as the customer reads it."""
        try:
            return self.words(f"payment_methods.{method}")
        except KeyError:
            return method.replace("_", " ")
