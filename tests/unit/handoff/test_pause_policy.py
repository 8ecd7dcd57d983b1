"""The pause policy: silent while a person holds the conversation, listening after its action."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.handoff.pause_policy import PAUSE_SLOT, PAUSED_ACTION, HandoffPausePolicy

PROJECT_DIR = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(PROJECT_DIR / "domain.yml")


@pytest.fixture()
def policy(tmp_path) -> HandoffPausePolicy:
    context = ExecutionContext(GraphSchema({}), "test")
    return HandoffPausePolicy.create(HandoffPausePolicy.get_default_config(),
                                     LocalModelStorage(tmp_path), Resource("pause"), context)


def predicted(policy: HandoffPausePolicy, domain: Domain, *events) -> str | None:
    tracker = DialogueStateTracker.from_events("c", list(events), domain.slots)
    probabilities = policy.predict_action_probabilities(tracker, domain).probabilities
    best = max(range(len(probabilities)), key=probabilities.__getitem__)
    return domain.action_names_or_texts[best] if probabilities[best] == 1.0 else None


def test_while_a_case_is_open_the_bot_only_stores_the_message_then_listens(policy, domain):
    opened = [ActionExecuted("action_listen"), SlotSet(PAUSE_SLOT, "7"),
              UserUttered("where is my order", {"name": "order_status"})]
    assert predicted(policy, domain, *opened) == PAUSED_ACTION
    assert predicted(policy, domain, *opened, ActionExecuted(PAUSED_ACTION)) == "action_listen"


def test_after_the_paused_action_it_listens_even_when_the_case_was_handed_back(policy, domain):
    events = [SlotSet(PAUSE_SLOT, "7"), ActionExecuted("action_listen"),
              UserUttered("thanks", {"name": "thanks"}), ActionExecuted(PAUSED_ACTION),
              SlotSet(PAUSE_SLOT, None)]
    assert predicted(policy, domain, *events) == "action_listen"


def test_without_a_case_it_leaves_the_turn_to_the_other_policies(policy, domain):
    assert predicted(policy, domain, ActionExecuted("action_listen"),
                     UserUttered("hello", {"name": "greet"})) is None
