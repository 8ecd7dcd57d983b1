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

import json

from aiohttp import web

from bot.desk.services import DeskServices
from bot.desk.web.blocking import run_blocking
from bot.desk.web.gate import session_of
from bot.desk.web.rendering import page, refused
from bot.desk.web.request_data import services_of
from bot.desk.web.strings import STRINGS
from bot.privacy.customer_data import CustomerData
from bot.privacy.subject import KINDS, MAX_ID_CHARS, SubjectError
from bot.store.audit import AuditEntry

CUSTOMER_ACTIONS = ("customer.export", "customer.erase")
SHOWN_REQUESTS = 20


def _customer_data(request: web.Request) -> CustomerData | None:
    return services_of(request).customer_data


def _history(services: DeskServices) -> list[AuditEntry]:
    """The latest exports and erasures of the audit log, newest first (blocking)."""
    entries = [e for e in services.agents.audit.recent(200) if e.action in CUSTOMER_ACTIONS]
    return entries[:SHOWN_REQUESTS]


async def customers_view(request: web.Request) -> web.Response:
    """The section's page."""
    if _customer_data(request) is None:
        return refused(request, STRINGS.customers_title, STRINGS.no_customer_data, "/", 404)
    services = services_of(request)
    entries = await run_blocking(_history, services)
    return page(request, "customers.html", title=STRINGS.customers_title, entries=entries,
                zone=services.zone, kinds=KINDS, max_id_chars=MAX_ID_CHARS)


async def _asked(request: web.Request) -> tuple[str, str | None, web.MultiDictProxy]:
    form = await request.post()
    given = str(form.get("id") or "")
    kind = str(form.get("kind") or "") or None
    return given, kind, form


async def customers_export(request: web.Request) -> web.Response:
    """The export as a download."""
    data = _customer_data(request)
    if data is None:
        return refused(request, STRINGS.not_exported, STRINGS.no_customer_data, "/", 404)
    given, kind, _ = await _asked(request)
    by = session_of(request).agent.login
    try:
        document = await run_blocking(data.export, given, by=by, kind=kind)
    except SubjectError as error:
        return refused(request, STRINGS.not_exported,
                       STRINGS.not_exported_because.format(reason=error), "/customers", 400)
    name = f"customer-export-{document['asked_for']['kind']}.json"
    return web.Response(
        text=json.dumps(document, ensure_ascii=False, indent=2), content_type="application/json",
        headers={"Content-Disposition": f'attachment; filename="{name}"',
                 "Cache-Control": "no-store"})


async def customers_erase(request: web.Request) -> web.Response:
    """Erases, once the id was typed twice."""
    data = _customer_data(request)
    if data is None:
        return refused(request, STRINGS.not_erased, STRINGS.no_customer_data, "/", 404)
    given, kind, form = await _asked(request)
    if given.strip() != str(form.get("confirm") or "").strip():
        return refused(request, STRINGS.not_erased, STRINGS.ids_differ, "/customers", 400)
    by = session_of(request).agent.login
    try:
        erasure = await run_blocking(data.erase, given, by=by, kind=kind)
    except SubjectError as error:
        return refused(request, STRINGS.not_erased,
                       STRINGS.not_erased_because.format(reason=error), "/customers", 400)
    found = len(erasure.subject.conversations)
    if not found:
        message = STRINGS.nothing_held
    else:
        erased = STRINGS.erased_one if found == 1 else STRINGS.erased_many
        message = erased.format(count=found, rows=erasure.total)
    return page(request, "done.html", title=STRINGS.erased_title, message=message,
                done_class="done", back="/customers", back_label=STRINGS.back)
