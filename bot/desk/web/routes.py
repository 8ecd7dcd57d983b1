"""Every route of the desk in one table: method, path, handler, and who may use it.

The access rule of each route is one of `PUBLIC` (no session needed), `LOGGED_IN` (any
session) or a `Permission` the session's role must have; `add_routes` marks each handler
with it (`bot.desk.web.gate.public`, `bot.desk.web.gate.require`), and the gate enforces it
on every request.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from aiohttp import web

from bot.desk.roles import Permission
from bot.desk.web import auth, claims, customers, queue, reports, static, tickets, training
from bot.desk.web.gate import Handler, public, require
from bot.observability import aiohttp_probes


class Open(Enum):
    """Access rules that need no permission."""

    PUBLIC = "no session needed"
    LOGGED_IN = "any logged-in session"


PUBLIC, LOGGED_IN = Open.PUBLIC, Open.LOGGED_IN
READ, WORK = Permission.READ_TICKETS, Permission.WORK_TICKETS
TRAIN, CUSTOMERS = Permission.TRAIN, Permission.MANAGE_CUSTOMER_DATA


@dataclass(frozen=True)
class Route:
    """One route: its method, its path (aiohttp's syntax), its handler and its access rule."""

    method: str
    path: str
    handler: Handler
    access: Open | Permission


ROUTES: tuple[Route, ...] = (
    # logging in and out
    Route("GET", "/login", auth.login_page, PUBLIC),
    Route("POST", "/login", auth.login, PUBLIC),
    Route("POST", "/logout", auth.logout, LOGGED_IN),
    Route("GET", "/api/me", auth.api_me, LOGGED_IN),
    # the open tickets, and claiming them
    Route("GET", "/", queue.home, READ),
    Route("GET", "/api/tickets", queue.api_tickets, READ),
    Route("POST", r"/api/tickets/{case}/{action:claim|unclaim}", claims.api_claim, WORK),
    Route("POST", r"/tickets/{case}/{action:claim|unclaim}", claims.page_claim, WORK),
    # a ticket
    Route("GET", r"/tickets/{case}", tickets.ticket_view, READ),
    Route("POST", r"/tickets/{case}/notes", tickets.add_note, WORK),
    Route("POST", r"/tickets/{case}/lines/{line:\d+}/mark", tickets.mark_line, READ),
    Route("POST", r"/tickets/{case}/{action:handback|resolve}", tickets.hand_back_case, WORK),
    Route("POST", r"/tickets/{case}/priority", tickets.change_priority, WORK),
    Route("POST", r"/tickets/{case}/reply", tickets.reply, WORK),
    Route("GET", r"/api/tickets/{case:\d+}", tickets.api_ticket, READ),
    # the morning report
    Route("GET", "/report", reports.report_view, READ),
    Route("GET", "/api/report", reports.api_report, READ),
    # training
    Route("GET", "/training", training.training_view, TRAIN),
    Route("GET", "/api/training", training.api_training, TRAIN),
    Route("POST", r"/training/{action:assign|new-intent|dismiss}", training.training_decide,
          TRAIN),
    # customers' data
    Route("GET", "/customers", customers.customers_view, CUSTOMERS),
    Route("POST", "/customers/export", customers.customers_export, CUSTOMERS),
    Route("POST", "/customers/erase", customers.customers_erase, CUSTOMERS),
    # files and probes
    Route("GET", "/health", static.health, PUBLIC),
    Route("GET", "/healthz", aiohttp_probes.healthz, PUBLIC),
    Route("GET", "/readyz", aiohttp_probes.readyz, PUBLIC),
    Route("GET", "/metrics", aiohttp_probes.metrics, PUBLIC),
    Route("GET", "/favicon.ico", static.favicon, PUBLIC),
    Route("GET", "/static/desk.css", static.stylesheet, PUBLIC),
    Route("GET", "/static/desk.js", static.script, PUBLIC),
)


def _marked(route: Route) -> Handler:
    """The route's handler, marked with its access rule for the gate."""
    if route.access is PUBLIC:
        return public(route.handler)
    if isinstance(route.access, Permission):
        return require(route.access)(route.handler)
    return route.handler


def add_routes(app: web.Application) -> None:
    """Adds every route of `ROUTES` to `app`, in the table's order."""
    for route in ROUTES:
        if route.method == "GET":  # answers HEAD too
            app.router.add_get(route.path, _marked(route))
        else:
            app.router.add_route(route.method, route.path, _marked(route))
