"""The action server's answers checked by one prebuilt validator: the same verdicts as Rasa's.

A Rasa `RemoteAction` calls a real (local) action server; each answer is accepted or refused
exactly as Rasa's own `jsonschema.validate` check does, refusals with Rasa's message, and an
accepted answer never reaches `jsonschema.validate` (the per-call meta-schema check).
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from aiohttp import web
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActiveLoop, FollowupAction, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.runtime.action_answer_check import (
    install_action_answer_check,
    uninstall_action_answer_check,
)

VALID_ANSWERS: list[dict[str, Any]] = [
    {"events": [], "responses": []},
    {},
    {"events": [{"event": "slot", "timestamp": None, "name": "language", "value": "en"},
                {"event": "slot", "name": "language_settled", "value": True}]},
    {"events": [{"event": "active_loop", "name": "order_status_form"},
                {"event": "slot", "name": "requested_slot", "value": "order_number"}],
     "responses": [{"response": "utter_ask_order_number"}]},
    {"events": [{"event": "followup", "name": "action_listen"},
                {"event": "active_loop", "name": None}],
     "responses": [{"text": "Your order 10042 has shipped.", "buttons": [],
                    "elements": [], "custom": {}, "image": None, "attachment": None}]},
    {"events": [{"event": "pause"}, {"event": "resume"}, {"event": "restart"},
                {"event": "action_execution_rejected", "name": "order_status_form"}]},
]

INVALID_ANSWERS: list[dict[str, Any]] = [
    {"events": {"event": "slot"}},
    {"events": [{"event": "slot", "name": "language"}]},  # a slot event needs a value
    {"events": [{"name": "language", "value": "en"}]},  # no event type
    {"events": [{"event": "not_an_event"}]},
    {"responses": {"text": "hi"}},
    {"responses": ["hi"]},
    [],
]


@pytest.fixture
def answer_check() -> Iterator[None]:
    install_action_answer_check()
    yield
    uninstall_action_answer_check()


def verdict(result: Any) -> str:
    """What `RemoteAction._validate_action_result` says of `result`: 'valid' or its error."""
    action = RemoteAction("action_detect_language", EndpointConfig("http://127.0.0.1:9"))
    try:
        action._validate_action_result(copy.deepcopy(result))
    except jsonschema.ValidationError as error:
        return error.message
    return "valid"


def test_the_same_verdicts_as_rasas_own_check() -> None:
    answers = VALID_ANSWERS + INVALID_ANSWERS
    rasas = [verdict(answer) for answer in answers]
    install_action_answer_check()
    try:
        ours = [verdict(answer) for answer in answers]
    finally:
        uninstall_action_answer_check()
    assert ours == rasas
    assert rasas[: len(VALID_ANSWERS)] == ["valid"] * len(VALID_ANSWERS)
    assert all(said != "valid" and "Failed to validate Action server response" in said
               for said in rasas[len(VALID_ANSWERS):])


def test_a_valid_answer_is_not_checked_by_jsonschema_validate(
    answer_check: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def per_call_check(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("jsonschema.validate was called for a valid answer")

    monkeypatch.setattr(jsonschema, "validate", per_call_check)
    for answer in VALID_ANSWERS:
        assert verdict(answer) == "valid"


def test_uninstalling_gives_rasas_own_check_back(monkeypatch: pytest.MonkeyPatch) -> None:
    install_action_answer_check()
    uninstall_action_answer_check()
    calls: list[Any] = []
    monkeypatch.setattr(jsonschema, "validate", lambda instance, schema: calls.append(instance))
    verdict(VALID_ANSWERS[2])
    assert calls == [VALID_ANSWERS[2]]


async def _run_against(answer: Any) -> list[Any]:
    """Runs a `RemoteAction` against a loopback action server that gives `answer`."""

    async def webhook(request: web.Request) -> web.Response:
        await request.json()
        return web.json_response(answer)

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        domain = Domain.from_dict({"slots": {"language": {
            "type": "categorical", "values": ["it", "en"],
            "mappings": [{"type": "custom"}]}}, "actions": ["action_detect_language"]})
        action = RemoteAction("action_detect_language",
                              EndpointConfig(f"http://127.0.0.1:{port}/webhook"))
        tracker = DialogueStateTracker.from_events("night-customer", [], domain.slots)
        return await action.run(CollectingOutputChannel(),
                                TemplatedNaturalLanguageGenerator(domain.responses),
                                tracker, domain)
    finally:
        await runner.cleanup()


def test_a_real_action_call_gets_its_events(answer_check: None) -> None:
    events = asyncio.run(_run_against({"events": [
        {"event": "slot", "name": "language", "value": "en"},
        {"event": "active_loop", "name": "order_status_form"},
        {"event": "followup", "name": "action_listen"},
    ]}))
    assert events == [SlotSet("language", "en"), ActiveLoop("order_status_form"),
                      FollowupAction("action_listen")]


def test_a_real_action_call_with_a_bad_answer_is_refused_with_rasas_message(
    answer_check: None,
) -> None:
    with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server"):
        asyncio.run(_run_against({"events": [{"event": "slot", "name": "language"}]}))
