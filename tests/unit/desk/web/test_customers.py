"""The desk's Customers' data section over HTTP: an admin exports, then erases, a customer.

The customer is seeded across every table (`tests.unit.privacy.test_privacy.seed`, Rasa's
events through Rasa's own tracker store); who may use the section is checked in
desk/web/test_routes.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from bot.store.audit import AuditLog
from tests.unit.desk.web.test_pages import desk, log_in, run  # noqa: F401
from tests.unit.privacy.test_privacy import (
    EMAIL,
    NOW,
    ORDER,
    OTHER,
    OTHER_WORDS,
    PSID,
    SECRET_WORDS,
    db,  # noqa: F401
    everything,
    seed,
)

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def test_an_admin_exports_then_erases_a_customer_and_the_audit_keeps_only_the_hash(desk, db):  # noqa: F811
    app, _, engine = desk
    seed(engine, PSID, NOW - timedelta(days=2), SECRET_WORDS, EMAIL, ORDER, "m-1")
    seed(engine, OTHER, NOW - timedelta(days=1), OTHER_WORDS, None, "10044", "m-2")

    async def scenario(browser, base):
        await log_in(browser, base, login="ada")
        async with browser.get(f"{base}/customers") as section:
            assert section.status == 200
            body = await section.text()
            assert '<a href="/customers" aria-current="page">' in body
            assert "No export or erasure yet." in body
            token = CSRF.search(body).group(1)
        async with browser.post(f"{base}/customers/export", data={
                "csrf_token": token, "id": EMAIL, "kind": ""}) as export:
            assert export.status == 200
            assert export.headers["Content-Disposition"] == \
                'attachment; filename="customer-export-email.json"'
            assert export.headers["Cache-Control"] == "no-store"
            document = await export.json()
            assert document["conversations"] == [PSID]
            assert SECRET_WORDS in str(document["held"]) and OTHER_WORDS not in str(document)
        async with browser.post(f"{base}/customers/export", data={
                "csrf_token": token, "id": "a\x07b"}) as bad:
            assert bad.status == 400 and "control characters" in await bad.text()
        async with browser.post(f"{base}/customers/erase", data={
                "id": PSID, "confirm": PSID}, allow_redirects=False) as no_csrf:
            assert no_csrf.status == 403
        async with browser.post(f"{base}/customers/erase", data={
                "csrf_token": token, "id": PSID, "confirm": PSID[:-1]}) as mismatch:
            assert mismatch.status == 400 and "the two ids differ" in await mismatch.text()
        assert SECRET_WORDS in everything(engine)
        async with browser.post(f"{base}/customers/erase", data={
                "csrf_token": token, "id": PSID, "confirm": f" {PSID} "}) as erased:
            assert erased.status == 200
            assert "Erased 1 conversation (" in await erased.text()
        async with browser.get(f"{base}/customers") as section:
            body = await section.text()
            assert hashlib.sha256(PSID.encode()).hexdigest()[:16] in body
            assert PSID not in body and EMAIL not in body

    run(app, scenario)
    stored = everything(engine)
    assert SECRET_WORDS not in stored and PSID not in stored and EMAIL not in stored
    assert OTHER_WORDS in stored
    actions = [(e.actor, e.action) for e in AuditLog(engine).recent(10)
               if e.action.startswith("customer.")]
    assert actions == [("ada", "customer.erase"), ("ada", "customer.export")]
