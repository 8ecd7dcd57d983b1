"""The probe URLs (/healthz, /readyz, /metrics) as aiohttp handlers (receiver and desk)."""

from __future__ import annotations

from aiohttp import web

from bot.observability.probes import HEALTHZ, METRICS, READYZ, Probes

PROBES = web.AppKey("probes", Probes)
"""Where an aiohttp application keeps its `Probes`."""


async def healthz(request: web.Request) -> web.Response:
    """200 ``{"alive": true}``."""
    status, body = Probes.healthz()
    return web.json_response(body, status=status)


async def readyz(request: web.Request) -> web.Response:
    """200 when ready, else 503; each check's outcome."""
    status, body = await request.app[PROBES].readyz()
    return web.json_response(body, status=status, headers={"Cache-Control": "no-store"})


async def metrics(request: web.Request) -> web.Response:
    """The process's metrics, Prometheus text format."""
    text, content_type = await request.app[PROBES].metrics_text()
    response = web.Response(body=text)
    response.headers["Content-Type"] = content_type
    return response


def add_probe_routes(app: web.Application, probes: Probes) -> None:
    """Serves the three probe URLs of `probes` on `app`."""
    app[PROBES] = probes
    app.router.add_get(HEALTHZ, healthz)
    app.router.add_get(READYZ, readyz)
    app.router.add_get(METRICS, metrics)
