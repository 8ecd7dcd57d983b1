"""The probe URLs (/healthz, /readyz, /metrics) as Sanic routes (Rasa server, action server)."""

from __future__ import annotations

from collections.abc import Callable

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.observability.probes import HEALTHZ, METRICS, READYZ, Probes


def add_probe_routes(blueprint: Blueprint, probes: Callable[[], Probes]) -> None:
    """Adds the three probe routes to `blueprint`; `probes` gives the process's."""

    @blueprint.route(HEALTHZ, methods=["GET"])
    async def healthz(_: Request) -> HTTPResponse:
        status, body = Probes.healthz()
        return response.json(body, status=status)

    @blueprint.route(READYZ, methods=["GET"])
    async def readyz(_: Request) -> HTTPResponse:
        status, body = await probes().readyz()
        return response.json(body, status=status, headers={"Cache-Control": "no-store"})

    @blueprint.route(METRICS, methods=["GET"])
    async def metrics(_: Request) -> HTTPResponse:
        text, content_type = await probes().metrics_text()
        return response.raw(text, content_type=content_type)
