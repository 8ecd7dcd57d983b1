"""What the handlers read from a request: the desk's services, the case number, the ticket."""

from __future__ import annotations

from aiohttp import web

from bot.desk.services import SERVICES, DeskServices
from bot.desk.web.blocking import run_blocking
from bot.desk.web.strings import STRINGS
from bot.handoff.tickets import Ticket, TicketError


def services_of(request: web.Request) -> DeskServices:
    """The desk's stores and actions."""
    return request.app[SERVICES]


def case_of(request: web.Request) -> int:
    """The case number of the URL; 404 when it is not a number."""
    try:
        return int(request.match_info["case"])
    except ValueError:
        raise web.HTTPNotFound(text=STRINGS.no_such_case) from None


async def ticket_or_404(request: web.Request) -> Ticket:
    """The ticket of the URL's case number; 404 when there is none."""
    try:
        return await run_blocking(services_of(request).tickets.get, case_of(request))
    except TicketError:
        raise web.HTTPNotFound(
            text=STRINGS.no_case_number.format(case=request.match_info["case"])) from None
