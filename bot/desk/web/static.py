"""The desk's files and probes: its stylesheet and script, the favicon, the health check."""

from __future__ import annotations

from importlib.resources import files

from aiohttp import web

_STATIC = files("bot.desk.web") / "static"
_CSS = (_STATIC / "desk.css").read_bytes()
_JS = (_STATIC / "desk.js").read_bytes()
_CACHED = {"Cache-Control": "max-age=3600"}


async def stylesheet(_: web.Request) -> web.Response:
    """The desk's stylesheet (a file of its own, so the CSP needs no inline styles)."""
    return web.Response(body=_CSS, content_type="text/css", charset="utf-8", headers=_CACHED)


async def script(_: web.Request) -> web.Response:
    """The desk's script (live transcript on a ticket page)."""
    return web.Response(body=_JS, content_type="text/javascript", charset="utf-8",
                        headers=_CACHED)


async def favicon(_: web.Request) -> web.Response:
    """No icon: answered here so browsers asking for one are not sent to the login page."""
    return web.Response(status=204)


async def health(_: web.Request) -> web.Response:
    """For `nightdesk up` and load balancers."""
    return web.json_response({"status": "ok"})
