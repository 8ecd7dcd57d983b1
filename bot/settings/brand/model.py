"""The brand's facts as typed, frozen data: what brand.yml says once it is checked."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time
from typing import Generic, TypeVar
from urllib.parse import quote
from zoneinfo import ZoneInfo

from bot.settings.brand.countries import country_key

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
