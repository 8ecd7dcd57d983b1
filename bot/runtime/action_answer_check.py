"""Checking the action server's answers with one validator built once, not one per answer.

Rasa checks every answer of the action server against its response schema (events and
responses) with `jsonschema.validate`. That call first checks the schema itself against the
JSON Schema meta-schema and builds a new validator, every time: about 20 ms of CPU per answer
on this 2-core machine, and a turn calls the action server once or twice. Under load it was
nearly half of the Rasa process's CPU (`bench/messenger_load.py`, profiled).

The schema is Rasa's own constant. `install_action_answer_check` checks it against the
meta-schema once and builds its validator once; each answer is then checked by that
validator (about 0.6 ms). An answer it finds invalid goes to Rasa's own check, so the error
raised and its message are Rasa's, word for word.
"""

from __future__ import annotations

from typing import Any

from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction

_RASAS_CHECK = RemoteAction.__dict__["_validate_action_result"]
"""Rasa's own `RemoteAction._validate_action_result`."""


def _checker_of_rasas_schema() -> Any:
    """A validator of Rasa's response schema, the schema checked against its meta-schema."""
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def install_action_answer_check() -> None:
    """Makes every action server answer in this process be checked by one prebuilt validator."""
    checker = _checker_of_rasas_schema()

    def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        if checker.is_valid(result):
            return True
        return _RASAS_CHECK(self, result)  # raises Rasa's own error, with its message

    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]


def uninstall_action_answer_check() -> None:
    """Rasa's own check again."""
    RemoteAction._validate_action_result = _RASAS_CHECK  # type: ignore[method-assign]
