"""What every desk page shares: the document around it, the bar at the top, refusals."""

from __future__ import annotations

import html

from aiohttp import web

from bot.desk.roles import Permission
from bot.desk.web_auth import CSRF_FIELD, session_of

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} · nightdesk</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/static/desk.css">
<script src="/static/desk.js" defer></script></head><body>{body}</body></html>"""

_SECTIONS = (("/", "Open tickets", None), ("/report", "Report", None),
             ("/training", "Training", Permission.TRAIN),
             ("/customers", "Customers' data", Permission.MANAGE_CUSTOMER_DATA))


def page(title: str, body: str, status: int = 200) -> web.Response:
    """A whole HTML page (its stylesheet and script are files: the CSP refuses inline ones)."""
    return web.Response(text=_PAGE.format(title=html.escape(title), body=body),
                        content_type="text/html", status=status)


def refused(title: str, message: str, back: str, status: int) -> web.Response:
    """A page saying why something was not done, with the way back."""
    body = (f'<main><p class="error" role="alert">{html.escape(message)}.</p>'
            f'<p><a href="{html.escape(back)}">Back</a></p></main>')
    return page(title, body, status=status)


def header(request: web.Request) -> str:
    """The bar on every page: the sections the role may use, who is logged in, logging out."""
    session = session_of(request)
    current = ' aria-current="page"'
    links = "".join(
        f'<a href="{path}"{current if request.path == path else ""}>{label}</a>'
        for path, label, needed in _SECTIONS
        if needed is None or session.agent.role.may(needed)
    )
    return (
        f"<header><strong>nightdesk</strong><nav>{links}</nav>"
        f'<span class="who">{html.escape(session.agent.name)} ({session.agent.role.value})</span>'
        '<form class="inline" method="post" action="/logout">'
        f'<input type="hidden" name="{CSRF_FIELD}" value="{html.escape(session.csrf_token)}">'
        '<button type="submit">Log out</button></form></header>'
    )
