"""Typed text is words, never an intent command.

Rasa reads a message that starts with "/" as an intent command: ``/human_request`` is the
intent `human_request` at full confidence and ``/inform{"email": "x@y.it"}`` also sets an
entity (Rasa's RegexMessageHandler, which runs before NLU on every message, after
stripping surrounding whitespace). Only our own quick-reply and postback payloads may do
that. Whatever a customer typed goes through `as_typed` in every channel first, so a
leading "/" is read as punctuation.

`as_typed` removes the leading run of slashes (and the whitespace around them) rather
than hiding it behind an invisible character: NLU, language detection and the review
inbox then see the same words the customer meant (``human_request``, ``Call me at ...``)
with nothing invisible in stored text, and Rasa's tokenizer dropped a leading "/" anyway.
The channels keep the text as typed in the message's ``display_text``, so transcripts and
the desk show exactly what the customer wrote.

`is_intent_payload` tells whether a payload has the shape of one of ours: ``/intent`` or
``/intent{...}`` with a JSON object of entities.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection

__all__ = ["as_typed", "intent_of_payload", "is_intent_payload"]

_PAYLOAD_RE = re.compile(r"/(?P<intent>[A-Za-z][A-Za-z0-9_]*)(?P<entities>\{.*\})?", re.DOTALL)


def as_typed(text: str) -> str:
    """What Rasa should get for text a customer typed: never an intent command.

    Text that does not start with "/" (after whitespace) is returned unchanged. Otherwise
    the leading slashes and the whitespace around them are removed, as many times as it
    takes (``"/ /human_request"`` gives ``"human_request"``); text of slashes alone gives
    ``""``.

    Args:
        text: The message as the customer typed it.

    Returns:
        Text that Rasa reads as words.
    """
    if not text.lstrip().startswith("/"):
        return text
    rest = text
    while True:
        shorter = rest.lstrip().lstrip("/")
        if shorter == rest:
            return rest
        rest = shorter


def intent_of_payload(payload: str) -> str | None:
    """The intent a payload such as ``/inform{"email": "..."}`` triggers, or None.

    None unless the whole payload is ``/`` and an intent name, optionally followed by
    a JSON object (the entities).
    """
    match = _PAYLOAD_RE.fullmatch(payload)
    if match is None:
        return None
    entities = match.group("entities")
    if entities is not None:
        try:
            if not isinstance(json.loads(entities), dict):
                return None
        except ValueError:
            return None
    return match.group("intent")


def is_intent_payload(payload: str, intents: Collection[str] | None = None) -> bool:
    """Whether a payload is one a button of ours may carry.

    Args:
        payload: What the button sent.
        intents: The domain's intents; when given, the payload's intent must be one.

    Returns:
        True for ``/intent`` or ``/intent{json object}`` (of a known intent).
    """
    intent = intent_of_payload(payload)
    return intent is not None and (intents is None or intent in intents)
