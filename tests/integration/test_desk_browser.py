"""The desk in Debian's chromium (Playwright): log in, the queue in order, a ticket, a note,
a reply (to the customer's web chat), resolve, the morning report. The desk runs as its own
process, as `nightdesk up` starts it; Rasa is stood in for by a small loopback server that
records the hand-back events."""

from __future__ import annotations

import json
import re
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.desk.agents import AgentDirectory
from bot.handoff.reasons import HandoffReason
from bot.handoff.tickets import HandoffRequest, TicketService, TranscriptLine
from bot.hours import OfficeCalendar
from bot.runtime.processes import running_desk
from bot.settings import get_brand, load_settings
from bot.store import create_db_engine, ensure_schema
from bot.webchat.agent_messages import AgentMessageBox
from tests.integration.conftest import port, stack_environment

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PASSWORD = "morning shift password"


class _FakeRasa(BaseHTTPRequestHandler):
    received: list[tuple[str, object]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _FakeRasa.received.append((self.path, body))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: scripts/test.sh installs it (apt chromium)")
    tmp = tmp_path_factory.mktemp("desk")
    rasa = ThreadingHTTPServer(("127.0.0.1", 0), _FakeRasa)
    threading.Thread(target=rasa.serve_forever, daemon=True).start()
    env = stack_environment(tmp, port(15305), port(15355))
    env["RASA_URL"] = f"http://127.0.0.1:{rasa.server_address[1]}"
    env["DESK_URL"] = f"http://127.0.0.1:{port(15380)}"
    settings = load_settings(env)
    engine = create_db_engine(settings.database_url)
    ensure_schema(engine)
    AgentDirectory(engine).add("giulia", "Giulia Neri", "agent", PASSWORD, by="test")
    tickets = TicketService(engine, OfficeCalendar.from_brand(get_brand()), timedelta(minutes=30))
    now = datetime.now(timezone.utc)
    cases = {}
    for name, reason, line in (
        ("Piera", HandoffReason.HUMAN_REQUEST, "Can I speak to someone please?"),
        ("Ugo", HandoffReason.COMPLAINT, "The sole came off after two days!"),
    ):
        cases[name] = tickets.open_ticket(HandoffRequest(
            conversation_id=f"wc-{name.lower()}-0001", channel="webchat", customer_name=name,
            reason=reason, transcript=[TranscriptLine("customer", line, now)],
        )).case_number
    with running_desk(settings, tmp / "logs"):
        yield settings, tickets, cases
    rasa.shutdown()


def test_the_desk_in_chromium(desk):
    from playwright.sync_api import sync_playwright

    settings, tickets, cases = desk
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-dev-shm-usage"],
        )
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            page.set_default_timeout(30_000)
            page.goto(f"{settings.desk_url}/")
            assert "/login" in page.url  # no session: to the login page

            page.fill("input[name=login]", "giulia")
            page.fill("input[name=password]", "not the password")
            page.click("button[type=submit]")
            assert "Wrong login or password." in page.inner_text("[role=alert]")

            page.fill("input[name=password]", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"{settings.desk_url}/")
            customers = page.locator("tbody tr td:nth-child(2)").all_inner_texts()
            assert customers == ["Ugo", "Piera"]  # the complaint is high priority: first
            page.screenshot(path=str(ARTIFACTS / "desk-queue.png"), full_page=True)

            page.click(f"text=#{cases['Ugo']}")
            assert "The sole came off after two days!" in page.inner_text(".transcript")
            page.fill("textarea[name=text] >> nth=1", "Asked for a photo of the sole.")
            page.click("text=Add note")
            page.locator(".notes", has_text="Asked for a photo of the sole.").wait_for()
            # the customer writes again while the ticket is open: it shows up by itself
            tickets.add_customer_message("wc-ugo-0001", TranscriptLine(
                "customer", "Here is the photo of the sole.", datetime.now(timezone.utc)))
            page.locator(".transcript li", has_text="Here is the photo of the sole.").wait_for()
            # the reply goes to the customer's web chat and onto the transcript
            page.fill("textarea[aria-label=Reply]", "Thanks Ugo, a new pair is on its way.")
            page.click("text=Send reply")
            page.locator(".transcript li",
                         has_text="Thanks Ugo, a new pair is on its way.").wait_for()
            page.screenshot(path=str(ARTIFACTS / "desk-ticket.png"), full_page=True)

            page.click("text=Resolve (the bot answers again)")
            page.wait_for_url(f"{settings.desk_url}/")
            assert page.locator("tbody tr td:nth-child(2)").all_inner_texts() == ["Piera"]

            # the morning report: three charts drawn by matplotlib, shown in the page
            page.click("header >> text=Report")
            page.wait_for_url(f"{settings.desk_url}/report")
            page.locator("figure img").nth(2).wait_for()
            widths = page.eval_on_selector_all("figure img", "images => images.map("
                                               "i => i.complete ? i.naturalWidth : 0)")
            assert widths == [720, 720, 720]
            assert page.get_attribute("#handoffs_by_reason img", "alt") == "no handoffs"
            page.click("main >> text=Today")  # the tickets were opened today
            page.wait_for_url(f"{settings.desk_url}/report?since=today")
            assert page.get_attribute("#handoffs_by_reason img", "alt") == (
                "human request: 1; complaint: 1")
            page.screenshot(path=str(ARTIFACTS / "desk-report.png"), full_page=True)
        finally:
            browser.close()
    assert tickets.get(cases["Ugo"]).status == "resolved"
    (sent,) = AgentMessageBox(create_db_engine(settings.database_url)).after("wc-ugo-0001")
    assert sent.text == "Thanks Ugo, a new pair is on its way.\n— Giulia"
    paths = [path for path, _ in _FakeRasa.received]
    assert any(re.search(r"/conversations/wc-ugo-0001/tracker/events", p) for p in paths)
