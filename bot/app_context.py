"""The composition root: the one place where a nightdesk process gets its services.

`build` reads the settings and makes everything the processes share, once: the database
engine (its schema ensured), the office calendar, tickets, the order back end and its
ownership checks, the language detector, the audit log, the Messenger stores and the page's
Graph API client. The process-specific assemblies below are made from a built `Services`:

* `desk_services`: what the agents' desk web app works with (`bot.desk.app`);
* `messenger_context`: what the Messenger channel's inbox worker processes events with;
* `holding_replies`: the replies a customer gets while the bot cannot answer.

Resources with something to close (the Graph client's HTTP session, the order back end's,
the engine's connections) are closed by `Services.close`, which each process calls once
from the place its server runs: the desk's `cleanup_ctx`, the Rasa channels' stop listeners.
The channels of one Rasa process (Messenger, web chat) share one `Services`
(`acquire_shared` / `release_shared`): the first to start builds it, the last to stop
closes it.

The assemblies import their face's types inside the function, so that a process only loads
the parts it uses (the action server never loads Rasa's channel classes or the desk).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from threading import Lock
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

from bot.clock import Clock
from bot.handoff.reasons import HandoffReason
from bot.handoff.tickets import TicketService
from bot.hours import OfficeCalendar
from bot.language import LanguageDetector, Phrasing, Wording
from bot.language.wording import load_wording
from bot.messenger.graph_client import GraphClient
from bot.messenger.inbox import Inbox
from bot.messenger.outbox import OutboxLog
from bot.messenger.threads import ThreadStore
from bot.observability.health import Check, database_check, redis_check
from bot.observability.metrics import current as current_metrics
from bot.orders import OrderBackend, OwnershipVerifier, ProofAttemptLog
from bot.orders.factory import order_backend_for
from bot.settings import Brand, Settings, get_brand, get_settings, get_wording
from bot.settings.brand import load_brand
from bot.store import create_db_engine, ensure_schema
from bot.store.audit import AuditLog

if TYPE_CHECKING:
    from bot.desk.canned import CannedReply
    from bot.desk.services import DeskServices
    from bot.messenger.holding import HoldingReplies
    from bot.messenger.processor import MessengerContext

Responses = Mapping[str, list[dict[str, Any]]]
"""A Rasa domain's responses, by name."""


@dataclass(frozen=True)
class Services:
    """Everything two or more processes work with, built once per process by `build`.

    Attributes:
        settings: the process settings (`.env` and the environment).
        brand: the brand's facts (`brand.yml`).
        wording: the product's own words in every brand language (`wording.yml`).
        clock: the process's "now" (frozen in a test stack or a demo).
        engine: the product database, its tables made.
        calendar: the brand's office hours.
        tickets: handoff tickets.
        orders: the shop's orders (the demo shop in SQL, or the shop's REST API).
        verifier: proof of an order's ownership, with its failure counting.
        detector: the brand language a text is written in.
        audit: the audit log of people's changes.
        threads: Messenger threads (who owns each, when the customer last wrote).
        outbox: the log of messages sent to Messenger customers.
        inbox: the durable inbox of Messenger events.
        graph: the page's Graph API client; None when Messenger is not configured.
    """

    settings: Settings
    brand: Brand
    wording: Wording
    clock: Clock
    engine: Engine
    calendar: OfficeCalendar
    tickets: TicketService
    orders: OrderBackend
    verifier: OwnershipVerifier
    detector: LanguageDetector
    audit: AuditLog
    threads: ThreadStore
    outbox: OutboxLog
    inbox: Inbox
    graph: GraphClient | None

    def language_of(self, slot_value: object) -> str:
        """The conversation's language from its slot; the brand's default when unset."""
        return slot_value if slot_value in self.brand.languages else self.brand.language

    def phrasing(self, language: object) -> Phrasing:
        """Values phrased in the conversation's language (slot value), in the brand's zone."""
        return Phrasing(self.wording, self.language_of(language), self.brand.timezone)

    async def close(self) -> None:
        """Closes the HTTP sessions and the engine's pooled connections (once, at the end)."""
        if self.graph is not None:
            await self.graph.close()
        await self.orders.close()
        self.engine.dispose()


def _graph_client(settings: Settings) -> GraphClient | None:
    """The page's Graph API client, when Messenger is configured (its session opens lazily)."""
    messenger = settings.messenger
    if not messenger.configured or not messenger.page_access_token:
        return None
    return GraphClient(
        messenger.graph_api_url, messenger.page_access_token, messenger.graph_api_version,
        app_secret=messenger.app_secret,
    )


def build(settings: Settings | None = None) -> Services:
    """Builds the services of one process (blocking: it makes the database's tables).

    Args:
        settings: the settings to build from, with the brand and wording of their brand
            file; the process's own (`get_settings`, `get_brand`, `get_wording`) when None.
    """
    if settings is None:  # the process's own: the brand and wording it has loaded already
        settings, brand, wording = get_settings(), get_brand(), get_wording()
    else:
        brand = load_brand(settings.brand_file)
        wording = load_wording(settings.brand_file.parent / "wording.yml", brand.languages)
    clock = settings.clock()
    current_metrics().expect_handoff_reasons(reason.value for reason in HandoffReason)
    engine = create_db_engine(settings.database_url)
    ensure_schema(engine)
    calendar = OfficeCalendar.from_brand(brand)
    orders = order_backend_for(settings, engine)
    return Services(
        settings=settings,
        brand=brand,
        wording=wording,
        clock=clock,
        engine=engine,
        calendar=calendar,
        tickets=TicketService(
            engine, calendar, timedelta(minutes=brand.answer_within_minutes_when_open),
            clock=clock,
        ),
        orders=orders,
        verifier=OwnershipVerifier(
            orders, ProofAttemptLog(engine), max_failures=settings.proof_max_failures,
            clock=clock,
        ),
        detector=LanguageDetector(brand.languages),
        audit=AuditLog(engine, clock=clock),
        threads=ThreadStore(engine),
        outbox=OutboxLog(engine, clock),
        inbox=Inbox(
            engine, claim_timeout=timedelta(seconds=settings.messenger.claim_timeout_seconds)
        ),
        graph=_graph_client(settings),
    )


def service_checks(services: Services) -> tuple[Check, ...]:
    """The readiness checks of what every process relies on: the database, Redis when set."""
    checks = [database_check(services.engine)]
    if services.settings.redis_url:
        checks.append(redis_check(services.settings.redis_url))
    return tuple(checks)


class _Shared:
    """The one `Services` of a process whose parts start and stop on their own."""

    lock = Lock()
    services: Services | None = None
    holders = 0


def acquire_shared() -> Services:
    """The process's shared services, built by the first part that asks (blocking).

    The Rasa process's channels each ask when their server starts and `release_shared` when
    it stops, so one engine, one Graph client and one order back end serve them all.
    """
    with _Shared.lock:
        if _Shared.services is None:
            _Shared.services = build()
        _Shared.holders += 1
        return _Shared.services


async def release_shared() -> None:
    """One part is done with the shared services; the last one closes them."""
    with _Shared.lock:
        if _Shared.holders == 0:
            return
        _Shared.holders -= 1
        last = _Shared.services if _Shared.holders == 0 else None
        if last is not None:
            _Shared.services = None
    if last is not None:
        await last.close()


def desk_services(services: Services, canned: tuple[CannedReply, ...] = ()) -> DeskServices:
    """What the agents' desk web app works with.

    Args:
        services: the desk process's services.
        canned: the brand's canned replies, loaded (and checked) before anything else.
    """
    from bot.desk.agents import AgentDirectory
    from bot.desk.claims import ClaimBook
    from bot.desk.login_limit import LoginLimit
    from bot.desk.notes import NoteBook
    from bot.desk.replies import reply_to_customer
    from bot.desk.services import DeskServices
    from bot.desk.sessions import SessionStore
    from bot.messenger.hand_back import hand_back
    from bot.metrics.report import figures_for
    from bot.privacy.customer_data import CustomerData
    from bot.trainer.review import ReviewInbox
    from bot.trainer.settings import load_trainer_settings
    from bot.trainer.training_data import TrainingData

    settings, brand, engine = services.settings, services.brand, services.engine
    trainer_settings = load_trainer_settings(settings.project_dir / "trainer.yml")
    return DeskServices(
        agents=AgentDirectory(engine), sessions=SessionStore(engine),
        login_limit=LoginLimit(engine), tickets=services.tickets, claims=ClaimBook(engine),
        notes=NoteBook(engine), orders=services.orders, threads=services.threads,
        zone=brand.timezone,
        hand_back=partial(hand_back, settings, engine, services.tickets),
        send_reply=partial(reply_to_customer, settings, engine, services.tickets),
        canned=canned, languages=brand.languages,
        report=partial(figures_for, engine, services.calendar, languages=brand.languages),
        review=ReviewInbox(engine, trainer_settings), training=TrainingData(settings.project_dir),
        trainer_settings=trainer_settings,
        customer_data=CustomerData(engine, services.audit, services.clock),
    )


def holding_replies(services: Services, responses: Responses) -> HoldingReplies | None:
    """The replies a customer gets while the bot cannot answer; None without Messenger.

    Args:
        services: the process's services.
        responses: the domain's responses (the holding replies' texts).
    """
    from bot.messenger.holding import HoldingReplies

    if services.graph is None:
        return None
    return HoldingReplies(
        brand=services.brand, wording=services.wording, responses=responses,
        tickets=services.tickets, graph=services.graph, outbox=services.outbox,
        threads=services.threads, language_of=services.detector.language_of,
        clock=services.clock,
    )


def messenger_context(
    services: Services,
    *,
    handle_message: Callable[[Any], Awaitable[Any]],
    parse: Callable[[str], Awaitable[Mapping[str, Any]]],
    responses: Callable[[], Responses],
    tracker_holds: Callable[[str, str], Awaitable[bool]],
) -> MessengerContext:
    """What the Messenger inbox worker processes events with (Messenger must be configured).

    Args:
        services: the Rasa process's services.
        handle_message: Rasa's `on_new_message` (takes a Rasa `UserMessage`; typed loosely
            so that the composition root does not import Rasa).
        parse: Rasa's NLU for one text.
        responses: the loaded model's domain responses.
        tracker_holds: whether a conversation's tracker holds a user message id.
    """
    from bot.messenger.processor import MessengerContext
    from bot.messenger.send_ledger import SendLedger

    if services.graph is None:
        raise RuntimeError("Messenger is not configured: there is no Graph API client")
    return MessengerContext(
        settings=services.settings,
        brand=services.brand,
        graph=services.graph,
        threads=services.threads,
        outbox=services.outbox,
        tickets=services.tickets,
        handle_message=handle_message,
        parse=parse,
        responses=responses,
        clock=services.clock,
        language_of=services.detector.language_of,
        ledger=SendLedger(services.engine),  # real time: compared with Graph's own times
        tracker_holds=tracker_holds,
        holding=holding_replies(services, responses()),
    )
