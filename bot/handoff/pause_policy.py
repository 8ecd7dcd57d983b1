"""A Rasa policy that keeps the bot silent in a conversation a person has taken over.

While the `handoff_case` slot holds a case number, every customer message is answered by
`action_handoff_paused` (which stores it on the ticket and sends at most one reminder),
and nothing else: no intent, rule or story can make the bot speak. It outranks every
other policy by priority. It learns nothing, so it costs nothing to train.
"""

from __future__ import annotations

from typing import Any

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

PAUSE_SLOT = "handoff_case"
PAUSED_ACTION = "action_handoff_paused"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=False
)
class HandoffPausePolicy(Policy):
    """Predicts `action_handoff_paused` then `action_listen` while a case is open."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Priority above RulePolicy (6), so a paused conversation never reaches a rule."""
        return {"priority": 7}

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        featurizer: Any = None,
    ) -> None:
        """See `Policy`."""
        super().__init__(config, model_storage, resource, execution_context, featurizer)

    def train(
        self, training_trackers: list[TrackerWithCachedStates], domain: Domain, **kwargs: Any
    ) -> Resource:
        """Nothing to learn."""
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        """Certain of the paused action after a message, of listening after anything else.

        After the paused action the bot listens even when the case was handed back meanwhile
        (the desk's events arrive between two turns): nothing else ever follows it.
        """
        probabilities = self._default_predictions(domain)
        if PAUSED_ACTION not in domain.action_names_or_texts:
            return self._prediction(probabilities)
        if tracker.latest_action_name == PAUSED_ACTION:
            probabilities[domain.index_for_action(ACTION_LISTEN_NAME)] = 1.0
        elif tracker.get_slot(PAUSE_SLOT):
            wanted = (
                PAUSED_ACTION
                if tracker.latest_action_name == ACTION_LISTEN_NAME
                else ACTION_LISTEN_NAME
            )
            probabilities[domain.index_for_action(wanted)] = 1.0
        return self._prediction(probabilities)
