"""Every desk endpoint without a session, with a role that may not use it, and without CSRF.

The table below names each route's URLs and the permission it needs; the first test checks
that it covers every route of the app, so a new endpoint cannot escape these checks.
"""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import unquote

import pytest

from bot.desk.claims import ClaimBook
from bot.desk.notes import NoteBook
from bot.desk.roles import Permission
from bot.handoff.reasons import HandoffReason, Priority
from bot.handoff.tickets import HandoffRequest, TranscriptLine
from bot.trainer.review import ReviewInbox
from bot.trainer.settings import TrainerSettings
from tests.unit.desk.web.test_pages import HANDED_BACK, REPLIES, desk, log_in, run  # noqa: F401

READ, WORK, TRAIN = Permission.READ_TICKETS, Permission.WORK_TICKETS, Permission.TRAIN
CUSTOMERS = Permission.MANAGE_CUSTOMER_DATA
ROUTES: dict[str, tuple[str, list[str], Permission | None]] = {
    "home": ("GET", ["/"], READ),
    "api_tickets": ("GET", ["/api/tickets"], READ),
    "api_me": ("GET", ["/api/me"], None),
    "report_view": ("GET", ["/report"], READ),
    "api_report": ("GET", ["/api/report"], READ),
    "ticket_view": ("GET", ["/tickets/{case}"], READ),
    "api_ticket": ("GET", ["/api/tickets/{case}"], READ),
    "logout": ("POST", ["/logout"], None),
    "api_claim": ("POST", ["/api/tickets/{case}/claim", "/api/tickets/{case}/unclaim"], WORK),
    "page_claim": ("POST", ["/tickets/{case}/claim", "/tickets/{case}/unclaim"], WORK),
    "add_note": ("POST", ["/tickets/{case}/notes"], WORK),
    "mark_line": ("POST", ["/tickets/{case}/lines/0/mark"], READ),
    "training_view": ("GET", ["/training"], TRAIN),
    "api_training": ("GET", ["/api/training"], TRAIN),
    "training_decide": ("POST", ["/training/assign", "/training/new-intent",
                                 "/training/dismiss"], TRAIN),
    "reply": ("POST", ["/tickets/{case}/reply"], WORK),
    "change_priority": ("POST", ["/tickets/{case}/priority"], WORK),
    "hand_back_case": ("POST", ["/tickets/{case}/handback", "/tickets/{case}/resolve"], WORK),
    "customers_view": ("GET", ["/customers"], CUSTOMERS),
    "customers_export": ("POST", ["/customers/export"], CUSTOMERS),
    "customers_erase": ("POST", ["/customers/erase"], CUSTOMERS),
}
PUBLIC = {"login_page", "login", "stylesheet", "script", "favicon", "health", "healthz", "readyz",
          "metrics"}
FORM = {"text": "Hello from the desk", "priority": "urgent"}


def endpoints(case: int) -> list[tuple[str, str, str, Permission | None]]:
    """(handler, method, url, permission) for every URL of the table."""
    return [(name, method, url.format(case=case), permission)
            for name, (method, urls, permission) in ROUTES.items() for url in urls]


@pytest.fixture()
def open_case(desk):  # noqa: F811 - the fixture imported above
    app, tickets, engine = desk
    ticket = tickets.open_ticket(HandoffRequest(
        conversation_id="c-access", channel="messenger", customer_name="Piera",
        reason=HandoffReason.COMPLAINT,
        transcript=[TranscriptLine("customer", "Broken again", datetime.now(timezone.utc))],
    ))
    return app, tickets, engine, ticket.case_number


def assert_untouched(app, tickets, engine, case: int, marks: bool = False) -> None:
    ticket = tickets.get(case)
    assert ticket.status == "open" and ticket.priority is Priority.HIGH  # a complaint's
    assert ClaimBook(engine).holder(case) is None
    assert NoteBook(engine).for_ticket(case) == []
    assert app[REPLIES] == [] and app[HANDED_BACK] == []
    assert bool(ReviewInbox(engine, TrainerSettings()).marked_times("c-access")) is marks


def test_the_table_names_every_route_and_its_permission(desk):  # noqa: F811
    app, _, _ = desk
    handlers = {route.handler.__name__: route.handler for route in app.router.routes()
                if route.method != "HEAD"}
    assert set(handlers) == set(ROUTES) | PUBLIC
    for name, handler in handlers.items():
        assert getattr(handler, "desk_public", False) is (name in PUBLIC), name
        if name in ROUTES:
            assert getattr(handler, "desk_permission", None) == ROUTES[name][2], name
    for name, (method, _, _) in ROUTES.items():
        assert any(r.method == method and r.handler.__name__ == name
                   for r in app.router.routes()), name


def test_without_a_session_nothing_is_shown_or_done(open_case):
    app, tickets, engine, case = open_case

    async def scenario(browser, base):
        for name, method, url, _ in endpoints(case):
            async with browser.request(method, f"{base}{url}", allow_redirects=False,
                                       data=FORM if method == "POST" else None) as answer:
                if url.startswith("/api/"):
                    assert answer.status == 401, name
                    assert (await answer.json())["error"] == "log in first"
                else:
                    assert answer.status == 302, name
                    location = answer.headers["Location"]
                    assert location.startswith("/login?next="), name
                    assert unquote(location.split("next=", 1)[1]) == url, name

    run(app, scenario)
    assert_untouched(app, tickets, engine, case)


def test_a_trainer_reads_but_cannot_work_a_ticket(open_case):
    app, tickets, engine, case = open_case

    async def scenario(browser, base):
        await log_in(browser, base, login="tina")
        async with browser.get(f"{base}/api/me") as me:
            token = (await me.json())["csrf_token"]
        for name, method, url, permission in endpoints(case):
            if name == "logout":
                continue
            async with browser.request(method, f"{base}{url}", allow_redirects=False,
                                       data={**FORM, "csrf_token": token}
                                       if method == "POST" else None) as answer:
                if permission in (WORK, CUSTOMERS):
                    assert answer.status == 403, name
                    assert "the trainer role may not do this" in await answer.text()
                elif permission is TRAIN and method == "POST":  # no messages named: refused
                    assert answer.status not in (401, 403), name
                else:  # reading, and marking a message for the trainers
                    assert answer.status == (302 if method == "POST" else 200), name

    run(app, scenario)
    assert_untouched(app, tickets, engine, case, marks=True)  # the one thing a trainer did


def test_an_agent_may_not_use_the_training_or_the_customers_data_section(open_case):
    app, tickets, engine, case = open_case

    async def scenario(browser, base):
        await log_in(browser, base, login="anna")
        async with browser.get(f"{base}/api/me") as me:
            token = (await me.json())["csrf_token"]
        for name, method, url, permission in endpoints(case):
            if permission not in (TRAIN, CUSTOMERS):
                continue
            async with browser.request(method, f"{base}{url}", allow_redirects=False,
                                       data={"csrf_token": token, "key": "c@1.000"}
                                       if method == "POST" else None) as answer:
                assert answer.status == 403, name
                assert "the agent role may not do this" in await answer.text()

    run(app, scenario)
    assert_untouched(app, tickets, engine, case)


@pytest.mark.parametrize("login, section", [("anna", "tickets"), ("tina", "training")])
def test_without_the_csrf_token_nothing_changes(open_case, login, section):
    app, tickets, engine, case = open_case

    async def scenario(browser, base):
        await log_in(browser, base, login=login)
        for name, method, url, permission in endpoints(case):
            if method != "POST" or permission is CUSTOMERS \
                    or (permission is TRAIN) != (section == "training"):
                continue
            for token in (None, "forged"):
                data = {**FORM, "csrf_token": token} if token else FORM
                async with browser.post(f"{base}{url}", allow_redirects=False,
                                        data=data) as answer:
                    assert answer.status == 403, name
                    assert "CSRF" in await answer.text()
        async with browser.get(f"{base}/api/me") as me:
            assert me.status == 200  # still logged in: logout was refused too

    run(app, scenario)
    assert_untouched(app, tickets, engine, case)
