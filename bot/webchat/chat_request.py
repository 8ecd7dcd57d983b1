"""What the web chat page may send to the bot, checked before anything reaches Rasa.

A request is a JSON object::

    {"sender": "wc-3f2a...", "message": "where is my order?",
     "display_text": "Track my order", "first_name": "Anna", "language": "en"}

``message`` is what the bot reads (a quick reply's payload such as ``/track_order``);
``display_text`` is what the customer saw on the chip they tapped, kept for the transcript;
``language`` is the page's language (a hint for the conversation's first language).
Anything else is refused with a message that says what is wrong.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

MAX_MESSAGE_CHARS = 2000
MAX_NAME_CHARS = 64
SENDER_PATTERN = re.compile(r"[A-Za-z0-9_-]{8,64}")
LANGUAGE_PATTERN = re.compile(r"[a-z]{2}")


class ChatRequestError(ValueError):
    """The request cannot be passed to the bot; the message says why."""


@dataclass(frozen=True)
class ChatRequest:
    """One message from the web chat page."""

    sender: str
    message: str
    display_text: str | None = None
    first_name: str | None = None
    language: str | None = None

    def metadata(self) -> dict[str, Any]:
        """The conversation metadata Rasa gets with the message."""
        metadata: dict[str, Any] = {}
        if self.first_name:
            metadata["first_name"] = self.first_name
        if self.display_text:
            metadata["display_text"] = self.display_text
        if self.language:
            metadata["language"] = self.language
        return metadata


def _optional_text(body: dict[str, Any], key: str, limit: int) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ChatRequestError(f"'{key}' must be a string")
    value = value.strip()
    if len(value) > limit:
        raise ChatRequestError(f"'{key}' is longer than {limit} characters")
    return value or None


def parse_chat_request(raw: bytes) -> ChatRequest:
    """The request in a raw body, or `ChatRequestError` saying what is wrong with it."""
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ChatRequestError(f"the body is not valid JSON ({error})") from None
    if not isinstance(body, dict):
        raise ChatRequestError("the body must be a JSON object")
    sender = body.get("sender")
    if not isinstance(sender, str) or not SENDER_PATTERN.fullmatch(sender):
        raise ChatRequestError(
            "'sender' must be 8 to 64 letters, digits, '-' or '_'"
        )
    message = body.get("message")
    if not isinstance(message, str) or not message.strip():
        raise ChatRequestError("'message' must be a non-empty string")
    if len(message) > MAX_MESSAGE_CHARS:
        raise ChatRequestError(f"'message' is longer than {MAX_MESSAGE_CHARS} characters")
    return ChatRequest(
        sender=sender,
        message=message.strip(),
        display_text=_optional_text(body, "display_text", MAX_MESSAGE_CHARS),
        first_name=_optional_text(body, "first_name", MAX_NAME_CHARS),
        language=_language(body),
    )


def _language(body: dict[str, Any]) -> str | None:
    language = _optional_text(body, "language", 2)
    if language is not None and not LANGUAGE_PATTERN.fullmatch(language):
        raise ChatRequestError("'language' must be a two-letter language code such as \"it\"")
    return language
