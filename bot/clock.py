"""The one source of "now" for every nightdesk process.

Every part that asks what time it is (the office calendar's callers, tickets, proofs,
actions) takes a `Clock`: a function returning an aware UTC datetime. Processes build theirs
with `clock_from_settings`, so a test stack or a demo can freeze the whole product at one
instant (`NIGHTDESK_FROZEN_NOW`) instead of depending on the hour it happens to run.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

__all__ = ["Clock", "frozen_clock", "parse_instant", "system_clock"]

Clock = Callable[[], datetime]
"""Returns the current moment as an aware datetime."""


def system_clock() -> datetime:
    """The machine's time, in UTC."""
    return datetime.now(timezone.utc)


def frozen_clock(at: datetime) -> Clock:
    """A clock that always says `at` (aware; converted to UTC)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"a frozen clock needs a time zone: {at.isoformat()}")
    instant = at.astimezone(timezone.utc)
    return lambda: instant


def parse_instant(text: str) -> datetime:
    """An ISO 8601 instant with its offset ("2026-12-02T23:00:00+01:00"), as aware UTC.

    Raises:
        ValueError: If the text is not ISO 8601 or has no offset.
    """
    moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"an instant needs an offset, e.g. +01:00: {text!r}")
    return moment.astimezone(timezone.utc)
