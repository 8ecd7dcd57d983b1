"""What the web chat page may send to the bot, checked before anything reaches Rasa.

A request is a JSON object::

    {"message": "where is my order?", "display_text": "Track my order",
     "first_name": "Anna", "language": "en"}

It names no conversation: that comes from the chat's session cookie
(`bot.webchat.sessions`), so a page cannot write into, or read, another customer's
conversation (a Messenger customer's PSID, say). A body that carries ``sender`` anyway is
refused (`refuse_client_conversation`), never honoured or quietly dropped.

``message`` is what the customer typed: words, never an intent command (it goes through
`bot.understanding.typed_text.as_typed`, so ``/human_request`` typed is read as words; the
text as typed is kept as ``display_text``). A chip, ice breaker or menu item tapped sends
``payload`` instead of ``message``: ``/intent`` or ``/intent{...}`` with a JSON object, of
an intent in the bot's domain (the channel checks that); ``display_text`` is what the
customer saw on the chip they tapped, kept for the transcript;
``language`` is the page's language (a hint for the conversation's first language).
``first_name`` is whatever the customer typed as their name: it reaches the bot only when
it looks like a first name (`bot.handoff.first_names.first_name_or_none`, which also gives
it a capital letter); anything else there (a sentence, an e-mail, a greeting, too long a
text) is dropped, never refused, so the customer is answered, just not by name.
Anything else wrong is refused with a message that says what is wrong.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from bot.handoff.first_names import first_name_or_none
from bot.understanding.typed_text import as_typed, intent_of_payload

MAX_MESSAGE_CHARS = 2000
MAX_NAME_CHARS = 64
CLIENT_CONVERSATION_FIELDS = ("sender",)
"""Fields by which a client would name its conversation: refused, the cookie names it."""
CLIENT_CONVERSATION_REFUSED = (
    "'sender' is not accepted: the conversation comes from the chat's session cookie"
)
LANGUAGE_PATTERN = re.compile(r"[a-z]{2}")


class ChatRequestError(ValueError):
    """The request cannot be passed to the bot; the message says why."""


@dataclass(frozen=True)
class ChatRequest:
    """One message from the web chat page."""

    message: str
    display_text: str | None = None
    first_name: str | None = None
    language: str | None = None
    payload: str | None = None

    @property
    def text(self) -> str:
        """What Rasa gets: the tapped payload, or the typed words."""
        return self.payload or self.message

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


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ChatRequestError(f"the body is not valid JSON ({error})") from None
    if not isinstance(body, dict):
        raise ChatRequestError("the body must be a JSON object")
    return body


def refuse_client_conversation(fields: Any) -> None:
    """`ChatRequestError` when a body or a query names its own conversation (``sender``)."""
    if any(name in fields for name in CLIENT_CONVERSATION_FIELDS):
        raise ChatRequestError(CLIENT_CONVERSATION_REFUSED)


def parse_chat_request(raw: bytes) -> ChatRequest:
    """The message fields of a raw body, or `ChatRequestError` saying what is wrong.

    A body that names a conversation (``sender``) is refused: the conversation comes from
    the chat's session cookie.
    """
    body = _json_object(raw)
    refuse_client_conversation(body)
    return _chat_request(body)


def _chat_request(body: dict[str, Any]) -> ChatRequest:
    payload = _payload(body)
    display_text = _optional_text(body, "display_text", MAX_MESSAGE_CHARS)
    words = ""
    if payload is not None:
        if body.get("message") is not None:
            raise ChatRequestError("send either 'message' or 'payload', not both")
    else:
        typed = _typed_message(body.get("message"))
        words = typed.words
        if typed.typed != words:
            display_text = display_text or typed.typed
    return ChatRequest(
        message=words,
        payload=payload,
        display_text=display_text,
        first_name=_first_name(body),
        language=_language(body),
    )


def _first_name(body: dict[str, Any]) -> str | None:
    """The name to greet by, or None when what was typed is not a first name (never refused).

    Only a non-string value (a broken page, not something a customer typed) is refused.
    """
    value = body.get("first_name")
    if value is None:
        return None
    if not isinstance(value, str):
        raise ChatRequestError("'first_name' must be a string")
    if len(value.strip()) > MAX_NAME_CHARS:
        return None
    return first_name_or_none(value)


def _language(body: dict[str, Any]) -> str | None:
    language = _optional_text(body, "language", 2)
    if language is not None and not LANGUAGE_PATTERN.fullmatch(language):
        raise ChatRequestError("'language' must be a two-letter language code such as \"it\"")
    return language


@dataclass(frozen=True)
class _Typed:
    """A typed message as sent (stripped) and the words Rasa gets for it."""

    typed: str
    words: str


def _typed_message(message: Any) -> _Typed:
    """The typed message, and the words Rasa gets for it (never an intent command)."""
    if not isinstance(message, str) or not message.strip():
        raise ChatRequestError("'message' must be a non-empty string")
    if len(message) > MAX_MESSAGE_CHARS:
        raise ChatRequestError(f"'message' is longer than {MAX_MESSAGE_CHARS} characters")
    typed = message.strip()
    words = as_typed(typed)
    if not words:
        raise ChatRequestError("'message' has nothing but slashes")
    return _Typed(typed, words)


def _payload(body: dict[str, Any]) -> str | None:
    """A tapped button's payload: ``/intent`` or ``/intent{json object}``, or None."""
    payload = body.get("payload")
    if payload is None:
        return None
    if not isinstance(payload, str) or len(payload) > MAX_MESSAGE_CHARS:
        raise ChatRequestError(
            f"'payload' must be a string of at most {MAX_MESSAGE_CHARS} characters")
    if intent_of_payload(payload) is None:
        raise ChatRequestError("'payload' must be /intent or /intent{...} with a JSON object")
    return payload
