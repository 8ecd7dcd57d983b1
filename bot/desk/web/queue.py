"""The open tickets: the home page (with its filters) and ``/api/tickets``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

from aiohttp import web

from bot.desk.queue import QueueFilter, QueueRow, build_queue
from bot.desk.services import DeskServices
from bot.desk.web.blocking import run_blocking
from bot.desk.web.gate import session_of
from bot.desk.web.queue_lines import filter_choices, queue_lines, ticket_json
from bot.desk.web.rendering import page
from bot.desk.web.request_data import services_of
from bot.desk.web.strings import STRINGS
from bot.handoff.tickets import Ticket


def _last_customer_message(services: DeskServices) -> Callable[[Ticket], datetime | None]:
    threads = services.threads

    def last(ticket: Ticket) -> datetime | None:
        if ticket.channel != "messenger":
            return None
        state = threads.get(ticket.conversation_id)
        return state.last_customer_message_at if state else None

    return last


def _queue(services: DeskServices, now: datetime, only: QueueFilter) -> list[QueueRow]:
    """The open tickets in the queue's order (blocking: reads the database)."""
    return build_queue(services.tickets.list_open(), services.claims.holders(),
                       _last_customer_message(services), now, services.zone, only)


def _filter_of(request: web.Request) -> QueueFilter:
    return QueueFilter.from_query(dict(request.query), services_of(request).languages)


async def home(request: web.Request) -> web.Response:
    """The open tickets, most urgent first, then oldest."""
    services = services_of(request)
    now = datetime.now(timezone.utc)
    only = _filter_of(request)
    rows = await run_blocking(_queue, services, now, only)
    return page(request, "queue.html", title=STRINGS.open_tickets,
                lines=queue_lines(rows, session_of(request).agent, now, services.zone),
                filters=filter_choices(only, services.languages))


async def api_tickets(request: web.Request) -> web.Response:
    """The open tickets as JSON, in the same order as the page."""
    now = datetime.now(timezone.utc)
    rows = await run_blocking(_queue, services_of(request), now, _filter_of(request))
    return web.json_response({"tickets": [ticket_json(row, now) for row in rows]})
