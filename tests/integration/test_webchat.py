"""The web chat through its real interfaces: HTTP on the Rasa server, and headless Chromium.

The browser is Debian's chromium (scripts/test.sh installs it), driven by Playwright, which
never downloads a browser of its own here.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot.store import create_db_engine
from tests.integration.conftest import Stack

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CASE = re.compile(r"#(\d+)")


def page_url(stack: Stack) -> str:
    return f"{stack.settings.rasa_url}/webhooks/webchat/"


def request(
    stack: Stack, path: str, body: bytes | None = None
) -> tuple[int, str, bytes]:
    """GET (or POST `body` as JSON) under the web chat; status, content type and body."""
    req = urllib.request.Request(
        page_url(stack) + path, data=body, method="POST" if body is not None else "GET",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=120) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type", ""), error.read()


def chat(stack: Stack, sender: str, message: str, **extra: Any) -> list[dict[str, Any]]:
    status, _, answer = request(
        stack, "webhook", json.dumps({"sender": sender, "message": message, **extra}).encode()
    )
    assert status == 200, answer
    return json.loads(answer)


def tap(stack: Stack, sender: str, payload: str, **extra: Any) -> list[dict[str, Any]]:
    """A tapped chip: its payload, as the page sends it."""
    status, _, answer = request(
        stack, "webhook", json.dumps({"sender": sender, "payload": payload, **extra}).encode()
    )
    assert status == 200, answer
    return json.loads(answer)


def new_sender() -> str:
    return "wc-" + uuid.uuid4().hex[:16]


# ------------------------------------------------------------------ HTTP


def test_the_page_and_its_files_are_served(stack):
    status, content_type, page = request(stack, "")
    assert status == 200 and content_type.startswith("text/html")
    assert b"<title>Nora \xc2\xb7 Northwind Footwear</title>" in page
    for name, kind in (("chat.css", "text/css"), ("chat.js", "text/javascript")):
        status, content_type, _ = request(stack, f"static/{name}")
        assert status == 200 and content_type.startswith(kind)
    status, _, answer = request(stack, "static/..%2F..%2Fcredentials.yml")
    assert status == 404 and "error" in json.loads(answer)


def test_a_message_gets_the_bots_answer_and_the_name_is_used(stack):
    answer = chat(stack, new_sender(), "hello", first_name="Marta")
    assert answer and "Marta" in answer[0]["text"] and "Nora" in answer[0]["text"]


def test_a_sentence_typed_as_the_first_name_is_answered_without_a_name(stack):
    typed = "ciao, quanto costa la spedizione in Germania?! I'm Nora"
    answer = chat(stack, new_sender(), "hello", first_name=typed, language="en")
    assert answer and "Nora" in answer[0]["text"]
    text = " ".join(message.get("text", "") for message in answer)
    for part in ("ciao", "quanto", "spedizione", "Germania", "I'm Nora!"):
        assert part not in text


@pytest.mark.parametrize(
    ("body", "status", "complaint"),
    [
        (b"{oops", 400, "not valid JSON"),
        (json.dumps({"message": "hi"}).encode(), 400, "'sender'"),
        (json.dumps({"sender": "wc-0123456789ab", "message": ""}).encode(), 400, "'message'"),
        (json.dumps({"sender": "wc-0123456789ab", "message": "x" * 20000}).encode(), 413,
         "larger than 16384 bytes"),
    ],
)
def test_bad_requests_get_a_clear_error_and_reach_no_conversation(stack, body, status, complaint):
    got, _, answer = request(stack, "webhook", body)
    assert got == status
    assert complaint in json.loads(answer)["error"]


def test_a_handoff_from_the_web_chat_is_a_ticket_of_that_channel(stack):
    sender = new_sender()
    reply = " ".join(m.get("text", "") for m in tap(
        stack, sender, "/human_request", display_text="Talk to a person", first_name="Marta"
    ))
    case = CASE.search(reply)
    assert case, reply
    engine = create_db_engine(stack.settings.database_url)
    with engine.connect() as connection:
        ticket = connection.execute(
            text("select channel, customer_name, conversation_id from handoff_tickets"
                 " where id = :id"), {"id": int(case.group(1))}
        ).mappings().one()
    assert dict(ticket) == {"channel": "webchat", "customer_name": "Marta",
                            "conversation_id": sender}


def test_typed_commands_are_words_and_leave_no_email_in_the_logs(stack):
    sender = new_sender()
    chat(stack, sender, "/human_request")
    chat(stack, sender, '/inform{"email": "mario.rossi@example.com"}')
    events = stack.tracker(sender)["events"]
    users = [event for event in events if event["event"] == "user"]
    assert [user["text"] for user in users] == [
        "human_request", 'inform{"email": "mario.rossi@example.com"}']
    for user in users:
        # NLU's reading (a ranking of intents; the model may well be sure an e-mail is
        # `inform`), not Rasa's command reading (one intent, its entities from the command)
        assert len(user["parse_data"].get("intent_ranking") or []) > 1
        assert not any(e.get("extractor") == "RegexMessageHandler"
                       for e in user["parse_data"].get("entities", []))
    # (the words "human_request" may still be read as asking for a person: that is NLU's call)
    status, _, answer = request(stack, "webhook", json.dumps(
        {"sender": sender, "payload": "/not_an_intent_of_ours"}).encode())
    assert status == 400 and "'payload'" in json.loads(answer)["error"]
    for log in stack.log_dir.glob("*"):
        assert "mario.rossi" not in log.read_text(errors="replace"), log.name


def send_from_the_desk(stack: Stack, case: int, words: str) -> None:
    """What the desk does when an agent replies on a case (bot.desk.replies)."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor
    from datetime import timedelta

    from bot.desk.agents import AgentDirectory
    from bot.desk.replies import reply_to_customer
    from bot.handoff.tickets import TicketService
    from bot.hours import OfficeCalendar
    from bot.settings import get_brand

    engine = create_db_engine(stack.settings.database_url)
    tickets = TicketService(engine, OfficeCalendar.from_brand(get_brand()), timedelta(minutes=30))
    directory = AgentDirectory(engine)
    agent = directory.get("sara") or directory.add(
        "sara", "Sara Conti", "agent", "a long enough password", by="test")
    reply = reply_to_customer(stack.settings, engine, tickets, tickets.get(case), agent, words)
    # a thread of its own: Playwright's sync API keeps an event loop running in this one
    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(asyncio.run, reply).result(timeout=60)


def test_a_persons_replies_are_fetched_after_the_last_one_shown(stack):
    sender = new_sender()
    case = int(CASE.search(" ".join(m.get("text", "") for m in tap(
        stack, sender, "/human_request", first_name="Ivo"))).group(1))
    send_from_the_desk(stack, case, "First reply")
    send_from_the_desk(stack, case, "Second reply")
    status, kind, body = request(stack, f"agent_messages?sender={sender}&after=0")
    assert status == 200 and kind.startswith("application/json")
    first, second = json.loads(body)["messages"]
    assert first["text"] == "First reply\n— Sara" and second["id"] > first["id"]
    _, _, body = request(stack, f"agent_messages?sender={sender}&after={first['id']}")
    assert [m["text"] for m in json.loads(body)["messages"]] == ["Second reply\n— Sara"]
    _, _, body = request(stack, f"agent_messages?sender={new_sender()}&after=0")
    assert json.loads(body) == {"messages": []}
    for query, complaint in (("sender=x&after=0", "'sender'"),
                             (f"sender={sender}&after=-1", "'after'"),
                             (f"sender={sender}&after=one", "'after'")):
        status, _, body = request(stack, f"agent_messages?{query}")
        assert status == 400 and complaint in json.loads(body)["error"]


# ------------------------------------------------------------------ a real browser


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: scripts/test.sh installs it (apt chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-dev-shm-usage"],
        )
        try:
            yield chromium
        finally:
            chromium.close()


def open_page(browser, stack, locale: str | None = None):  # noqa: ANN201 - a generator
    """The web chat in a fresh browser context (`locale`: the browser's language)."""
    options = {"locale": locale} if locale else {}
    context = browser.new_context(viewport={"width": 480, "height": 860}, **options)
    # the brand's avatar is on the internet, which this machine cannot reach: the page must
    # fall back to the initials; refuse every request that is not the local bot
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1)"), lambda route: route.abort())
    tab = context.new_page()
    tab.set_default_timeout(120_000)
    tab.goto(page_url(stack))
    try:
        yield tab
    finally:
        context.close()


@pytest.fixture()
def page(browser, stack):
    yield from open_page(browser, stack)


def bot_texts(page) -> list[str]:
    return page.locator(".row.bot.msg .bubble").all_inner_texts()


def wait_for_bot_messages(page, count: int) -> None:
    page.wait_for_function(
        "n => document.querySelectorAll('.row.bot.msg').length >= n", arg=count
    )


def test_the_web_chat_in_chromium(page, stack):
    ARTIFACTS.mkdir(exist_ok=True)
    # the welcome screen: who the bot is, that it is automated, the ice breakers
    page.locator(".welcome .avatar.big").wait_for()
    assert page.locator(".chat-header .bot-name").inner_text() == "Nora"
    page.wait_for_function("document.querySelector('.chat-header .avatar').textContent === 'N'")
    assert "automated assistant" in page.locator(".greeting").inner_text()
    assert "Where is my order?" in page.locator(".ice-breaker").all_inner_texts()

    # type a name and a greeting: the customer's bubble, the typing dots, the bot's answer
    page.fill("[data-role=first-name]", "Marta")
    assert page.locator(".greeting").inner_text().startswith("Hi Marta!")
    held: list[Any] = []  # the request is held back, so the typing dots can be seen
    page.route("**/webhooks/webchat/webhook", lambda route: held.append(route))
    page.fill("[data-role=input]", "hello")
    page.press("[data-role=input]", "Enter")
    page.locator(".row.user.msg", has_text="hello").wait_for()
    page.locator(".row.typing").wait_for()
    while not held:
        page.wait_for_timeout(50)
    assert page.locator(".row.typing").is_visible()
    held[0].continue_()
    wait_for_bot_messages(page, 1)
    assert page.locator(".row.typing").count() == 0
    page.unroute("**/webhooks/webchat/webhook")
    assert "Marta" in bot_texts(page)[0]
    assert page.locator(".welcome").is_hidden()

    # the bot asks to rephrase (keyboard mash, which the unfamiliar-text component turns into
    # nlu_fallback whatever the weights; typed "/nlu_fallback" is only words): chips; tap one
    page.fill("[data-role=input]", "qwxz vbnm plokij")
    page.press("[data-role=input]", "Enter")
    wait_for_bot_messages(page, 2)
    chips = page.locator(".quick-replies .chip")
    chips.first.wait_for()
    assert chips.all_inner_texts() == ["Where's my order?", "Shipping", "Returns",
                                       "Talk to a person"]
    page.screenshot(path=str(ARTIFACTS / "webchat-quick-replies.png"))
    chips.filter(has_text="Shipping").click()
    page.locator(".row.user.msg", has_text="Shipping").wait_for()
    wait_for_bot_messages(page, 3)
    assert page.locator(".quick-replies .chip").count() == 0
    assert "Italy" in bot_texts(page)[-1]

    # an order: the status and its card with the tracking button
    page.fill("[data-role=input]", "where is my order 10023?")
    page.press("[data-role=input]", "Enter")
    page.locator(".row.user.msg", has_text="10023").wait_for()
    before = page.locator(".row.bot.msg").count()
    wait_for_bot_messages(page, before + 1)
    page.fill("[data-role=input]", "20121")
    page.press("[data-role=input]", "Enter")
    card = page.locator(".order-card")
    card.wait_for()
    assert "Order 10023" in card.inner_text()
    assert card.locator("a.card-button").get_attribute("href").startswith("https://")
    # the product picture is on the internet, out of reach here: no broken image is left
    page.wait_for_function("!document.querySelector('.order-card img')")
    page.screenshot(path=str(ARTIFACTS / "webchat.png"), full_page=True)

    # the bot cannot be reached: an error bubble; Retry delivers the message
    page.route("**/webhooks/webchat/webhook", lambda route: route.abort())
    page.fill("[data-role=input]", "how much is shipping to Germany?")
    page.press("[data-role=input]", "Enter")
    error = page.locator(".error")
    error.wait_for()
    assert "Not delivered" in error.inner_text()
    page.unroute("**/webhooks/webchat/webhook")
    error.locator("button").click()
    page.locator(".row.bot.msg", has_text="€9.90").wait_for()
    assert page.locator(".error").count() == 0
    assert page.locator(".row.user.msg", has_text="Germany").count() == 1  # not sent twice

    # a reload keeps the conversation; "New chat" starts another one
    shown = page.locator(".row.msg").count()
    page.reload()
    page.locator(".row.msg").nth(shown - 1).wait_for()
    assert page.locator(".row.msg").count() == shown
    page.click("[data-role=new-chat]")
    assert page.locator(".row.msg").count() == 0 and page.locator(".welcome").is_visible()

    # the menu: "Talk to a person" hands the conversation to a person
    page.click("[data-role=menu-button]")
    page.locator(".menu-item", has_text="Talk to a person").click()
    page.locator(".row.user.msg", has_text="Talk to a person").wait_for()
    wait_for_bot_messages(page, 1)
    case = CASE.search(" ".join(bot_texts(page)))
    assert case

    # in the morning a person answers from the desk: the reply appears in the chat by itself
    send_from_the_desk(stack, int(case.group(1)), "Good morning Marta, I'm looking into it")
    agent_bubble = page.locator(".row.agent.msg")
    agent_bubble.wait_for(timeout=30_000)
    assert agent_bubble.inner_text().endswith("Good morning Marta, I'm looking into it\n— Sara")
    assert agent_bubble.locator(".from-team").inner_text() == "Northwind Footwear team"
    page.screenshot(path=str(ARTIFACTS / "webchat-agent-reply.png"))
    page.reload()
    page.locator(".row.agent.msg").wait_for()
    page.wait_for_timeout(5_000)  # a poll after the reload: the reply is not drawn twice
    assert page.locator(".row.agent.msg").count() == 1



# ------------------------------------------------------------------ languages


def test_the_page_speaks_the_asked_or_the_browsers_language(stack):
    _, _, italian = request(stack, "?lang=it")
    assert b'<html lang="it">' in italian and b'"language": "it"' in italian
    req = urllib.request.Request(page_url(stack), headers={"Accept-Language": "en-GB,en;q=0.9"})
    with urllib.request.urlopen(req, timeout=60) as response:
        assert response.headers["Content-Language"] == "en"
        assert b'<html lang="en">' in response.read()


def test_each_answer_says_the_conversations_language(stack):
    sender = new_sender()

    def say(message: str, **extra: Any) -> tuple[str, str]:
        req = urllib.request.Request(
            page_url(stack) + "webhook", method="POST",
            data=json.dumps({"sender": sender, "message": message, **extra}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=120) as response:
            texts = " ".join(m.get("text", "") for m in json.loads(response.read()))
            return response.headers.get("X-Conversation-Language", ""), texts

    language, texts = say("ok", language="en")  # the page's language starts the conversation
    assert language == "en", texts
    language, texts = say("quanto costa la spedizione in Germania?")
    assert language == "it" and "Germania" in texts, texts


@pytest.fixture()
def italian_page(browser, stack):
    yield from open_page(browser, stack, locale="it-IT")


def test_the_web_chat_in_italian_then_english(italian_page, stack):
    page = italian_page
    page.locator(".welcome .avatar.big").wait_for()
    assert page.evaluate("document.documentElement.lang") == "it"
    assert "assistente virtuale" in page.locator(".greeting").inner_text()
    assert "Dov'è il mio ordine?" in page.locator(".ice-breaker").all_inner_texts()
    assert page.locator("[data-role=send]").inner_text() == "Invia"
    page.fill("[data-role=input]", "ciao, dov'è il mio ordine 10023?")
    page.press("[data-role=input]", "Enter")
    wait_for_bot_messages(page, 1)
    asked = bot_texts(page)[-1]
    assert "CAP" in asked or "e-mail" in asked, asked
    page.fill("[data-role=input]", "20121")
    page.press("[data-role=input]", "Enter")
    page.locator(".order-card").wait_for()
    status = " ".join(bot_texts(page))
    assert "BRT" in status and "10023" in status
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "webchat-italian.png"), full_page=True)
    before = page.locator(".row.bot.msg").count()
    page.fill("[data-role=input]", "sorry, how long does shipping to Spain take?")
    page.press("[data-role=input]", "Enter")
    wait_for_bot_messages(page, before + 1)
    page.wait_for_function("document.documentElement.lang === 'en'")
    assert page.locator("[data-role=send]").inner_text() == "Send"
    page.locator(".row.bot.msg", has_text="Spain").wait_for()
