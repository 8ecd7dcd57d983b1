"""The Messenger channel end to end: signed webhooks in, Send API calls out (fake Graph API).

Each test posts Meta-shaped bodies (tests/fixtures/messenger, made fresh) to the running Rasa
server's webhook and watches what the fake Graph API receives and what the database keeps.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import text

from bot.messenger.graph_limits import PAGE_INBOX_APP_ID
from bot.store import create_db_engine
from tests import messenger_payloads as payloads
from tests.fakes.fake_graph import FakeGraphApi
from tests.integration.conftest import PROJECT_DIR, Stack

pytestmark = pytest.mark.e2e

DOMAIN = yaml.safe_load((PROJECT_DIR / "domain.yml").read_text())["responses"]


def matches(texts: list[str], name: str) -> bool:
    """Whether one of `texts` is a variation of response `name` (placeholders as wildcards)."""
    patterns = [
        re.compile(re.sub(r"\\\{\w+\\\}", ".*", re.escape(v["text"])) + "$", re.S)
        for v in DOMAIN[name]
        if "text" in v
    ]
    return any(p.match(t) for t in texts for p in patterns)


def webhook_url(stack: Stack, server: str = "ingress") -> str:
    """The webhook on the receiver Meta calls ("ingress") or on the Rasa channel ("rasa")."""
    base = stack.settings.messenger.ingress_url if server == "ingress" else stack.settings.rasa_url
    return f"{base}/webhooks/messenger/webhook"


SERVERS = pytest.mark.parametrize("server", ["ingress", "rasa"])


def post(
    stack: Stack, raw: bytes, headers: dict[str, str], server: str = "ingress"
) -> tuple[int, dict[str, Any]]:
    """POSTs a raw body to the webhook; the status and decoded answer."""
    request = urllib.request.Request(
        webhook_url(stack, server), data=raw, headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def deliver(stack: Stack, body: dict[str, Any]) -> dict[str, Any]:
    """Posts a body signed like Meta signs it; asserts the 200."""
    status, answer = post(stack, *payloads.signed(body))
    assert status == 200, answer
    return answer


def wait_until(check: Callable[[], Any], timeout: float = 90, what: str = "") -> Any:
    """Polls until `check()` is truthy; returns its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what or check}")


def messages_to(graph: FakeGraphApi, psid: str) -> list[dict[str, Any]]:
    """Messages the page delivered to one customer, in order."""
    return [m for m in graph.sent_messages() if m["recipient"].get("id") == psid]


def texts_to(graph: FakeGraphApi, psid: str) -> list[str]:
    return [m["message"]["text"] for m in messages_to(graph, psid) if "text" in m["message"]]


def calls_for(graph: FakeGraphApi, endpoint: str, psid: str) -> list[Any]:
    return [
        c for c in graph.calls_to(endpoint, "POST")
        if isinstance(c.json, dict) and (c.json.get("recipient") or {}).get("id") == psid
    ]


def quiet(graph: FakeGraphApi, psid: str, seconds: float = 3.0) -> int:
    """Waits until nothing new reached the customer for `seconds`; how many messages did."""
    count, still = len(messages_to(graph, psid)), time.monotonic()
    while time.monotonic() - still < seconds:
        time.sleep(0.2)
        now = len(messages_to(graph, psid))
        if now != count:
            count, still = now, time.monotonic()
    return count


def rows(stack: Stack, query: str, **params: Any) -> list[dict[str, Any]]:
    engine = create_db_engine(stack.settings.database_url)
    with engine.connect() as connection:
        return [dict(r) for r in connection.execute(text(query), params).mappings()]


def on_standby(body: dict[str, Any]) -> dict[str, Any]:
    """The same body as Meta sends it to an app that does not own the thread."""
    for entry in body["entry"]:
        entry["standby"] = entry.pop("messaging")
    return body


def ticket_for(stack: Stack, conversation_id: str) -> dict[str, Any] | None:
    found = rows(stack, "select * from handoff_tickets where conversation_id = :c order by id",
                 c=conversation_id)
    return found[-1] if found else None


# ------------------------------------------------------------------ the webhook itself


@SERVERS
def test_verification_handshake(stack, server):
    base = webhook_url(stack, server)
    good = f"{base}?hub.mode=subscribe&hub.verify_token={payloads.VERIFY_TOKEN}&hub.challenge=4242"
    with urllib.request.urlopen(good, timeout=10) as response:
        assert response.status == 200 and response.read() == b"4242"
    bad = f"{base}?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=4242"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(bad, timeout=10)
    assert refused.value.code == 403


@SERVERS
def test_missing_or_wrong_signature_is_refused_and_nothing_is_stored(stack, server):
    psid = payloads.new_psid()
    raw = json.dumps(payloads.dm("hello", psid)).encode()
    assert post(stack, raw, {"Content-Type": "application/json"}, server)[0] == 403
    _, headers = payloads.signed(raw, secret="not-the-app-secret")
    status, answer = post(stack, raw, headers, server)
    assert status == 403 and "signature" in answer["error"]
    old_style = {"X-Hub-Signature": "sha1=" + "0" * 40}
    assert post(stack, raw, old_style, server)[0] == 403
    assert rows(stack, "select * from messenger_inbox where conversation_id = :c", c=psid) == []


@SERVERS
def test_oversized_malformed_and_foreign_bodies_get_clear_errors(stack, server):
    big = payloads.dm("x" * 300_000, payloads.new_psid())
    status, answer = post(stack, *payloads.signed(big), server)
    assert status == 413 and "larger than" in answer["error"]
    status, answer = post(stack, *payloads.signed(b'{"object": "page", "entry": [}'), server)
    assert status == 400 and "not valid JSON" in answer["error"]
    status, answer = post(stack, *payloads.signed({"object": "user", "entry": []}), server)
    assert status == 400 and "'page'" in answer["error"]


def test_the_rasa_channel_route_stores_and_answers_too(stack, fake_graph):
    psid = payloads.new_psid()
    status, answer = post(stack, *payloads.signed(payloads.dm("hi", psid)), "rasa")
    assert status == 200 and answer == {"received": 1, "new": 1}
    wait_until(lambda: texts_to(fake_graph, psid), what="the greeting")


# ------------------------------------------------------------------ direct messages


def test_dm_is_seen_typed_and_answered_by_name(stack, fake_graph):
    psid = payloads.new_psid()
    started = time.monotonic()
    answer = deliver(stack, payloads.dm("hi", psid))
    acked = time.monotonic() - started
    assert answer == {"received": 1, "new": 1}
    wait_until(lambda: texts_to(fake_graph, psid), what="the greeting")
    assert acked < 5  # the 200 never waits for the bot (measured properly in bench/)
    actions = [c.json.get("sender_action") for c in calls_for(fake_graph, "me/messages", psid)]
    assert actions[:2] == ["mark_seen", "typing_on"]
    assert "Giulia" in texts_to(fake_graph, psid)[0]  # first name from the Graph profile
    assert all(m["messaging_type"] == "RESPONSE" and "tag" not in m
               for m in messages_to(fake_graph, psid))
    # the row is marked done once the whole turn is over, just after its last send
    wait_until(lambda: [r["status"] for r in rows(
        stack, "select status from messenger_inbox where conversation_id = :c", c=psid)
    ] == ["done"], timeout=30, what="the inbox row marked done")


def test_personal_data_in_a_dm_reaches_no_log(stack, fake_graph):
    psid = payloads.new_psid()
    deliver(stack, payloads.dm("I'm night.owl@example.org, call me on +39 333 918 2746", psid))
    wait_until(lambda: texts_to(fake_graph, psid), what="an answer")
    logs = {log.name: log.read_text(errors="replace") for log in stack.log_dir.glob("*.log")}
    assert {"ingress.log", "rasa.log", "actions.log"} <= set(logs)
    for name, content in logs.items():
        assert "night.owl@example.org" not in content, name
        assert "918 2746" not in content, name


def test_a_delivery_repeated_three_times_is_answered_once(stack, fake_graph):
    psid = payloads.new_psid()
    body = payloads.dm("what is your returns policy?", psid)
    answers = [deliver(stack, body) for _ in range(3)]
    assert [a["new"] for a in answers] == [1, 0, 0]
    wait_until(lambda: texts_to(fake_graph, psid), what="the answer")
    first = quiet(fake_graph, psid)
    assert first == len(texts_to(fake_graph, psid)) and first >= 1
    replies = rows(stack, "select * from messenger_inbox where conversation_id = :c", c=psid)
    assert len(replies) == 1


def test_a_batch_of_entries_is_answered_in_order_per_conversation(stack, fake_graph):
    first, second = payloads.new_psid(), payloads.new_psid()
    t = payloads.now_ms()
    hello = payloads.dm("hi", first, t)["entry"][0]
    bye = payloads.dm("bye", first, t + 50)["entry"][0]
    other = payloads.dm("hello there", second, t + 10)["entry"][0]
    # the later message of `first` comes first in the body: the timestamp decides
    body = {"object": "page", "entry": [bye, other, hello]}
    assert deliver(stack, body) == {"received": 3, "new": 3}
    wait_until(lambda: len(texts_to(fake_graph, first)) >= 2, what="both answers")
    wait_until(lambda: texts_to(fake_graph, second), what="the other conversation")
    answers = texts_to(fake_graph, first)
    assert matches(answers[:1], "utter_greet") and matches(answers[1:2], "utter_goodbye")


def test_get_started_and_a_quick_reply_payload(stack, fake_graph):
    psid = payloads.new_psid()
    deliver(stack, payloads.fresh("postback_get_started", psid))
    wait_until(lambda: texts_to(fake_graph, psid), what="the greeting")
    assert matches(texts_to(fake_graph, psid), "utter_greet")
    tapped = payloads.fresh("quick_reply", psid, text="Shipping",
                            quick_reply={"payload": "/shipping_info"})
    deliver(stack, tapped)
    wait_until(lambda: len(texts_to(fake_graph, psid)) >= 2, what="the shipping answer")
    assert matches(texts_to(fake_graph, psid)[1:2], "utter_shipping_general")


@pytest.mark.parametrize(
    ("fixture", "response"),
    [
        ("attachment_image", "utter_ask_about_image"),
        ("attachment_audio", "utter_cannot_listen"),
        ("attachment_location", "utter_location_received"),
        ("attachment_sticker", "utter_sticker_reply"),
        ("attachment_video_file_fallback", "utter_ask_about_video"),
        ("referral", "utter_greet"),
    ],
)
def test_shared_media_and_referrals_get_a_sensible_answer(stack, fake_graph, fixture, response):
    psid = payloads.new_psid()
    deliver(stack, payloads.fresh(fixture, psid))
    wait_until(lambda: matches(texts_to(fake_graph, psid), response), what=response)


def test_reactions_receipts_and_echoes_are_recorded_never_answered(stack, fake_graph):
    psid = payloads.new_psid()
    for name in ("reaction", "read", "delivery", "echo", "unknown_fields"):
        deliver(stack, payloads.fresh(name, psid))
    time.sleep(3)
    assert messages_to(fake_graph, psid) == []
    statuses = rows(stack, "select kind, status from messenger_inbox where conversation_id = :c",
                    c=psid)
    assert {r["status"] for r in statuses} <= {"ignored", "done"} and len(statuses) >= 4


def test_complaint_hands_off_passes_the_thread_and_a_photo_goes_on_the_ticket(
    stack, fake_graph
):
    psid = payloads.new_psid()
    deliver(stack, payloads.dm("the sole of my new boots tore after two days, poor quality",
                               psid))
    wait_until(lambda: calls_for(fake_graph, "me/pass_thread_control", psid),
               what="thread control passed to the page inbox")
    passed = calls_for(fake_graph, "me/pass_thread_control", psid)[0].json
    assert passed["target_app_id"] == PAGE_INBOX_APP_ID and "case #" in passed["metadata"]
    ticket = ticket_for(stack, psid)
    assert ticket["reason"] == "complaint" and ticket["channel"] == "messenger"
    answered = quiet(fake_graph, psid)
    # the page inbox owns the thread now: Meta delivers the customer's photo on standby
    deliver(stack, on_standby(payloads.fresh("attachment_image", psid)))
    wait_until(lambda: "[photo]" in (ticket_for(stack, psid)["transcript"]),
               what="the photo on the ticket")
    assert quiet(fake_graph, psid) == answered  # a person owns the thread: the bot is silent

    # the page inbox passes the thread back to our app: the case is handed back
    back = payloads.fresh("handover_pass", psid)
    back["entry"][0]["messaging"][0]["pass_thread_control"].update(
        new_owner_app_id=payloads.APP_ID, previous_owner_app_id=str(PAGE_INBOX_APP_ID)
    )
    deliver(stack, back)
    wait_until(lambda: ticket_for(stack, psid)["status"] != "open", what="the hand back")
    deliver(stack, payloads.dm("what are your shipping costs?", psid))
    wait_until(lambda: len(messages_to(fake_graph, psid)) > answered, what="the bot again")


def test_standby_messages_go_on_the_ticket_while_a_person_owns_the_thread(stack, fake_graph):
    psid = payloads.new_psid()
    deliver(stack, payloads.dm("can I talk to a human please", psid))
    wait_until(lambda: ticket_for(stack, psid), what="the ticket")
    answered = quiet(fake_graph, psid)
    deliver(stack, payloads.fresh("standby", psid, text="Are you a real person?"))
    wait_until(lambda: "Are you a real person?" in ticket_for(stack, psid)["transcript"],
               what="the standby message on the ticket")
    assert quiet(fake_graph, psid) == answered
    owner = rows(stack, "select owner from messenger_threads where psid = :p", p=psid)
    assert owner == [{"owner": "person"}]


def test_a_bot_reply_after_24_hours_is_stored_as_undeliverable(stack, fake_graph):
    psid = payloads.new_psid()
    deliver(stack, payloads.dm("hi", psid, payloads.now_ms(-25 * 3600)))
    wait_until(lambda: rows(stack, "select * from messenger_outbox where conversation_id = :c",
                            c=psid), what="the held-back reply")
    time.sleep(1)
    assert calls_for(fake_graph, "me/messages", psid) == []  # not even mark_seen
    held = rows(stack, "select status, reason, tag from messenger_outbox "
                       "where conversation_id = :c", c=psid)
    assert {r["status"] for r in held} == {"undeliverable"}
    assert all("24-hour" in r["reason"] and r["tag"] is None for r in held)


# ------------------------------------------------------------------ Graph failing


def test_server_errors_and_rate_limits_are_retried(stack, fake_graph):
    psid = payloads.new_psid()
    fake_graph.fail_next(2, None, path="me/messages")  # mark_seen and typing_on go through
    fake_graph.fail_next(2, 503, path="me/messages")
    fake_graph.fail_next(1, 400, code=613, path="me/messages")  # Messenger's rate limit
    deliver(stack, payloads.dm("how long does shipping take?", psid))
    wait_until(lambda: texts_to(fake_graph, psid), what="the answer after retries")
    failed = [c for c in calls_for(fake_graph, "me/messages", psid) if c.status in (400, 503)]
    assert len(failed) == 3 and all("message" in c.json for c in failed)
    assert fake_graph.pending_failures == 0
    assert ticket_for(stack, psid) is None


def test_a_reply_graph_refuses_hands_the_conversation_to_a_person(stack, fake_graph):
    psid = payloads.new_psid()
    # sender actions go through, the answer itself is refused (a 4xx is never retried)
    deliver(stack, payloads.dm("hello", psid))
    wait_until(lambda: texts_to(fake_graph, psid), what="a first answer")
    fake_graph.fail_next(2, None, path="me/messages")  # mark_seen and typing_on go through
    fake_graph.fail_next(1, 400, code=100, path="me/messages", message="(#100) refused")
    deliver(stack, payloads.dm("what is your returns policy?", psid))
    ticket = wait_until(lambda: ticket_for(stack, psid), what="the delivery_failed ticket")
    assert ticket["reason"] == "delivery_failed"
    wait_until(lambda: stack.tracker(psid)["slots"].get("handoff_case") == str(ticket["id"]),
               what="the bot paused")
    failed = rows(stack, "select status, reason from messenger_outbox where conversation_id = :c "
                         "and status = 'failed'", c=psid)
    assert failed and "refused" in failed[0]["reason"]


# ------------------------------------------------------------------ public comments


def comment(message: str, name: str = "Anna Rossi") -> dict[str, Any]:
    body = payloads.fresh("comment_customer", message=message)
    body["entry"][0]["changes"][0]["value"]["from"]["name"] = name
    return body


def comment_id(body: dict[str, Any]) -> str:
    return body["entry"][0]["changes"][0]["value"]["comment_id"]


def replies_to_comment(graph: FakeGraphApi, cid: str) -> tuple[list[str], list[str]]:
    """(public reply texts, private reply texts) for one comment."""
    public = [c.json["message"] for c in graph.calls_to(f"{cid}/comments", "POST")
              if c.status == 200]
    private = [m["message"]["text"] for m in graph.sent_messages()
               if m["recipient"].get("comment_id") == cid]
    return public, private


def test_a_question_in_a_comment_gets_a_public_and_a_private_reply(stack, fake_graph):
    body = comment("Ordered two weeks ago and still nothing. When do the boots ship?")
    cid = comment_id(body)
    deliver(stack, body)
    wait_until(lambda: all(replies_to_comment(fake_graph, cid)), what="both replies")
    public, private = replies_to_comment(fake_graph, cid)
    assert len(public) == 1 and matches(public, "utter_comment_public_reply")
    assert "Anna" in public[0] and "Rossi" not in public[0]
    assert len(private) == 1 and matches(private, "utter_comment_private_reply")
    assert ticket_for(stack, f"comment:{cid}") is None


def test_a_comment_with_personal_data_is_answered_without_it_and_flagged(stack, fake_graph):
    body = comment("order 10023 never came, write me at anna.rossi@example.com")
    cid = comment_id(body)
    deliver(stack, body)
    wait_until(lambda: all(replies_to_comment(fake_graph, cid)), what="both replies")
    public, private = replies_to_comment(fake_graph, cid)
    assert "10023" not in public[0] and "example.com" not in public[0]
    assert matches(private, "utter_comment_private_reply_flagged")
    ticket = wait_until(lambda: ticket_for(stack, f"comment:{cid}"), what="the flag")
    assert ticket["reason"] == "personal_data_in_comment" and ticket["priority"] == "high"
    # kept for the logged-in agent who answers in private (the team channel gets it redacted)
    assert "anna.rossi@example.com" in ticket["transcript"]


def test_an_abusive_comment_is_not_answered_and_is_urgent_for_a_person(stack, fake_graph):
    body = comment("you are idiots and thieves")
    cid = comment_id(body)
    deliver(stack, body)
    ticket = wait_until(lambda: ticket_for(stack, f"comment:{cid}"), what="the ticket")
    assert ticket["reason"] == "abuse" and ticket["priority"] == "urgent"
    time.sleep(1)
    assert replies_to_comment(fake_graph, cid) == ([], [])
    assert not [c for c in fake_graph.calls if cid in c.path and c.method == "DELETE"]


def test_praise_gets_a_thank_you_and_the_pages_own_comments_are_ignored(stack, fake_graph):
    body = comment("thank you, the boots are great!")
    cid = comment_id(body)
    deliver(stack, body)
    wait_until(lambda: replies_to_comment(fake_graph, cid)[0], what="the thank-you")
    public, private = replies_to_comment(fake_graph, cid)
    assert matches(public, "utter_comment_thanks") and private == []

    own = payloads.fresh("comment_by_page")
    own_id = comment_id(own)
    deliver(stack, own)
    time.sleep(2)
    assert replies_to_comment(fake_graph, own_id) == ([], [])
    stored = rows(stack, "select status from messenger_inbox where conversation_id = :c",
                  c=f"comment:{own_id}")
    assert stored == [{"status": "ignored"}]


def test_a_commenter_named_by_an_e_mail_is_answered_in_public_without_a_name(
    stack, fake_graph
):
    body = comment("When do the boots ship?", name="mario.pii1050.1b39@postatest.it")
    cid = comment_id(body)
    deliver(stack, body)
    wait_until(lambda: all(replies_to_comment(fake_graph, cid)), what="both replies")
    public, private = replies_to_comment(fake_graph, cid)
    nameless = [v["text"] for v in DOMAIN["utter_comment_public_reply"]
                if "text" in v and "{first_name}" not in v["text"]]
    assert len(public) == 1 and public[0] in nameless
    for reply in public + private:
        assert "mario" not in reply.lower() and "@" not in reply and "postatest" not in reply


def test_fixture_files_are_metas_shapes():
    """Every fixture is a page webhook body (guards against editing them into other shapes)."""
    for path in Path(payloads.FIXTURES).glob("*.json"):
        body = json.loads(path.read_text())
        assert body["object"] == "page" and isinstance(body["entry"], list), path.name


def test_a_message_while_paused_is_kept_on_the_ticket_with_one_reminder(stack, fake_graph):
    """Meta routes the thread to us again (no handover event): the pause policy holds."""
    psid = payloads.new_psid()
    deliver(stack, payloads.dm("I want to talk to a person", psid))
    wait_until(lambda: calls_for(fake_graph, "me/pass_thread_control", psid), what="handoff")
    answered = quiet(fake_graph, psid)
    for number in range(2):
        deliver(stack, payloads.dm(f"hello? message {number}", psid, payloads.now_ms() + number))
    wait_until(lambda: "message 1" in ticket_for(stack, psid)["transcript"], what="the ticket")
    assert quiet(fake_graph, psid) == answered + 1  # one reminder, then silence
    assert matches(texts_to(fake_graph, psid)[-1:], "utter_handoff_reminder")


def test_handback_from_the_cli_takes_the_thread_back_and_the_bot_answers(stack, fake_graph):
    psid = payloads.new_psid()
    deliver(stack, payloads.dm("I want to speak to a human", psid))
    wait_until(lambda: calls_for(fake_graph, "me/pass_thread_control", psid), what="handoff")
    case = str(ticket_for(stack, psid)["id"])
    result = stack.nightdesk("tickets", "handback", case, "--by", "marta")
    assert result.returncode == 0, result.stderr
    assert calls_for(fake_graph, "me/take_thread_control", psid)
    assert rows(stack, "select owner from messenger_threads where psid = :p", p=psid) == [
        {"owner": "bot"}]
    answered = quiet(fake_graph, psid)
    deliver(stack, payloads.dm("how much is shipping to Germany?", psid))
    wait_until(lambda: len(messages_to(fake_graph, psid)) > answered, what="the bot again")


def test_handback_is_refused_and_changes_nothing_when_graph_refuses(stack, fake_graph):
    psid = payloads.new_psid()
    deliver(stack, payloads.dm("I want to speak to a human", psid))
    wait_until(lambda: calls_for(fake_graph, "me/pass_thread_control", psid), what="handoff")
    case = str(ticket_for(stack, psid)["id"])
    fake_graph.fail_next(1, 400, code=10, path="take_thread_control")
    result = stack.nightdesk("tickets", "handback", case, "--by", "marta")
    assert result.returncode == 1 and "thread back" in result.stderr
    assert ticket_for(stack, psid)["status"] == "open"
    assert stack.tracker(psid)["slots"]["handoff_case"] == case


# ------------------------------------------------------------------ readiness and metrics


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_every_process_is_ready_and_rasa_exposes_the_model_and_the_answer_latency(
    stack, fake_graph, model_path
):
    rasa = f"{stack.settings.rasa_url}/webhooks/health"
    actions = stack.settings.action_server_url.rsplit("/", 1)[0]
    receiver = stack.settings.messenger.ingress_url
    for base in (rasa, actions, receiver):
        status, body = _get(f"{base}/healthz")
        assert status == 200 and json.loads(body) == {"alive": True}, base
        status, body = _get(f"{base}/readyz")
        assert status == 200 and json.loads(body)["ready"] is True, (base, body)
    assert set(json.loads(_get(f"{rasa}/readyz")[1])["checks"]) == {
        "services", "database", "model"}

    psid = payloads.new_psid()
    deliver(stack, payloads.dm("hello", psid))
    wait_until(lambda: texts_to(fake_graph, psid), what="the greeting")

    def answered() -> str | None:
        status, text = _get(f"{rasa}/metrics")
        counted = re.search(
            r'^nightdesk_answer_latency_seconds_count\{channel="messenger"\} (\S+)$', text,
            re.MULTILINE)
        return text if status == 200 and counted and float(counted.group(1)) >= 1 else None

    text = wait_until(answered, what="the answer in the metrics")
    assert f'nightdesk_model_info{{model="{model_path.name}"}} 1.0' in text
    assert "nightdesk_inbox_pending_events" in text and "process_start_time_seconds" in text
    for part in ("understanding", "next_action"):  # the model's own time is measured
        runs = re.search(rf'^nightdesk_model_runs_total\{{part="{part}"\}} (\S+)$', text,
                         re.MULTILINE)
        seconds = re.search(rf'^nightdesk_model_seconds_total\{{part="{part}"\}} (\S+)$',
                            text, re.MULTILINE)
        assert runs and float(runs.group(1)) >= 1 and seconds and float(seconds.group(1)) > 0
    assert "nightdesk_inbox_pending_events" in _get(f"{receiver}/metrics")[1]
    assert 'nightdesk_messages_received_total{channel="messenger"}' in \
        _get(f"{receiver}/metrics")[1]
