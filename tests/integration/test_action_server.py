"""The action server through its HTTP endpoint, replaying real tracker JSON.

The fixtures in tests/fixtures/trackers/ are trackers recorded from the running Rasa server
(tests/fixtures/capture_trackers.py). Each test cuts a tracker back to the moment before an
action ran, posts it to `/webhook` exactly as Rasa does, and checks the answer.
"""

from __future__ import annotations

import copy
import json
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

from bot.runtime.processes import running_action_server
from bot.settings import load_settings
from bot.store import create_db_engine
from tests.integration.conftest import PROJECT_DIR, port, stack_environment

pytestmark = pytest.mark.e2e

FIXTURES = PROJECT_DIR / "tests" / "fixtures" / "trackers"


def _domain() -> dict[str, Any]:
    from rasa.shared.core.domain import Domain

    return Domain.load(str(PROJECT_DIR / "domain.yml")).as_dict()


DOMAIN = _domain()


def tracker_before(name: str, action: str, occurrence: int = -1) -> dict[str, Any]:
    """The recorded tracker as it was when Rasa was about to run `action`."""
    recorded = json.loads((FIXTURES / f"{name}.json").read_text())
    events = recorded["events"]
    runs = [
        i for i, e in enumerate(events) if e.get("event") == "action" and e.get("name") == action
    ]
    assert runs, f"{action} never ran in {name}.json"
    events = events[: runs[occurrence]]
    slots = {name: spec.get("initial_value") for name, spec in DOMAIN["slots"].items()}
    active_loop: dict[str, Any] = {}
    latest_message: dict[str, Any] = {}
    for event in events:
        kind = event.get("event")
        if kind == "slot":
            slots[event["name"]] = event.get("value")
        elif kind == "active_loop":
            active_loop = {"name": event["name"]} if event.get("name") else {}
        elif kind == "user":
            latest_message = event["parse_data"] | {"text": event.get("text")}
    tracker = copy.deepcopy(recorded)
    tracker.update(events=events, slots=slots, active_loop=active_loop,
                   latest_message=latest_message)
    tracker["latest_action_name"] = next(
        (e["name"] for e in reversed(events) if e.get("event") == "action"), None
    )
    return tracker


def call(url: str, action: str, tracker: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    body = {
        "next_action": action, "sender_id": tracker["sender_id"], "tracker": tracker,
        "domain": DOMAIN, "version": "3.6.21",
    }
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def _slot_events(answer: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value") for e in answer["events"] if e.get("event") == "slot"}


def _responses(answer: dict[str, Any]) -> list[str]:
    return [r.get("response") for r in answer["responses"]]


@pytest.fixture(scope="module")
def action_server(tmp_path_factory) -> Iterator[tuple[str, Any]]:
    """An action server on loopback with its own seeded demo shop."""
    from bot.orders.seed import seed_demo_shop

    tmp = tmp_path_factory.mktemp("actions")
    settings = load_settings(stack_environment(tmp, port(15105), port(15155)))
    engine = create_db_engine(settings.database_url)
    seed_demo_shop(engine, settings.clock()())
    with running_action_server(settings, tmp / "actions.log"):
        yield settings.action_server_url, engine


@pytest.fixture(scope="module")
def broken_shop_action_server(tmp_path_factory) -> Iterator[str]:
    """An action server whose order back end (a shop API) cannot be reached."""
    tmp = tmp_path_factory.mktemp("broken")
    environ = stack_environment(
        tmp, port(15106), port(15156), ORDERS_BACKEND="http", SHOP_API_URL="http://127.0.0.1:9/api"
    )
    with running_action_server(load_settings(environ), tmp / "actions.log"):
        yield load_settings(environ).action_server_url


def test_shipping_answer_comes_from_brand_file(action_server):
    url, _ = action_server
    tracker = tracker_before("shipping_germany", "action_shipping_info")
    tracker["slots"]["language"] = "en"
    status, answer = call(url, "action_shipping_info", tracker)
    assert status == 200
    first = answer["responses"][0]
    assert first["response"] == "utter_shipping_country"
    assert first["country"] == "Germany" and first["cost"] == "€9.90"
    assert first["delivery_days"] == "3–5" and first["free_threshold"] == "€60.00"
    assert _responses(answer)[1] == "utter_shipping_express"
    assert _slot_events(answer) == {"country": "Germany"}


def test_the_shipping_answer_in_italian(action_server):
    url, _ = action_server
    tracker = tracker_before("shipping_germany", "action_shipping_info")
    tracker["slots"]["language"] = "it"
    status, answer = call(url, "action_shipping_info", tracker)
    assert status == 200
    first = answer["responses"][0]
    assert first["country"] == "Germania" and first["cost"] == "9,90\u00a0€"
    assert first["free_threshold"] == "60,00\u00a0€"
    # the slot keeps the brand file's name, whatever the language
    assert _slot_events(answer) == {"country": "Germany"}


@pytest.mark.parametrize(("text", "current", "settled", "expected"), [
    ("ciao, dov'è il mio ordine 10023?", "en", True, {"language": "it"}),
    ("where is my order?", "it", True, {"language": "en"}),
    ("10023", "en", True, {}),
    ("thanks", "it", False, {"language": "en", "language_settled": True}),
    ("/human_request", "it", False, {}),
])
def test_the_language_follows_the_customers_words(action_server, text, current, settled,
                                                   expected):
    url, _ = action_server
    tracker = tracker_before("human_request", "action_handoff")
    tracker["slots"].update(language=current, language_settled=settled)
    tracker["latest_message"] = {**tracker["latest_message"], "text": text}
    status, answer = call(url, "action_detect_language", tracker)
    assert status == 200 and answer["responses"] == []
    slots = _slot_events(answer)
    if "language_settled" not in expected and slots.get("language_settled") is True:
        slots.pop("language_settled")  # settled by a clear message in the same language
    assert slots == expected


def test_session_start_takes_the_language_hint_from_the_channel(action_server):
    url, _ = action_server
    tracker = tracker_before("human_request", "action_session_start")
    tracker["slots"]["session_started_metadata"] = {"language": "en", "first_name": "Anna"}
    _, answer = call(url, "action_session_start", tracker)
    slots = _slot_events(answer)
    assert slots["language"] == "en" and slots["has_first_name"] is True
    tracker["slots"]["session_started_metadata"] = {"language": "fr"}
    tracker["slots"]["first_name"] = None
    _, answer = call(url, "action_session_start", tracker)
    slots = _slot_events(answer)
    assert slots["language"] == "it" and slots["has_first_name"] is False


def test_session_start_takes_the_first_name_from_metadata(action_server):
    url, _ = action_server
    tracker = tracker_before("human_request", "action_session_start")
    tracker["slots"]["session_started_metadata"] = {"first_name": "Anna"}
    status, answer = call(url, "action_session_start", tracker)
    assert status == 200
    slots = _slot_events(answer)
    assert slots["first_name"] == "Anna" and slots["bot_name"] == "Nora"
    assert answer["events"][0]["event"] == "session_started"
    assert answer["events"][-1] == {**answer["events"][-1], "event": "action",
                                    "name": "action_listen"}


def test_handoff_opens_a_ticket_and_pauses(action_server):
    url, engine = action_server
    tracker = tracker_before("human_request", "action_handoff")
    status, answer = call(url, "action_handoff", tracker)
    assert status == 200
    slots = _slot_events(answer)
    case = int(slots["handoff_case"])
    assert slots["handoff_reminded"] is False
    assert {"event": "active_loop", "name": None} in [
        {k: e.get(k) for k in ("event", "name")} for e in answer["events"]
    ]
    responses = _responses(answer)
    assert responses[0] == "utter_handoff_ack_human_request"
    assert responses[1] in {"utter_handoff_after_hours", "utter_handoff_open_now"}
    assert answer["responses"][1]["case_number"] == case
    with engine.connect() as connection:
        row = connection.execute(text("select * from handoff_tickets where id = :id"),
                                 {"id": case}).mappings().one()
    assert row["conversation_id"] == tracker["sender_id"]
    assert row["reason"] == "human_request" and row["customer_name"] == "Anna"
    assert "I want a human" in row["transcript"]


def test_paused_conversation_gets_one_reminder_then_silence(action_server):
    url, _ = action_server
    tracker = tracker_before("human_request", "action_handoff")
    tracker["sender_id"] = "paused-conversation"
    _, handoff = call(url, "action_handoff", tracker)
    tracker["slots"].update(_slot_events(handoff))
    status, first = call(url, "action_handoff_paused", tracker)
    assert status == 200 and _responses(first) == ["utter_handoff_reminder"]
    assert _slot_events(first) == {"handoff_reminded": True}
    tracker["slots"]["handoff_reminded"] = True
    _, second = call(url, "action_handoff_paused", tracker)
    assert second["responses"] == [] and second["events"] == []


def test_right_proof_verifies_the_order(action_server):
    url, _ = action_server
    tracker = tracker_before("order_proof_postcode", "order_status_form", occurrence=-1)
    tracker["sender_id"] = "proof-right"
    status, answer = call(url, "validate_order_status_form", tracker)
    assert status == 200
    assert _slot_events(answer)["verified_order"] == "10023"
    assert answer["responses"] == []


def test_wrong_proof_is_refused_without_revealing_the_order(action_server):
    url, _ = action_server
    tracker = tracker_before("order_proof_postcode", "order_status_form", occurrence=-1)
    tracker["sender_id"] = "proof-wrong"
    tracker["slots"]["proof"] = "99999"
    for event in tracker["events"]:
        if event.get("event") == "slot" and event.get("name") == "proof":
            event["value"] = "99999"
    status, answer = call(url, "validate_order_status_form", tracker)
    assert status == 200
    assert _responses(answer) == ["utter_proof_mismatch"]
    assert answer["responses"][0]["attempts_left"] == 2
    assert _slot_events(answer)["proof"] is None
    assert _slot_events(answer)["verified_order"] is None
    assert "BRT" not in json.dumps(answer) and "shipped" not in json.dumps(answer)


def test_the_order_number_typed_again_at_the_proof_prompt_is_no_failed_proof(action_server):
    url, engine = action_server
    tracker = tracker_before("order_proof_postcode", "order_status_form", occurrence=-1)
    tracker["sender_id"] = "proof-number-again"
    number = tracker["slots"]["order_number"]
    tracker["slots"]["proof"] = number
    for event in tracker["events"]:
        if event.get("event") == "slot" and event.get("name") == "proof":
            event["value"] = number
        if event.get("event") == "user":
            last_user = event
    last_user["text"] = f"it's #{number}"
    tracker["latest_message"]["text"] = f"it's #{number}"
    # as Rasa's form sends it: the slot candidates from the latest message come last
    tracker["events"].append({"event": "slot", "name": "proof", "value": number,
                              "timestamp": last_user["timestamp"]})
    status, answer = call(url, "validate_order_status_form", tracker)
    assert status == 200
    assert _responses(answer) == ["utter_proof_is_the_order_number"]
    assert _slot_events(answer)["proof"] is None
    assert "verified_order" not in _slot_events(answer)
    with engine.connect() as connection:
        tries = connection.execute(text(
            "select count(*) from proof_attempts where conversation_id = 'proof-number-again'"
        )).scalar()
    assert tries == 0


def test_order_status_is_told_only_for_the_verified_order(action_server):
    url, _ = action_server
    tracker = tracker_before("order_proof_postcode", "action_order_status")
    status, answer = call(url, "action_order_status", tracker)
    assert status == 200
    reply = answer["responses"][0]
    assert reply["response"] == "utter_order_shipped" and reply["carrier"] == "BRT"
    tracker["slots"]["verified_order"] = "10024"
    _, refused = call(url, "action_order_status", tracker)
    assert _responses(refused) == ["utter_ask_order_number"]


def test_ticket_transcript_hides_the_proof(action_server):
    url, engine = action_server
    tracker = tracker_before("order_proof_postcode", "action_order_status")
    tracker["sender_id"] = "proof-hidden"
    tracker["latest_message"]["intent"] = {"name": "human_request", "confidence": 1.0}
    _, answer = call(url, "action_handoff", tracker)
    case = int(_slot_events(answer)["handoff_case"])
    with engine.connect() as connection:
        transcript = connection.execute(
            text("select transcript from handoff_tickets where id = :id"), {"id": case}
        ).scalar()
    assert "20121" not in transcript and "[proof]" in transcript
    assert "10023" in transcript  # the order number stays: the agent needs it


def test_second_fallback_in_a_row_hands_off(action_server):
    url, _ = action_server
    first = tracker_before("two_fallbacks", "action_fallback", occurrence=0)
    _, answer = call(url, "action_fallback", first)
    assert _responses(answer) == ["utter_ask_rephrase"]
    second = tracker_before("two_fallbacks", "action_fallback", occurrence=1)
    _, answer = call(url, "action_fallback", second)
    assert _responses(answer)[0] == "utter_handoff_ack_repeated_fallback"
    assert _slot_events(answer)["handoff_case"]


def test_unsure_the_bot_offers_the_likeliest_topics_and_a_person_in_the_language(
        action_server):
    url, _ = action_server
    tracker = tracker_before("two_fallbacks", "action_fallback", occurrence=0)
    tracker["slots"]["language"] = "it"
    tracker["latest_message"]["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.91}, {"name": "complaint", "confidence": 0.91},
        {"name": "faq_care", "confidence": 0.31}, {"name": "greet", "confidence": 0.2},
        {"name": "order_status", "confidence": 0.02}]
    tracker["latest_message"]["content_doubted"] = True
    _, answer = call(url, "action_fallback", tracker)
    assert _responses(answer) == ["utter_ask_which_topic"]
    assert answer["responses"][0]["buttons"] == [
        {"title": "Un reclamo", "payload": "/complaint"},
        {"title": "Cura delle scarpe", "payload": "/faq_care"},
        {"title": "Chiedi a una persona", "payload": "/human_request"}]
    tracker["latest_message"]["unfamiliar_text"] = True  # keyboard mash: no topic
    _, answer = call(url, "action_fallback", tracker)
    assert _responses(answer) == ["utter_ask_rephrase"]


def test_a_broken_order_back_end_hands_off_instead_of_failing(broken_shop_action_server):
    tracker = tracker_before("order_proof_postcode", "order_status_form", occurrence=-1)
    status, answer = call(broken_shop_action_server, "validate_order_status_form", tracker)
    assert status == 200
    assert _responses(answer)[0] == "utter_handoff_ack_action_error"
    assert _slot_events(answer)["handoff_case"]




# --- who may reach the action server ----------------------------------------------------


def _non_loopback_address() -> str | None:
    """An address of this machine that other hosts could reach, if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET: nothing is sent, a route is chosen
            address = probe.getsockname()[0]
        except OSError:
            return None
    return None if address.startswith("127.") else address


def _status(url: str, body: bytes | None = None) -> int:
    request = urllib.request.Request(url, data=body, headers={"Content-Type":
                                                              "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_the_action_server_is_on_loopback_and_asks_for_its_secret(tmp_path):
    environ = stack_environment(tmp_path, port(15705), port(15755),
                                ACTION_SERVER_TOKEN="s3cret-between-rasa-and-actions")
    settings = load_settings(environ)
    with running_action_server(settings, tmp_path / "actions.log"):
        base = f"http://127.0.0.1:{port(15755)}"
        assert _status(f"{base}/health") == 200
        assert _status(f"{base}/webhook", b"{}") == 401
        assert _status(f"{base}/webhook?token=wrong", b"{}") == 401
        assert _status(f"{base}/actions") == 401
        assert _status(f"{base}/actions?token=s3cret-between-rasa-and-actions") == 200
        address = _non_loopback_address()
        if address is not None:  # nothing listens there: the port is on loopback only
            with pytest.raises(OSError):
                socket.create_connection((address, port(15755)), timeout=5).close()


def test_an_action_server_off_loopback_without_a_secret_is_refused(tmp_path):
    environ = stack_environment(tmp_path, port(15706), port(15756), ACTION_SERVER_HOST="0.0.0.0")
    result = subprocess.run(
        [sys.executable, "-m", "bot.runtime.serve", "actions", "--port", str(port(15756))],
        env=environ, capture_output=True, text=True, timeout=120, cwd=PROJECT_DIR,
    )
    assert result.returncode != 0
    assert "ACTION_SERVER_TOKEN" in result.stderr
