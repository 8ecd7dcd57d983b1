"""Picking a response variation from the domain for messages the channel sends itself.

Comment replies are sent by the Messenger channel, not by the dialogue, but their wording
still lives in `domain.yml` like every other answer. A variation is chosen at random among
those that need no slot condition and whose placeholders ({first_name}, {bot_name},
{brand_name}) all have values, so a reply never shows an empty name.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from typing import Any

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class MissingResponseError(LookupError):
    """The domain has no usable variation of a response."""


def render(
    responses: Mapping[str, list[dict[str, Any]]],
    name: str,
    values: Mapping[str, str | None],
    rng: random.Random | None = None,
) -> str:
    """One filled-in variation of the response `name`.

    Raises:
        MissingResponseError: no variation can be filled with the values given.
    """
    usable = []
    for variation in responses.get(name) or []:
        text = variation.get("text")
        if not text or variation.get("condition") or variation.get("channel"):
            continue
        needed = set(_PLACEHOLDER.findall(text))
        if all(values.get(key) for key in needed):
            usable.append(text)
    if not usable:
        raise MissingResponseError(f"domain.yml has no usable variation of {name}")
    text = (rng or random).choice(usable)
    return _PLACEHOLDER.sub(lambda match: str(values.get(match.group(1)) or ""), text)
