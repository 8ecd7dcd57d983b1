"""Pieces of Send API bodies: the envelope with its messaging type, quick replies, buttons."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from bot.messenger.graph_limits import (
    MAX_BUTTON_TITLE,
    MAX_QUICK_REPLIES,
    MAX_QUICK_REPLY_PAYLOAD,
    MAX_QUICK_REPLY_TITLE,
    MESSAGING_TYPES,
)
from bot.messenger.message_text import shorten

logger = logging.getLogger(__name__)


def send_body(
    recipient: dict[str, str], message: dict[str, Any], tag: str | None, messaging_type: str
) -> dict[str, Any]:
    """A Send API body with the right `messaging_type` and `tag`."""
    if tag:
        return {"recipient": recipient, "messaging_type": "MESSAGE_TAG", "tag": tag,
                "message": message}
    if messaging_type not in MESSAGING_TYPES or messaging_type == "MESSAGE_TAG":
        raise ValueError(f"messaging_type {messaging_type!r} needs a tag or is unknown")
    return {"recipient": recipient, "messaging_type": messaging_type, "message": message}


def quick_reply_items(quick_replies: Iterable[tuple[str, str]]) -> list[dict[str, str]]:
    """Messenger quick replies: at most 13, titles and payloads cut to Messenger's limits."""
    items = list(quick_replies)
    if len(items) > MAX_QUICK_REPLIES:
        logger.warning(
            "Dropping %d quick replies over Messenger's limit of %d",
            len(items) - MAX_QUICK_REPLIES,
            MAX_QUICK_REPLIES,
        )
    result = []
    for title, payload in items[:MAX_QUICK_REPLIES]:
        if not title.strip() or not payload:
            raise ValueError("a quick reply needs a title and a payload")
        result.append(
            {
                "content_type": "text",
                "title": shorten(title.strip(), MAX_QUICK_REPLY_TITLE),
                "payload": payload[:MAX_QUICK_REPLY_PAYLOAD],
            }
        )
    return result


def button_item(button: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a Messenger button with its title cut to 20 characters."""
    result = dict(button)
    if "type" not in result:
        raise ValueError("a button needs a type (postback, web_url, phone_number)")
    if isinstance(result.get("title"), str):
        result["title"] = shorten(result["title"], MAX_BUTTON_TITLE)
    return result
