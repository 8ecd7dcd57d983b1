"""The domain services the actions use, built once per action-server process."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from bot.clock import Clock
from bot.handoff.tickets import TicketService
from bot.hours import OfficeCalendar
from bot.language import LanguageDetector, Phrasing, Wording
from bot.orders import OrderBackend, OwnershipVerifier, ProofAttemptLog
from bot.settings import Brand, Settings, get_brand, get_settings, get_wording
from bot.store import create_db_engine, ensure_schema


@dataclass(frozen=True)
class Services:
    """Everything an action may need."""

    settings: Settings
    brand: Brand
    calendar: OfficeCalendar
    orders: OrderBackend
    verifier: OwnershipVerifier
    tickets: TicketService
    clock: Clock
    wording: Wording
    detector: LanguageDetector

    def language_of(self, slot_value: object) -> str:
        """The conversation's language from its slot; the brand's default when unset."""
        return slot_value if slot_value in self.brand.languages else self.brand.language

    def phrasing(self, language: object) -> Phrasing:
        """Values phrased in the conversation's language (slot value), in the brand's zone."""
        return Phrasing(self.wording, self.language_of(language), self.brand.timezone)


@lru_cache(maxsize=1)
def get_services() -> Services:
    """Builds the services on first use (settings, database schema, order back end)."""
    settings = get_settings()
    brand = get_brand()
    engine = create_db_engine(settings.database_url)
    ensure_schema(engine)
    calendar = OfficeCalendar.from_brand(brand)
    orders = OrderBackend.create(settings)
    clock = settings.clock()
    return Services(
        settings=settings,
        brand=brand,
        calendar=calendar,
        orders=orders,
        verifier=OwnershipVerifier(
            orders, ProofAttemptLog(engine), max_failures=settings.proof_max_failures,
            clock=clock,
        ),
        tickets=TicketService(
            engine, calendar, timedelta(minutes=brand.answer_within_minutes_when_open),
            clock=clock,
        ),
        clock=clock,
        wording=get_wording(),
        detector=LanguageDetector(brand.languages),
    )
