"""A small fake of a shop's REST API (the contract of bot.orders.http_backend), on loopback.

It serves `GET /orders/{number}` from a dict, checks the bearer token, records every
request, and can be told to fail (HTTP status, malformed body, slowness).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class FakeShop:
    """State of the fake: its orders, the token it accepts, failure mode, what it saw."""

    orders: dict[str, dict[str, Any]]
    token: str = "shop-token"
    fail_with_status: int | None = None
    malformed: bool = False
    delay_seconds: float = 0.0
    requests: list[dict[str, str]] = field(default_factory=list)

    def app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application()
        app.router.add_get("/orders/{number}", self._get_order)
        return app

    async def _get_order(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(
            {"path": request.path, "authorization": request.headers.get("Authorization", "")}
        )
        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response({"error": "unauthorized"}, status=401)
        if self.fail_with_status:
            return web.json_response({"error": "failing on purpose"}, status=self.fail_with_status)
        if self.malformed:
            return web.Response(text="<html>oops</html>", content_type="text/html")
        order = self.orders.get(request.match_info["number"])
        if order is None:
            return web.json_response({"error": "not found"}, status=404)
        return web.json_response(order)
