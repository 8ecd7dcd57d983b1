"""The desk in Debian's chromium (Playwright): log in, the queue in order, a ticket, a note,
a reply (to the customer's web chat), resolve, the morning report. The desk runs as its own
process, as `nightdesk up` starts it; Rasa is stood in for by a small loopback server that
records the hand-back events."""

from __future__ import annotations

import json
import re
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bot.desk.agents import AgentDirectory
from bot.handoff.reasons import HandoffReason
from bot.handoff.tickets import HandoffRequest, TicketService, TranscriptLine
from bot.hours import OfficeCalendar
from bot.runtime.processes import running_desk
from bot.settings import get_brand, load_settings
from bot.store import create_db_engine, ensure_schema
from bot.webchat.agent_messages import AgentMessageBox
from tests.integration.conftest import PROJECT_DIR, port, stack_environment
from tests.rasa_events import events_table, slot_event, user_event

CHROMIUM = Path("/usr/bin/chromium")
# the desk's process takes its services from the composition root, which loads the brand's
# wording beside brand.yml as every process does
PROJECT_FILES = ["config.yml", "domain.yml", "brand.yml", "wording.yml", "trainer.yml",
                 "canned_replies.yml", "credentials.yml", "endpoints.yml", "data", "tests/nlu"]
GIFT_WRAP_QUESTIONS = ["can you gift wrap my order?", "do you do gift wrapping",
                       "gift wrap please", "is gift wrapping available?"]
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


@contextmanager
def chromium_page(height: int, timeout_ms: int) -> Iterator[Any]:
    """A page in Debian's chromium (never a downloaded browser), 1200 pixels wide."""
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-dev-shm-usage"],
        )
        try:
            page = browser.new_page(viewport={"width": 1200, "height": height})
            page.set_default_timeout(timeout_ms)
            yield page
        finally:
            browser.close()


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: scripts/test.sh installs it (apt chromium)")
    tmp = tmp_path_factory.mktemp("desk")
    rasa = ThreadingHTTPServer(("127.0.0.1", 0), _FakeRasa)
    threading.Thread(target=rasa.serve_forever, daemon=True).start()
    env = stack_environment(tmp, port(15305), port(15355))
    # the Training section writes the project's data: the desk works on a copy of it
    project = tmp / "project"
    for part in PROJECT_FILES:
        source, target = PROJECT_DIR / part, project / part
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy)(source, target)
    env["NIGHTDESK_HOME"] = str(project)
    env["RASA_URL"] = f"http://127.0.0.1:{rasa.server_address[1]}"
    env["DESK_URL"] = f"http://127.0.0.1:{port(15380)}"
    settings = load_settings(env)
    engine = create_db_engine(settings.database_url)
    ensure_schema(engine)
    AgentDirectory(engine).add("giulia", "Giulia Neri", "agent", PASSWORD, by="test")
    AgentDirectory(engine).add("tina", "Tina Bruni", "trainer", PASSWORD, by="test")
    events = events_table(engine)
    with engine.begin() as connection:
        connection.execute(events.insert(), [
            row for i, text in enumerate(GIFT_WRAP_QUESTIONS) for row in (
                user_event(f"wc-night-{i}", text,
                           datetime.now(timezone.utc) - timedelta(hours=5 - i), "nlu_fallback",
                           0.3),
                slot_event(f"wc-night-{i}", "language", "en",  # as action_detect_language does
                           datetime.now(timezone.utc) - timedelta(hours=5 - i, seconds=-1)))])
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
        yield settings, tickets, cases, project
    rasa.shutdown()


def test_the_desk_in_chromium(desk):
    settings, tickets, cases, _ = desk
    with chromium_page(800, 30_000) as page:
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
    assert tickets.get(cases["Ugo"]).status == "resolved"
    (sent,) = AgentMessageBox(create_db_engine(settings.database_url)).after("wc-ugo-0001")
    assert sent.text == "Thanks Ugo, a new pair is on its way.\n— Giulia"
    paths = [path for path, _ in _FakeRasa.received]
    assert any(re.search(r"/conversations/wc-ugo-0001/tracker/events", p) for p in paths)


def test_the_training_section_in_chromium(desk):
    settings, _, _, project = desk
    with chromium_page(900, 120_000) as page:  # creating an intent runs rasa data validate
        page.goto(f"{settings.desk_url}/login")
        page.fill("input[name=login]", "tina")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{settings.desk_url}/")
        page.click("header >> text=Training")
        page.wait_for_url(f"{settings.desk_url}/training")
        group = page.locator("#group-1")
        assert group.locator("li").count() == 4
        assert "gift" in group.locator("h2").inner_text()
        assert "in English" in group.locator("h2").inner_text()  # the language slot's
        page.screenshot(path=str(ARTIFACTS / "desk-training.png"), full_page=True)
        group.locator("input[name=name]").fill("gift_wrapping")
        group.locator("textarea[name=answers_en]").fill(
            "Yes! Choose gift wrapping at checkout (€3).\nWe gift wrap for €3.")
        group.locator("text=Create intent").click()
        refused = page.locator("[role=alert]")  # no Italian answer yet: refused, named
        refused.wait_for()
        assert "missing in Italian (it)" in refused.inner_text()
        page.click("main >> text=Back")
        page.wait_for_url(f"{settings.desk_url}/training")
        group = page.locator("#group-1")
        group.locator("input[name=name]").fill("gift_wrapping")
        group.locator("textarea[name=answers_en]").fill(
            "Yes! Choose gift wrapping at checkout (€3).\nWe gift wrap for €3.")
        group.locator("textarea[name=answers_it]").fill("Sì! Confezione regalo a 3 €.")
        group.locator("text=Create intent").click()
        status = page.locator("[role=status]")
        status.wait_for()
        assert "4 message(s) labelled gift_wrapping: 3 to training, 1 to the test file, " \
            "0 already known, in English" in status.inner_text()
        page.click("text=Back to training")
        page.locator("text=The review inbox is empty.").wait_for()
    domain = (project / "domain.yml").read_text()
    assert "  - gift_wrapping\n" in domain and "utter_gift_wrapping:" in domain
    assert (project / "data/nlu/en/gift_wrapping.yml").exists()
    assert not (PROJECT_DIR / "data/nlu/en/gift_wrapping.yml").exists()
