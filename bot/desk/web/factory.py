"""Builds the desk's aiohttp application from its services."""

from __future__ import annotations

from collections.abc import Sequence

from aiohttp import web

from bot.desk.services import SERVICES, DeskServices
from bot.desk.web.gate import (
    HTTPS,
    SESSIONS,
    TRUSTED_PROXIES,
    IPNetwork,
    desk_gate,
    strict_transport,
)
from bot.desk.web.routes import add_routes
from bot.observability.aiohttp_probes import PROBES
from bot.observability.health import Readiness, condition_check
from bot.observability.probes import Probes

MAX_REQUEST_BYTES = 64 * 1024


def create_app(services: DeskServices, *, secure_cookies: bool = False,
               trusted_proxies: Sequence[IPNetwork] = (),
               probes: Probes | None = None) -> web.Application:
    """The desk application.

    Args:
        services: what the desk works with.
        secure_cookies: it is served through HTTPS (an https DESK_URL): every cookie is
            ``Secure`` and every answer carries Strict-Transport-Security.
        trusted_proxies: the proxies whose X-Forwarded-For is believed (DESK_TRUSTED_PROXIES);
            none by default, and then the peer's address is the client's.
        probes: its readiness checks and metrics (/readyz, /metrics); by default only the
            services' presence is checked, with the process's metrics.
    """
    app = web.Application(middlewares=[desk_gate], client_max_size=MAX_REQUEST_BYTES)
    app[SERVICES] = services
    app[SESSIONS] = services.sessions
    app[HTTPS] = secure_cookies
    app[TRUSTED_PROXIES] = tuple(trusted_proxies)
    app[PROBES] = probes or Probes(Readiness([
        condition_check("services", lambda: SERVICES in app, "not built")]))
    app.on_response_prepare.append(strict_transport)
    add_routes(app)
    return app
