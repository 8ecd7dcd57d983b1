"""The web chat through its real interfaces: HTTP on the Rasa server, and headless Chromium.

Over HTTP each conversation is one cookie-keeping client (`ChatClient`), as each browser is:
the conversation comes from the chat's session cookie, never from the request.

The browser is Debian's chromium (scripts/test.sh installs it), driven by Playwright, which
never downloads a browser of its own here.
"""

from __future__ import annotations

import json
import re
import secrets
import urllib.error
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot.store import create_db_engine
from bot.webchat.sessions import COOKIE_NAME
from tests.integration.conftest import Stack

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CASE = re.compile(r"#(\d+)")


def page_url(stack: Stack) -> str:
    return f"{stack.settings.rasa_url}/webhooks/webchat/"


class ChatClient:
    """One browser's conversation over HTTP: it keeps the session cookie it is given."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.cookies = CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def request(
        self, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, str, bytes]:
        """GET (or POST `body` as JSON) under the web chat; status, content type and body."""
        status, response_headers, answer = self.exchange(path, body, headers)
        return status, response_headers.get("Content-Type", ""), answer

    def exchange(
        self, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
        method: str | None = None,
    ) -> tuple[int, Any, bytes]:
        """The same, with the answer's headers."""
        req = urllib.request.Request(
            page_url(self.stack) + path, data=body,
            method=method or ("POST" if body is not None else "GET"),
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        try:
            with self.opener.open(req, timeout=120) as response:
                return response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read()

    def conversation(self) -> str:
        """The conversation id of this client's session (`GET session`)."""
        status, _, answer = self.request("session")
        assert status == 200, answer
        return json.loads(answer)["conversation"]

    def token(self) -> str | None:
        """The session token in this client's cookie, if it has one."""
        return next((c.value for c in self.cookies if c.name == COOKIE_NAME), None)


def new_client(stack: Stack) -> ChatClient:
    """A new browser, with no cookie yet."""
    return ChatClient(stack)


def request(
    stack: Stack, path: str, body: bytes | None = None
) -> tuple[int, str, bytes]:
    """A request from a browser that has no session cookie."""
    return new_client(stack).request(path, body)


def chat(client: ChatClient, message: str, **extra: Any) -> list[dict[str, Any]]:
    status, _, answer = client.request(
        "webhook", json.dumps({"message": message, **extra}).encode()
    )
    assert status == 200, answer
    return json.loads(answer)


def tap(client: ChatClient, payload: str, **extra: Any) -> list[dict[str, Any]]:
    """A tapped chip: its payload, as the page sends it."""
    status, _, answer = client.request(
        "webhook", json.dumps({"payload": payload, **extra}).encode()
    )
    assert status == 200, answer
    return json.loads(answer)


def user_texts(stack: Stack, conversation: str) -> list[str]:
    """The customer's messages in a conversation's tracker."""
    return [event["text"] for event in stack.tracker(conversation)["events"]
            if event["event"] == "user"]


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
    answer = chat(new_client(stack), "hello", first_name="Marta")
    assert answer and "Marta" in answer[0]["text"] and "Nora" in answer[0]["text"]


def test_a_sentence_typed_as_the_first_name_is_answered_without_a_name(stack):
    typed = "ciao, quanto costa la spedizione in Germania?! I'm Nora"
    answer = chat(new_client(stack), "hello", first_name=typed, language="en")
    assert answer and "Nora" in answer[0]["text"]
    text = " ".join(message.get("text", "") for message in answer)
    for part in ("ciao", "quanto", "spedizione", "Germania", "I'm Nora!"):
        assert part not in text


@pytest.mark.parametrize(
    ("body", "status", "complaint"),
    [
        (b"{oops", 400, "not valid JSON"),
        (json.dumps({"sender": "wc-0123456789ab", "message": "hi"}).encode(), 400,
         "the conversation comes from the chat's session cookie"),
        (json.dumps({"message": ""}).encode(), 400, "'message'"),
        (json.dumps({"message": "x" * 20000}).encode(), 413, "larger than 16384 bytes"),
    ],
)
def test_bad_requests_get_a_clear_error_and_reach_no_conversation(stack, body, status, complaint):
    client = new_client(stack)
    got, _, answer = client.request("webhook", body)
    assert got == status
    assert complaint in json.loads(answer)["error"]
    assert client.token() is None  # refused before any session was opened


def test_a_handoff_from_the_web_chat_is_a_ticket_of_that_channel(stack):
    client = new_client(stack)
    reply = " ".join(m.get("text", "") for m in tap(
        client, "/human_request", display_text="Talk to a person", first_name="Marta"
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
                            "conversation_id": client.conversation()}


def test_typed_commands_are_words_and_leave_no_email_in_the_logs(stack):
    client = new_client(stack)
    chat(client, "/human_request")
    chat(client, '/inform{"email": "mario.rossi@example.com"}')
    events = stack.tracker(client.conversation())["events"]
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
    status, _, answer = client.request("webhook", json.dumps(
        {"payload": "/not_an_intent_of_ours"}).encode())
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
    client = new_client(stack)
    case = int(CASE.search(" ".join(m.get("text", "") for m in tap(
        client, "/human_request", first_name="Ivo"))).group(1))
    send_from_the_desk(stack, case, "First reply")
    send_from_the_desk(stack, case, "Second reply")
    status, kind, body = client.request("agent_messages?after=0")
    assert status == 200 and kind.startswith("application/json")
    first, second = json.loads(body)["messages"]
    assert first["text"] == "First reply\n— Sara" and second["id"] > first["id"]
    _, _, body = client.request(f"agent_messages?after={first['id']}")
    assert [m["text"] for m in json.loads(body)["messages"]] == ["Second reply\n— Sara"]
    other = new_client(stack)
    other.conversation()  # a session of its own
    _, _, body = other.request("agent_messages?after=0")
    assert json.loads(body) == {"messages": []}
    for query, complaint in (("sender=x&after=0", "session cookie"),
                             (f"sender={client.conversation()}&after=0", "session cookie"),
                             ("after=-1", "'after'"),
                             ("after=one", "'after'")):
        status, _, body = client.request(f"agent_messages?{query}")
        assert status == 400 and complaint in json.loads(body)["error"]


# ------------------------------------------------------------------ whose conversation


def set_cookie_of(headers: Any) -> str:
    """The answer's Set-Cookie header for the web chat's session (one is expected)."""
    (cookie,) = [value for value in headers.get_all("Set-Cookie") or []
                 if value.startswith(COOKIE_NAME + "=")]
    return cookie


def test_the_web_chat_cannot_reach_a_messenger_conversation(stack):
    psid = "2450917735066" + str(secrets.randbelow(900) + 100)  # a Messenger page-scoped id
    stack.send(psid, "hello", first_name="Giulia")  # that customer's own conversation
    before = user_texts(stack, psid)
    assert before == ["hello"]
    client = new_client(stack)
    chat(client, "hello")  # this browser has a session of its own
    mine = client.conversation()
    assert mine != psid and mine.startswith("wc-")
    for body in ({"sender": psid, "message": "where is my order 10023?"},
                 {"sender": psid, "payload": "/human_request", "display_text": "Talk"},
                 {"sender": "", "message": "where is my order 10023?"}):
        for c in (client, new_client(stack)):
            status, _, answer = c.request("webhook", json.dumps(body).encode())
            assert status == 400, answer
            error = json.loads(answer)["error"]
            assert "'sender' is not accepted" in error and "session cookie" in error
    status, _, answer = client.request(f"webhook?sender={psid}",
                                       json.dumps({"message": "hi"}).encode())
    assert status == 400 and "session cookie" in json.loads(answer)["error"]
    for path in (f"agent_messages?sender={psid}&after=0", f"session?sender={psid}"):
        status, _, answer = client.request(path)
        assert status == 400 and "session cookie" in json.loads(answer)["error"], path
    assert user_texts(stack, psid) == before  # nothing reached the Messenger conversation
    assert user_texts(stack, mine) == ["hello"]
    assert client.conversation() == mine  # and the browser's own conversation is unchanged


def test_a_persons_replies_go_only_to_the_cookie_of_their_conversation(stack):
    alice, bob = new_client(stack), new_client(stack)
    case = int(CASE.search(" ".join(m.get("text", "") for m in tap(
        alice, "/human_request", first_name="Alice"))).group(1))
    chat(bob, "hello")
    send_from_the_desk(stack, case, "Only for Alice")
    _, _, body = alice.request("agent_messages?after=0")
    assert [m["text"] for m in json.loads(body)["messages"]] == ["Only for Alice\n— Sara"]
    _, _, body = bob.request("agent_messages?after=0")
    assert json.loads(body) == {"messages": []}
    # no cookie, a cookie of the wrong shape, a well-formed token nobody was given,
    # Alice's conversation id (not a token) in the cookie: 401
    for cookie in (None, f"{COOKIE_NAME}=not a token!", f"{COOKIE_NAME}={'A' * 43}",
                   f"{COOKIE_NAME}={secrets.token_urlsafe(32)}",
                   f"{COOKIE_NAME}={alice.conversation()}"):
        stranger = new_client(stack)
        status, _, answer = stranger.request(
            "agent_messages?after=0", headers={"Cookie": cookie} if cookie else None)
        assert status == 401, (cookie, answer)
        assert "session cookie" in json.loads(answer)["error"]
        assert "Only for Alice" not in answer.decode()


def test_each_browser_gets_its_own_conversation_and_an_httponly_cookie(stack):
    first, second = new_client(stack), new_client(stack)
    status, headers, answer = first.exchange("webhook", json.dumps({"message": "hello"}).encode())
    assert status == 200, answer
    cookie = set_cookie_of(headers)
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert {"path", "max-age", "httponly", "samesite"} <= attributes
    assert "Path=/webhooks/webchat" in cookie and "SameSite=Lax" in cookie
    assert "secure" not in attributes  # plain http on loopback
    chat(second, "hello")
    one, two = first.conversation(), second.conversation()
    assert one != two
    assert re.fullmatch(r"wc-[0-9a-f]{32}", one) and re.fullmatch(r"wc-[0-9a-f]{32}", two)
    assert first.token() != second.token()
    chat(first, "how much is shipping to Germany?")
    assert first.conversation() == one  # the cookie keeps the conversation
    assert user_texts(stack, one) == ["hello", "how much is shipping to Germany?"]
    assert user_texts(stack, two) == ["hello"]
    # behind an HTTPS proxy the cookie is Secure
    _, headers, _ = new_client(stack).exchange("session", headers={"X-Forwarded-Proto": "https"})
    assert "secure" in set_cookie_of(headers).lower().replace(" ", "").split(";")
    # "New chat": POST session starts another conversation for the same browser
    status, _, answer = first.exchange("session", b"", method="POST")
    assert status == 200
    fresh = json.loads(answer)["conversation"]
    assert fresh not in (one, two) and first.conversation() == fresh
    for log in stack.log_dir.glob("*"):  # the tokens are never logged
        text_of_log = log.read_text(errors="replace")
        for token in (first.token(), second.token()):
            assert token and token not in text_of_log, log.name


def test_a_garbage_or_unknown_cookie_just_gets_a_new_session(stack):
    for value in ("garbage", "x" * 500, "A" * 43, secrets.token_urlsafe(32)):
        browser = new_client(stack)
        status, headers, answer = browser.exchange(
            "webhook", json.dumps({"message": "hello"}).encode(),
            headers={"Cookie": f"{COOKIE_NAME}={value}"})
        assert status == 200 and json.loads(answer), answer
        assert value not in set_cookie_of(headers)
        conversation = browser.conversation()  # the new cookie, kept by the client
        assert user_texts(stack, conversation) == ["hello"]
        status, _, answer = new_client(stack).request(
            "session", headers={"Cookie": f"{COOKIE_NAME}={value}"})
        assert status == 200 and json.loads(answer)["conversation"] != conversation


def test_another_site_cannot_start_a_new_chat_for_a_visitor(stack):
    browser = new_client(stack)
    conversation = browser.conversation()
    token = browser.token()
    status, headers, answer = browser.exchange(
        "session", b"", headers={"Origin": "https://evil.example"}, method="POST")
    assert status == 403 and "chat's own page" in json.loads(answer)["error"]
    assert browser.token() == token and browser.conversation() == conversation
    host = stack.settings.rasa_url.split("://", 1)[1]
    status, _, answer = browser.exchange(
        "session", b"", headers={"Origin": f"http://{host}"}, method="POST")
    assert status == 200 and json.loads(answer)["conversation"] != conversation


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
    # the shipping answer above names €9.90 too: wait for the new answer itself (drawn whole,
    # all its bubbles at once), then read it
    answered = page.locator(".row.bot.msg").count()
    error.locator("button").click()
    wait_for_bot_messages(page, answered + 1)
    rows = page.locator(".row.bot.msg")
    assert "€9.90" in " ".join(rows.nth(i).inner_text() for i in range(answered, rows.count()))
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



def test_the_page_names_no_conversation_and_drops_a_history_that_is_not_its_own(page, stack):
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url + " " + (r.post_data or "")))
    page.fill("[data-role=input]", "hello")
    page.press("[data-role=input]", "Enter")
    wait_for_bot_messages(page, 1)
    assert sent and not any("sender" in line for line in sent), sent
    assert COOKIE_NAME not in page.evaluate("document.cookie")  # HttpOnly: not the script's
    (cookie,) = [c for c in page.context.cookies() if c["name"] == COOKIE_NAME]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert cookie["path"] == "/webhooks/webchat"
    conversation = page.evaluate("JSON.parse(localStorage['nightdesk.webchat.conversation'])")
    assert user_texts(stack, conversation) == ["hello"]
    # the same browser comes back with its cookie: the conversation is still there
    page.reload()
    page.locator(".row.user.msg", has_text="hello").wait_for()
    # the cookie is gone (expired, cleared): the stored history is another conversation's
    page.context.clear_cookies()
    page.reload()
    page.wait_for_function(
        "prev => { const c = localStorage['nightdesk.webchat.conversation'];"
        " return c && JSON.parse(c) !== prev; }", arg=conversation)
    assert page.locator(".row.msg").count() == 0 and page.locator(".welcome").is_visible()
    assert page.evaluate("JSON.parse(localStorage['nightdesk.webchat.history'])") == []

# ------------------------------------------------------------------ languages


def test_the_page_speaks_the_asked_or_the_browsers_language(stack):
    _, _, italian = request(stack, "?lang=it")
    assert b'<html lang="it">' in italian and b'"language": "it"' in italian
    req = urllib.request.Request(page_url(stack), headers={"Accept-Language": "en-GB,en;q=0.9"})
    with urllib.request.urlopen(req, timeout=60) as response:
        assert response.headers["Content-Language"] == "en"
        assert b'<html lang="en">' in response.read()


def test_each_answer_says_the_conversations_language(stack):
    client = new_client(stack)

    def say(message: str, **extra: Any) -> tuple[str, str]:
        status, headers, answer = client.exchange(
            "webhook", json.dumps({"message": message, **extra}).encode())
        assert status == 200, answer
        texts = " ".join(m.get("text", "") for m in json.loads(answer))
        return headers.get("X-Conversation-Language", ""), texts

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


def _latency_count(stack: Stack) -> float:
    url = f"{stack.settings.rasa_url}/webhooks/health/metrics"
    with urllib.request.urlopen(url, timeout=30) as answer:
        found = re.search(r'^nightdesk_answer_latency_seconds_count\{channel="webchat"\} (\S+)$',
                          answer.read().decode(), re.MULTILINE)
    assert found is not None
    return float(found.group(1))


def test_an_answered_message_reaches_the_answer_latency_of_the_web_chat(stack):
    before = _latency_count(stack)
    assert chat(new_client(stack), "hello")
    assert _latency_count(stack) == before + 1
