"""Reading Graph's JSON answers: a send's result, numbers, lists, who wrote something, when."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class SentMessage:
    """Graph's answer to a send: who received it and the new message's id."""

    recipient_id: str
    message_id: str


def as_int(value: Any) -> int | None:
    """An int from Graph's answer, or None."""
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def graph_items(value: Any) -> list[dict[str, Any]]:
    """The objects of a Graph list (``{"data": [...]}``); anything else is skipped."""
    data = value.get("data") if isinstance(value, Mapping) else None
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def from_id(item: Mapping[str, Any]) -> str:
    """The id in an object's ``from`` (who wrote a message or a comment), or ""."""
    sender = item.get("from")
    return str(sender.get("id") or "") if isinstance(sender, Mapping) else ""


def same_text(value: Any, text: str) -> bool:
    """Whether Graph's copy of a text is the text we sent, white space aside."""
    return isinstance(value, str) and value.split() == text.split()


def graph_time(value: Any) -> float | None:
    """Unix time from Graph's ``created_time`` (ISO 8601 such as 2026-11-22T23:00:05+0000)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, str):
        return None
    if value.isdigit():
        return float(value)
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z").timestamp()
    except ValueError:
        return None
