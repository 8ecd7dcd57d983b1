"""The desk web app over HTTP: login (CSRF, rate limit), sessions, roles, the open tickets,
a ticket's page (its language, the canned replies in it first), the morning report."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from aiohttp import ClientSession, CookieJar, web
from aiohttp.test_utils import TestServer

from bot.desk.agents import AgentDirectory
from bot.desk.canned import CannedReply
from bot.desk.claims import ClaimBook
from bot.desk.login_limit import LoginLimit
from bot.desk.notes import NoteBook
from bot.desk.replies import ReplyRefused
from bot.desk.services import DeskServices
from bot.desk.sessions import SessionStore
from bot.desk.web.factory import create_app
from bot.handoff.reasons import HandoffReason, Priority
from bot.handoff.tickets import HandoffRequest, TicketService
from bot.hours import OfficeCalendar
from bot.messenger.hand_back import HandBackError
from bot.messenger.threads import ThreadStore
from bot.metrics.figures import compute
from bot.metrics.report import period
from bot.orders.seed import seed_demo_shop
from bot.orders.sql_backend import SqlOrderBackend
from bot.privacy.customer_data import CustomerData
from bot.settings import get_brand
from bot.store.audit import AuditLog
from bot.trainer.review import ReviewInbox
from bot.trainer.settings import TrainerSettings
from tests.unit.metrics.test_figures import LANGUAGES, MESSAGES, NOW, SINCE, TICKETS, UNTIL

PASSWORD = "a long enough password"
HANDED_BACK = web.AppKey("handed_back_for_test", list)
REPLIES = web.AppKey("replies_for_test", list)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture()
def desk(engine):
    brand = get_brand()
    tickets = TicketService(engine, OfficeCalendar.from_brand(brand), timedelta(minutes=30))
    directory = AgentDirectory(engine)
    directory.add("anna", "Anna Rossi", "agent", PASSWORD, by="test")
    directory.add("tina", "Tina Bruni", "trainer", PASSWORD, by="test")
    directory.add("ada", "Ada Conti", "admin", PASSWORD, by="test")
    handed_back: list[tuple[int, str]] = []

    async def hand_back(case: int, by: str, resolved: bool = False):
        if case == 404:
            raise HandBackError("Rasa answered HTTP 500")
        handed_back.append((case, by))
        return tickets.hand_back(case, by=by, resolved=resolved)

    replies: list[tuple[int, str, str]] = []

    async def send_reply(ticket, agent, text: str):
        if ticket.channel != "messenger":
            raise ReplyRefused(f"replies to the {ticket.channel} channel cannot be delivered yet")
        replies.append((ticket.case_number, agent.login, text))

    def report(since: str) -> dict[str, object]:
        period(since, brand.timezone, NOW)  # refuses what the real report refuses
        return compute(MESSAGES, TICKETS, OfficeCalendar.from_brand(brand), SINCE, UNTIL, NOW,
                       languages=LANGUAGES)

    app = create_app(DeskServices(
        agents=directory, sessions=SessionStore(engine), login_limit=LoginLimit(engine),
        tickets=tickets, claims=ClaimBook(engine), notes=NoteBook(engine),
        orders=SqlOrderBackend(engine), threads=ThreadStore(engine), zone=brand.timezone,
        hand_back=hand_back, send_reply=send_reply,
        canned=(CannedReply(
            "delay", "it", "Scuse per il ritardo",
            "Ciao {first_name}, ordine {order_number}: {tracking_url} ({agent_name})"),
            CannedReply(
            "delay", "en", "Sorry for the delay",
            "Hi {first_name}, order {order_number}: {tracking_url} ({agent_name})"),
            CannedReply("bye", "it", "Altro?", "Altro, {first_name}?"),
            CannedReply("bye", "en", "Anything else?", "Anything else, {first_name}?")),
        languages=LANGUAGES, report=report, review=ReviewInbox(engine, TrainerSettings()),
        customer_data=CustomerData(engine, AuditLog(engine), lambda: NOW),
    ))
    app[REPLIES] = replies
    app[HANDED_BACK] = handed_back
    return app, tickets, engine


def run(app, scenario) -> Any:
    async def main():
        server = TestServer(app)
        await server.start_server()
        try:
            async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as browser:
                return await scenario(browser, str(server.make_url("")).rstrip("/"))
        finally:
            await server.close()

    return asyncio.run(main())


async def log_in(browser, base, login="anna", password=PASSWORD):
    async with browser.get(f"{base}/login?next=/") as page:
        csrf = CSRF.search(await page.text()).group(1)
    async with browser.post(f"{base}/login", allow_redirects=False, data={
        "login": login, "password": password, "csrf_token": csrf, "next": "/",
    }) as answer:
        return answer.status, answer.headers.get("Location"), await answer.text()


def test_without_a_session_pages_redirect_and_the_api_says_401(desk):
    app, _, _ = desk

    async def scenario(browser, base):
        async with browser.get(f"{base}/", allow_redirects=False) as page:
            assert page.status == 302 and page.headers["Location"].startswith("/login?next=")
            assert page.headers["X-Frame-Options"] == "DENY"
        async with browser.get(f"{base}/api/tickets") as api:
            assert api.status == 401 and (await api.json())["error"] == "log in first"
        async with browser.post(f"{base}/logout", allow_redirects=False) as out:
            assert out.status == 302
        async with browser.get(f"{base}/health") as health:
            assert health.status == 200

    run(app, scenario)


def test_logging_in_shows_the_open_tickets_most_urgent_first(desk):
    app, tickets, engine = desk
    for name, reason in (("Piera", HandoffReason.HUMAN_REQUEST), ("Ugo", HandoffReason.ABUSE)):
        tickets.open_ticket(HandoffRequest(
            conversation_id=f"c-{name}", channel="messenger", customer_name=name,
            reason=reason, transcript=[],
        ))

    async def scenario(browser, base):
        status, location, _ = await log_in(browser, base)
        assert (status, location) == (302, "/")
        async with browser.get(f"{base}/") as page:
            text = await page.text()
        assert text.index("Ugo") < text.index("Piera")
        assert "Anna Rossi (agent)" in text
        async with browser.get(f"{base}/api/tickets") as api:
            names = [t["customer_name"] for t in (await api.json())["tickets"]]
        assert names == ["Ugo", "Piera"]
        cookie = next(c for c in browser.cookie_jar if c.key == "nightdesk_session")
        assert cookie["httponly"] and cookie["samesite"] == "Strict"

    run(app, scenario)
    actions = [e.action for e in AuditLog(engine).recent()]
    assert actions[0] == "session.login"


def test_wrong_passwords_are_refused_then_rate_limited(desk):
    app, _, engine = desk

    async def scenario(browser, base):
        statuses = [(await log_in(browser, base, password="wrong password!"))[0]
                    for _ in range(5)]
        assert statuses == [401] * 5
        status, _, text = await log_in(browser, base)  # even the right one, for a while
        assert status == 429 and "Too many failed attempts" in text
        status, _, text = await log_in(browser, base, login="nobody")
        assert status == 401 and "Wrong login or password." in text

    run(app, scenario)


def test_a_login_without_its_form_token_is_refused(desk):
    app, _, _ = desk

    async def scenario(browser, base):
        async with browser.post(f"{base}/login", allow_redirects=False, data={
            "login": "anna", "password": PASSWORD, "csrf_token": "forged"}) as answer:
            assert answer.status == 403

    run(app, scenario)


def test_posts_need_the_sessions_csrf_token_and_logout_ends_the_session(desk):
    app, _, engine = desk

    async def scenario(browser, base):
        await log_in(browser, base)
        async with browser.post(f"{base}/logout", allow_redirects=False,
                                data={"csrf_token": "forged"}) as forged:
            assert forged.status == 403
        async with browser.get(f"{base}/api/me") as me:
            token = (await me.json())["csrf_token"]
        async with browser.post(f"{base}/logout", allow_redirects=False,
                                headers={"X-CSRF-Token": token}) as out:
            assert out.status == 302 and out.headers["Location"] == "/login"
        async with browser.get(f"{base}/api/me") as me:
            assert me.status == 401

    run(app, scenario)
    assert [e.action for e in AuditLog(engine).recent()][:2] == ["session.logout",
                                                                 "session.login"]


def test_next_never_leaves_the_desk(desk):
    app, _, _ = desk

    async def scenario(browser, base):
        async with browser.get(f"{base}/login?next=//evil.example/x") as page:
            text = await page.text()
        assert 'name="next" value="/"' in text

    run(app, scenario)


def test_a_trainer_may_read_the_tickets(desk):
    app, _, _ = desk

    async def scenario(browser, base):
        await log_in(browser, base, login="tina")
        async with browser.get(f"{base}/api/tickets") as api:
            assert api.status == 200
        async with browser.get(f"{base}/api/me") as me:
            assert (await me.json())["role"] == "trainer"

    run(app, scenario)


def test_a_role_without_the_permission_gets_403(desk):

    from bot.desk.roles import Permission
    from bot.desk.web.gate import require

    app, _, _ = desk

    @require(Permission.MANAGE_AGENTS)
    async def admin_only(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app.router.add_get("/api/admin-only", admin_only)

    async def scenario(browser, base):
        await log_in(browser, base, login="anna")
        async with browser.get(f"{base}/api/admin-only") as api:
            assert api.status == 403
            assert (await api.json())["error"] == "the agent role may not do this"

    run(app, scenario)


def test_claiming_through_the_api_and_the_queues_buttons(desk):
    app, tickets, engine = desk
    case = tickets.open_ticket(HandoffRequest(
        conversation_id="c-claim", channel="messenger", customer_name="Piera",
        reason=HandoffReason.COMPLAINT, transcript=[],
    )).case_number
    AgentDirectory(engine).add("marco", "Marco Bianchi", "agent", PASSWORD, by="test")

    async def as_anna(browser, base):
        await log_in(browser, base)
        async with browser.get(f"{base}/api/me") as me:
            token = (await me.json())["csrf_token"]
        async with browser.post(f"{base}/api/tickets/{case}/claim",
                                headers={"X-CSRF-Token": token}) as claimed:
            assert claimed.status == 200 and (await claimed.json())["claimed_by"] == "anna"
        async with browser.get(f"{base}/") as page:
            assert f'action="/tickets/{case}/unclaim"' in await page.text()

    async def as_marco(browser, base):
        await log_in(browser, base, login="marco")
        async with browser.get(f"{base}/") as page:
            text = await page.text()
            assert "Anna Rossi" in text and f"/tickets/{case}/" not in text  # no button
            token = CSRF.search(text).group(1)
        async with browser.post(f"{base}/tickets/{case}/claim", allow_redirects=False,
                                data={"csrf_token": token}) as refused:
            assert refused.status == 409
            assert "already claimed by Anna Rossi" in await refused.text()
        async with browser.post(f"{base}/api/tickets/{case}/claim",
                                headers={"X-CSRF-Token": token}) as refused:
            assert refused.status == 409

    async def as_tina(browser, base):  # a trainer reads but does not work tickets
        await log_in(browser, base, login="tina")
        async with browser.get(f"{base}/api/me") as me:
            token = (await me.json())["csrf_token"]
        async with browser.post(f"{base}/api/tickets/{case}/unclaim",
                                headers={"X-CSRF-Token": token}) as forbidden:
            assert forbidden.status == 403

    async def three_browsers(browser, base):
        await as_anna(browser, base)
        for person in (as_marco, as_tina):
            async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as other:
                await person(other, base)

    run(app, three_browsers)


def test_the_ticket_page_shows_packet_transcript_order_and_private_notes(desk):
    from bot.handoff.tickets import TranscriptLine

    app, tickets, engine = desk
    now = datetime.now(timezone.utc)
    seed_demo_shop(engine, now)
    case = tickets.open_ticket(HandoffRequest(
        conversation_id="c-page", channel="messenger", customer_name="Anna",
        reason=HandoffReason.COMPLAINT, order_number="10023",
        transcript=[TranscriptLine("customer", "My boots <b>arrived</b> broken!", now),
                    TranscriptLine("bot", "I'm sorry to hear that.", now)],
        intents_seen=[("complaint", 0.93)],
        status_told="Order 10023 was delivered on Friday.",
    )).case_number

    async def scenario(browser, base):
        await log_in(browser, base)
        async with browser.get(f"{base}/tickets/{case}") as page:
            text = await page.text()
        assert f"Case #{case}" in text and "complaint (0.93)" in text
        assert "My boots &lt;b&gt;arrived&lt;/b&gt; broken!" in text  # escaped
        assert "I&#x27;m sorry to hear that." in text
        assert "The bot told them: Order 10023 was delivered on Friday." in text
        packet = text[text.index('class="packet"'):text.index("</table>")]
        assert "What they wanted" in packet and "My boots &lt;b&gt;arrived&lt;/b&gt;" in packet
        assert "What the bot already said" in packet and "sorry to hear" in packet
        assert "Order 10023" in text and "anna.rossi@example.com" in text
        token = CSRF.search(text).group(1)
        async with browser.post(f"{base}/tickets/{case}/notes", allow_redirects=False,
                                data={"csrf_token": token, "text": "Called the carrier."}) as add:
            assert add.status == 302
        async with browser.post(f"{base}/tickets/{case}/notes",
                                data={"csrf_token": token, "text": "   "}) as empty:
            assert empty.status == 400 and "the note is empty" in await empty.text()
        async with browser.get(f"{base}/tickets/{case}") as page:
            assert "Anna Rossi</strong>: Called the carrier." in await page.text()
        async with browser.get(f"{base}/tickets/424242") as missing:
            assert missing.status == 404

    run(app, scenario)
    entry = AuditLog(engine).recent(target=f"ticket:{case}")[0]
    assert entry.action == "ticket.note" and entry.detail == {"characters": 19}


def test_handing_back_from_the_ticket_page_closes_it_and_drops_the_claim(desk):
    app, tickets, engine = desk
    case = tickets.open_ticket(HandoffRequest(
        conversation_id="c-back", channel="webchat", customer_name="Ugo",
        reason=HandoffReason.HUMAN_REQUEST, transcript=[],
    )).case_number

    async def scenario(browser, base):
        await log_in(browser, base)
        async with browser.get(f"{base}/tickets/{case}") as page:
            token = CSRF.search(await page.text()).group(1)
        async with browser.post(f"{base}/api/tickets/{case}/claim",
                                headers={"X-CSRF-Token": token}) as claimed:
            assert claimed.status == 200
        async with browser.post(f"{base}/tickets/{case}/handback", allow_redirects=False,
                                data={"csrf_token": token}) as back:
            assert back.status == 302 and back.headers["Location"] == "/"
        async with browser.post(f"{base}/tickets/404/handback",
                                data={"csrf_token": token}) as refused:
            assert refused.status == 409
            assert "Not handed back: Rasa answered HTTP 500" in await refused.text()

    run(app, scenario)
    assert app[HANDED_BACK] == [(case, "anna")]
    assert tickets.get(case).status != "open"
    assert ClaimBook(engine).holder(case) is None
    assert AuditLog(engine).recent(target=f"ticket:{case}")[0].action == "ticket.handback"


def test_replying_from_the_ticket_page(desk):
    app, tickets, engine = desk
    dm = tickets.open_ticket(HandoffRequest(
        conversation_id="psid-77", channel="messenger", customer_name="Ugo",
        reason=HandoffReason.HUMAN_REQUEST, transcript=[],
    )).case_number
    web_case = tickets.open_ticket(HandoffRequest(
        conversation_id="wc-77", channel="webchat", customer_name="Ugo",
        reason=HandoffReason.HUMAN_REQUEST, transcript=[],
    )).case_number

    async def scenario(browser, base):
        await log_in(browser, base)
        async with browser.get(f"{base}/tickets/{dm}") as page:
            text = await page.text()
        assert f'action="/tickets/{dm}/reply"' in text
        token = CSRF.search(text).group(1)
        async with browser.post(f"{base}/tickets/{dm}/reply", allow_redirects=False,
                                data={"csrf_token": token, "text": "Your refund is on its way"}
                                ) as sent:
            assert sent.status == 302
        async with browser.post(f"{base}/tickets/{web_case}/reply",
                                data={"csrf_token": token, "text": "Hello"}) as refused:
            assert refused.status == 409
            assert "Not sent: replies to the webchat channel" in await refused.text()

    run(app, scenario)
    assert app[REPLIES] == [(dm, "anna", "Your refund is on its way")]
    entry = AuditLog(engine).recent(target=f"ticket:{dm}")[0]
    assert entry.action == "ticket.reply" and entry.detail == {"characters": 25}


def test_resolving_and_changing_the_priority(desk):
    app, tickets, engine = desk
    case = tickets.open_ticket(HandoffRequest(
        conversation_id="c-res", channel="messenger", customer_name="Ugo",
        reason=HandoffReason.HUMAN_REQUEST, transcript=[],
    )).case_number

    async def scenario(browser, base):
        await log_in(browser, base)
        async with browser.get(f"{base}/tickets/{case}") as page:
            token = CSRF.search(await page.text()).group(1)
        async with browser.post(f"{base}/tickets/{case}/priority", allow_redirects=False,
                                data={"csrf_token": token, "priority": "urgent"}) as moved:
            assert moved.status == 302
        async with browser.post(f"{base}/tickets/{case}/priority",
                                data={"csrf_token": token, "priority": "asap"}) as bad:
            assert bad.status == 400 and "unknown priority" in await bad.text()
        assert tickets.get(case).priority is Priority.URGENT
        async with browser.post(f"{base}/tickets/{case}/resolve", allow_redirects=False,
                                data={"csrf_token": token}) as done:
            assert done.status == 302

    run(app, scenario)
    assert tickets.get(case).status == "resolved"
    actions = [e.action for e in AuditLog(engine).recent(target=f"ticket:{case}")]
    assert actions == ["ticket.resolve", "ticket.priority"]


def test_one_ticket_as_json_for_the_live_transcript(desk):
    from bot.handoff.tickets import TranscriptLine

    app, tickets, _ = desk
    now = datetime.now(timezone.utc)
    case = tickets.open_ticket(HandoffRequest(
        conversation_id="c-live", channel="webchat", customer_name="Ugo",
        reason=HandoffReason.COMPLAINT, transcript=[TranscriptLine("customer", "first", now)],
    )).case_number
    tickets.add_customer_message("c-live", TranscriptLine("customer", "second", now))

    async def scenario(browser, base):
        async with browser.get(f"{base}/api/tickets/{case}") as anonymous:
            assert anonymous.status == 401
        await log_in(browser, base)
        async with browser.get(f"{base}/api/tickets/{case}") as api:
            body = await api.json()
        assert [line["text"] for line in body["transcript"]] == ["first", "second"]
        assert body["status"] == "open" and body["claimed_by"] is None
        async with browser.get(f"{base}/static/desk.js") as script:
            assert script.status == 200 and "textContent" in await script.text()

    run(app, scenario)


REPLY_BOX = re.compile(r'aria-label="Reply"(?: lang="(\w+)")?>([^<]*)</textarea>')
CANNED_LINE = re.compile(r'<p class="canned" data-language="(\w+)">(.*?)</p>')


def test_a_canned_reply_is_filled_into_the_reply_box(desk):
    app, tickets, engine = desk
    seed_demo_shop(engine, datetime.now(timezone.utc))
    case = tickets.open_ticket(HandoffRequest(
        conversation_id="c-canned", channel="messenger", customer_name="Anna",
        reason=HandoffReason.COMPLAINT, order_number="10023", transcript=[],
    )).case_number

    async def scenario(browser, base):
        await log_in(browser, base)
        async with browser.get(f"{base}/tickets/{case}") as page:
            assert f'href="/tickets/{case}?canned=delay&amp;language=en"' in await page.text()
        async with browser.get(f"{base}/tickets/{case}?canned=delay") as page:
            text = await page.text()
        language, box = REPLY_BOX.search(text).groups()
        assert box.startswith("Hi Anna, order 10023: https://") and box.endswith("(Anna)")
        assert language == "en"  # the ticket's

    run(app, scenario)


def test_the_canned_replies_come_in_the_tickets_language_first(desk):
    app, tickets, _ = desk
    cases = {language: tickets.open_ticket(HandoffRequest(
        conversation_id=f"c-canned-{language}", channel="messenger", customer_name="Piera",
        reason=HandoffReason.HUMAN_REQUEST, language=language, transcript=[],
    )).case_number for language in LANGUAGES}

    async def scenario(browser, base):
        await log_in(browser, base)
        offered = {}
        for language, case in cases.items():
            async with browser.get(f"{base}/tickets/{case}") as page:
                offered[language] = CANNED_LINE.findall(await page.text())
        italian, english = offered["it"], offered["en"]
        assert [code for code, _ in italian] == ["it", "en"]
        assert [code for code, _ in english] == ["en", "it"]
        first, then = italian[0][1], italian[1][1]
        assert "Canned replies in Italian, the customer's language" in first
        assert first.index("Scuse per il ritardo") < first.index("Altro?")
        assert "In English" in then and "Sorry for the delay" in then and "Scuse" not in then
        assert "Canned replies in English, the customer's language" in english[0][1]
        # picked without a language: the ticket's; with one: that one
        async with browser.get(f"{base}/tickets/{cases['it']}?canned=bye") as page:
            assert REPLY_BOX.search(await page.text()).groups() == ("it", "Altro, Piera?")
        async with browser.get(f"{base}/tickets/{cases['it']}?canned=bye&language=en") as page:
            assert REPLY_BOX.search(await page.text()).groups() == (
                "en", "Anything else, Piera?")
        async with browser.get(f"{base}/tickets/{cases['it']}?canned=bye&language=de") as page:
            assert REPLY_BOX.search(await page.text()).groups() == ("it", "Altro, Piera?")

    run(app, scenario)


def test_the_queue_the_ticket_and_its_packet_show_the_language(desk):
    app, tickets, _ = desk
    italian = tickets.open_ticket(HandoffRequest(
        conversation_id="c-lang-it", channel="messenger", customer_name="Piera",
        reason=HandoffReason.COMPLAINT, language="it", transcript=[],
    )).case_number
    english = tickets.open_ticket(HandoffRequest(
        conversation_id="c-lang-en", channel="messenger", customer_name="Ugo",
        reason=HandoffReason.HUMAN_REQUEST, language="en", transcript=[],
    )).case_number
    badge = re.compile(r'<span class="lang" title="(\w+)"><span aria-hidden="true">(\w+)'
                       r'</span><span class="sr-only">(\w+)</span></span>')

    async def scenario(browser, base):
        await log_in(browser, base)
        async with browser.get(f"{base}/") as page:
            text = await page.text()
        assert "<th>Customer</th><th>Language</th>" in text
        rows = dict(re.findall(r'href="/tickets/(\d+)">.*?</td><td>[^<]*</td><td>(.*?)</td>',
                               text))
        assert badge.fullmatch(rows[str(italian)]).groups() == ("Italian", "IT", "Italian")
        assert badge.fullmatch(rows[str(english)]).groups() == ("English", "EN", "English")
        assert '<option value="it">Italian</option>' in text  # the language filter
        async with browser.get(f"{base}/?language=en") as page:
            text = await page.text()
        assert f"/tickets/{english}" in text and f"/tickets/{italian}\"" not in text
        async with browser.get(f"{base}/api/tickets?language=it") as api:
            listed = (await api.json())["tickets"]
        assert [(t["case_number"], t["language"]) for t in listed] == [(italian, "it")]
        async with browser.get(f"{base}/api/tickets?language=xx") as api:
            assert len((await api.json())["tickets"]) == 2  # unknown: not a filter
        async with browser.get(f"{base}/tickets/{italian}") as page:
            text = await page.text()
        heading = re.search(r"<h1>(.*?)</h1>", text).group(1)
        assert heading.startswith(f"Case #{italian} ") and badge.search(heading)
        packet = text[text.index('class="packet"'):text.index("</table>")]
        assert ('<tr><th>Language</th><td><span class="lang" aria-hidden="true">IT</span> '
                "Italian</td></tr>") in packet
        assert 'class="transcript"' in text and 'lang="it"' in text
        async with browser.get(f"{base}/api/tickets/{italian}") as api:
            assert (await api.json())["language"] == "it"

    run(app, scenario)


def test_the_morning_report_page_and_its_json(desk):
    app, _, _ = desk

    async def scenario(browser, base):
        async with browser.get(f"{base}/report", allow_redirects=False) as anonymous:
            assert anonymous.status == 302
            assert anonymous.headers["Location"].startswith("/login?next=")
        await log_in(browser, base, "tina")  # every role reads the report
        async with browser.get(f"{base}/report?since=yesterday") as page:
            assert page.status == 200
            text = await page.text()
        assert text.count('src="data:image/png;base64,') == 3
        assert "Night volume by hour" in text and "Handoffs by reason" in text
        assert '<a href="/report" aria-current="page">Report</a>' in text
        assert '<a href="/api/report?since=yesterday">' in text
        async with browser.get(f"{base}/report?since=last+week") as bad:
            assert bad.status == 400
            assert "yesterday, today or YYYY-MM-DD" in await bad.text()
        assert "<caption>By language</caption>" in text
        assert text.index('<tr data-language="it">') < text.index('<tr data-language="en">')
        async with browser.get(f"{base}/api/report?since=yesterday") as api:
            figures = await api.json()
        assert figures["tickets_by_reason"] == {"complaint": 1, "human_request": 1}
        assert list(figures["by_language"]) == ["it", "en"]
        assert figures["by_language"]["it"]["containment"] == 0.0
        assert figures["by_language"]["en"]["customer_messages"] == 2
        async with browser.get(f"{base}/api/report?since=2026-13-01") as bad_api:
            assert bad_api.status == 400 and "not a date" in (await bad_api.json())["error"]

    run(app, scenario)


def test_an_agent_marks_a_customer_message_for_the_trainers(desk):
    from bot.handoff.tickets import TranscriptLine

    app, tickets, engine = desk
    now = datetime.now(timezone.utc)
    case = tickets.open_ticket(HandoffRequest(
        conversation_id="c-mark", channel="messenger", customer_name="Ivo",
        reason=HandoffReason.REPEATED_FALLBACK,
        transcript=[TranscriptLine("customer", "can you gift wrap it?", now),
                    TranscriptLine("bot", "Sorry, I didn't get that.", now)],
    )).case_number

    async def scenario(browser, base):
        await log_in(browser, base)
        async with browser.get(f"{base}/tickets/{case}") as page:
            text = await page.text()
        assert text.count("Mark for training") == 1  # the customer's line only
        token = CSRF.search(text).group(1)
        async with browser.post(f"{base}/tickets/{case}/lines/0/mark", allow_redirects=False,
                                data={"csrf_token": token}) as marked:
            assert marked.status == 302 and marked.headers["Location"] == f"/tickets/{case}"
        async with browser.post(f"{base}/tickets/{case}/lines/1/mark",
                                data={"csrf_token": token}) as bot_line:
            assert bot_line.status == 400
            assert "only a customer&#x27;s message can be marked" in await bot_line.text()
        async with browser.post(f"{base}/tickets/{case}/lines/7/mark",
                                data={"csrf_token": token}) as missing:
            assert missing.status == 400
        async with browser.get(f"{base}/tickets/{case}") as page:
            text = await page.text()
        assert "marked for the trainers" in text and "Mark for training" not in text

    run(app, scenario)
    (item,) = ReviewInbox(engine, TrainerSettings()).items()
    assert (item.text, item.reasons, item.conversation_id) == (
        "can you gift wrap it?", ("marked",), "c-mark")
    entry = AuditLog(engine).recent(target=f"ticket:{case}")[0]
    assert entry.action == "ticket.mark_for_training" and entry.detail == {"line": 0}
