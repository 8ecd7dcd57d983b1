"""The desk's /healthz, /readyz and /metrics: public, through its real app and gate."""

from __future__ import annotations

import dataclasses

from bot.desk.services import SERVICES
from bot.desk.web.factory import create_app
from bot.handoff.reasons import HandoffReason
from bot.handoff.tickets import HandoffRequest
from bot.observability.health import Readiness, condition_check, database_check
from bot.observability.metrics import Metrics
from bot.observability.probes import Probes
from bot.store import create_db_engine
from tests.unit.desk.web.test_pages import desk, run  # noqa: F401


def test_the_probes_need_no_session_and_say_ready(desk, fresh_metrics):  # noqa: F811
    app, tickets, engine = desk
    tickets.open_ticket(HandoffRequest(conversation_id="c-probe", channel="messenger",
                                       reason=HandoffReason.COMPLAINT, transcript=[]))
    probed = create_app(app[SERVICES], probes=Probes(Readiness([
        condition_check("services", lambda: True, "not built"), database_check(engine)]),
        fresh_metrics))

    async def scenario(browser, base):
        async with browser.get(f"{base}/healthz", allow_redirects=False) as alive:
            assert alive.status == 200 and await alive.json() == {"alive": True}
        async with browser.get(f"{base}/readyz", allow_redirects=False) as ready:
            assert ready.status == 200
            assert await ready.json() == {"ready": True,
                                          "checks": {"services": "ok", "database": "ok"}}
        async with browser.get(f"{base}/metrics", allow_redirects=False) as scraped:
            assert scraped.status == 200
            return await scraped.text()

    text = run(probed, scenario)
    assert 'nightdesk_handoffs_total{reason="complaint"} 1.0' in text
    assert "process_start_time_seconds" in text


def test_readyz_is_503_when_the_database_is_unreachable(desk):  # noqa: F811
    app, _, _ = desk
    down = create_db_engine("postgresql://desk:pw@127.0.0.1:17995/desk")
    probed = create_app(app[SERVICES], probes=Probes(Readiness([database_check(down)]),
                                                     Metrics()))

    async def scenario(browser, base):
        async with browser.get(f"{base}/readyz", allow_redirects=False) as ready:
            return ready.status, await ready.json()

    status, body = run(probed, scenario)
    assert status == 503 and body["ready"] is False
    assert body["checks"]["database"].startswith("failed: ") and "17995" not in str(body)


def test_without_probes_given_the_desk_checks_its_services(desk):  # noqa: F811
    app, _, _ = desk
    plain = create_app(dataclasses.replace(app[SERVICES]))

    async def scenario(browser, base):
        async with browser.get(f"{base}/readyz", allow_redirects=False) as ready:
            return ready.status, await ready.json()

    assert run(plain, scenario) == (200, {"ready": True, "checks": {"services": "ok"}})
