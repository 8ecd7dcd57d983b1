"""Picking a response variation from the domain for messages the channel sends itself.

Comment replies are sent by the Messenger channel, not by the dialogue, but their wording
still lives in `domain.yml` like every other answer. Variations are chosen the way Rasa
chooses them: those whose slot conditions (the reply's `language`, whether a first name is
known) all hold, else those without a condition; then at random among those whose
placeholders ({first_name}, {bot_name}, {brand_name}) all have values, so a reply never
shows an empty name and always speaks the commenter's language; when the first name is
known, a variation that uses it.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from typing import Any

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class MissingResponseError(LookupError):
    """The domain has no usable variation of a response."""


def _holds(condition: list[dict[str, Any]], slots: Mapping[str, Any]) -> bool:
    return all(slots.get(part.get("name")) == part.get("value") for part in condition)


def render(
    responses: Mapping[str, list[dict[str, Any]]],
    name: str,
    values: Mapping[str, str | None],
    rng: random.Random | None = None,
    language: str | None = None,
) -> str:
    """One filled-in variation of the response `name`, in `language`.

    Raises:
        MissingResponseError: no variation can be filled with the values given.
    """
    first_name = values.get("first_name")
    slots = {"language": language, "first_name": first_name or None,
             "has_first_name": bool(first_name)}
    variations = [v for v in responses.get(name) or []
                  if v.get("text") and not v.get("channel")]
    matching = [v for v in variations if v.get("condition") and _holds(v["condition"], slots)]
    usable = []
    for variation in matching or [v for v in variations if not v.get("condition")]:
        text = variation["text"]
        needed = set(_PLACEHOLDER.findall(text))
        if all(values.get(key) for key in needed):
            usable.append(text)
    if not usable:
        raise MissingResponseError(f"domain.yml has no usable variation of {name}")
    if first_name:
        # answer personally whenever the name is known
        usable = [text for text in usable if "{first_name}" in text] or usable
    text = (rng or random).choice(usable)
    return _PLACEHOLDER.sub(lambda match: str(values.get(match.group(1)) or ""), text)
