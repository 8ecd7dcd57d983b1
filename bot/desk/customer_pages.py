"""The desk's Customers' data section (admins only): export or erase what is held about a person.

* ``GET /customers``: two forms (export, erase) and the latest export and erasure entries
  of the audit log (who, when, the id's kind and hash; never the id).
* ``POST /customers/export``: the export (`bot.privacy.customer_data`) as a JSON download,
  never cached.
* ``POST /customers/erase``: erases after the id is typed twice; the page says how many
  conversations and rows went.

Each action is audited under the admin's login, in the transaction that reads or erases.
The id comes from the form: at most 200 characters, no control characters, else 400.
"""

from __future__ import annotations

import asyncio
import html
import json

from aiohttp import web

from bot.desk.layout import header, page, refused
from bot.desk.roles import Permission
from bot.desk.services import SERVICES, DeskServices
from bot.desk.ticket_page import time_shown
from bot.desk.web_auth import CSRF_FIELD, require, session_of
from bot.privacy.customer_data import CustomerData
from bot.privacy.subject import KINDS, MAX_ID_CHARS, SubjectError

CUSTOMER_ACTIONS = ("customer.export", "customer.erase")


def _services(request: web.Request) -> DeskServices:
    return request.app[SERVICES]


def _customer_data(request: web.Request) -> CustomerData | None:
    return _services(request).customer_data


def _kind_options() -> str:
    return '<option value="">told from the id</option>' + "".join(
        f'<option value="{kind}">{kind}</option>' for kind in KINDS)


def _form(request: web.Request, action: str, button: str, extra: str = "") -> str:
    token = html.escape(session_of(request).csrf_token)
    return (f'<form method="post" action="/customers/{action}" class="customer-{action}">'
            f'<input type="hidden" name="{CSRF_FIELD}" value="{token}">'
            f'<label>PSID, web chat id, e-mail or order number '
            f'<input name="id" required maxlength="{MAX_ID_CHARS}" autocomplete="off"></label>'
            f'{extra}<label>which is <select name="kind">{_kind_options()}</select></label>'
            f'<button type="submit">{button}</button></form>')


def _history(request: web.Request) -> str:
    services = _services(request)
    entries = [e for e in services.agents.audit.recent(200) if e.action in CUSTOMER_ACTIONS]
    if not entries:
        return "<p>No export or erasure yet.</p>"
    rows = "".join(
        f"<tr><td>{time_shown(e.at, services.zone)}</td><td>{html.escape(e.actor)}</td>"
        f"<td>{html.escape(e.action.split('.', 1)[1])}</td>"
        f"<td>{html.escape(str(e.detail.get('kind', '')))}</td>"
        f"<td><code>{html.escape(str(e.detail.get('id_sha256', ''))[:16])}</code></td>"
        f"<td>{html.escape(str(e.detail.get('conversations', '')))}</td></tr>"
        for e in entries[:20])
    return ('<table class="audit"><caption>Latest requests (the audit keeps the id\'s '
            'SHA-256, never the id)</caption><tr><th>When</th><th>Who</th><th>What</th>'
            f"<th>Kind</th><th>Id hash</th><th>Conversations</th></tr>{rows}</table>")


@require(Permission.MANAGE_CUSTOMER_DATA)
async def customers_view(request: web.Request) -> web.Response:
    """The section's page."""
    if _customer_data(request) is None:
        return refused("Customers' data", "this desk has no customer data store", "/", 404)
    confirm = ('<label>the same id again, to confirm '
               f'<input name="confirm" required maxlength="{MAX_ID_CHARS}" '
               'autocomplete="off"></label>')
    history = await asyncio.to_thread(_history, request)
    body = (header(request) + "<main><h1>Customers' data</h1>"
            "<section><h2>Export</h2><p>Everything held about a person, as one JSON file: "
            "conversations, tickets and transcripts, notes, Messenger and web chat messages, "
            "proofs, deliveries.</p>" + _form(request, "export", "Export") + "</section>"
            "<section><h2>Erase</h2><p>Deletes all of it, everywhere, at once. It cannot be "
            "undone.</p>" + _form(request, "erase", "Erase everything", confirm) + "</section>"
            f"<section>{history}</section></main>")
    return page("Customers' data", body)


async def _asked(request: web.Request) -> tuple[str, str | None, web.MultiDictProxy]:
    form = await request.post()
    given = str(form.get("id") or "")
    kind = str(form.get("kind") or "") or None
    return given, kind, form


@require(Permission.MANAGE_CUSTOMER_DATA)
async def customers_export(request: web.Request) -> web.Response:
    """The export as a download."""
    data = _customer_data(request)
    if data is None:
        return refused("Not exported", "this desk has no customer data store", "/", 404)
    given, kind, _ = await _asked(request)
    by = session_of(request).agent.login
    try:
        document = await asyncio.to_thread(data.export, given, by=by, kind=kind)
    except SubjectError as error:
        return refused("Not exported", f"Not exported: {error}", "/customers", 400)
    name = f"customer-export-{document['asked_for']['kind']}.json"
    return web.Response(
        text=json.dumps(document, ensure_ascii=False, indent=2), content_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"',
                 "Cache-Control": "no-store"})


@require(Permission.MANAGE_CUSTOMER_DATA)
async def customers_erase(request: web.Request) -> web.Response:
    """Erases, once the id was typed twice."""
    data = _customer_data(request)
    if data is None:
        return refused("Not erased", "this desk has no customer data store", "/", 404)
    given, kind, form = await _asked(request)
    if given.strip() != str(form.get("confirm") or "").strip():
        return refused("Not erased", "Not erased: the two ids differ", "/customers", 400)
    by = session_of(request).agent.login
    try:
        erasure = await asyncio.to_thread(data.erase, given, by=by, kind=kind)
    except SubjectError as error:
        return refused("Not erased", f"Not erased: {error}", "/customers", 400)
    found = len(erasure.subject.conversations)
    message = (f"Erased {found} conversation{'s' if found != 1 else ''} ({erasure.total} rows)."
               if found else "Nothing was held about that id; the request is audited.")
    body = (header(request) + f'<main><p class="done" role="status">{html.escape(message)}</p>'
            '<p><a href="/customers">Back</a></p></main>')
    return page("Erased", body)


def add_customer_routes(app: web.Application) -> None:
    """The Customers' data section's routes."""
    app.router.add_get("/customers", customers_view)
    app.router.add_post("/customers/export", customers_export)
    app.router.add_post("/customers/erase", customers_erase)
