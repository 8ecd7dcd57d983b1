"""What a Messenger event means to Rasa: the message text, and what a person should read.

Typed texts go to Rasa through `bot.understanding.typed_text.as_typed`, so a customer who
types ``/human_request`` is read as words, not as an intent command; when that changes the
text, `display_text` keeps it as typed. Quick replies and postbacks whose payload starts
with "/" are intent triggers and go as they are (the customer tapped a choice we offered;
only Meta can send those, signed); Get Started and referrals greet. Attachments become
``/share_media{"media_type": ...}`` so the dialogue can ask what a photo is about or hand
a photo of damage to a person; the metadata keeps the media URLs and a `display_text` such
as "[photo] https://..." for transcripts. Reactions, receipts and echoes are not messages
for the bot.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bot.messenger.event_types import (
    AttachmentMessageEvent,
    AttachmentType,
    InboundEvent,
    PostbackEvent,
    ReferralEvent,
    TextMessageEvent,
)
from bot.understanding.typed_text import as_typed

GREETING_TRIGGER = "/greet"

_MEDIA_LABELS = {
    AttachmentType.IMAGE: "photo",
    AttachmentType.VIDEO: "video",
    AttachmentType.AUDIO: "voice message",
    AttachmentType.FILE: "file",
    AttachmentType.STICKER: "sticker",
    AttachmentType.LOCATION: "location",
    AttachmentType.FALLBACK: "link",
    AttachmentType.OTHER: "attachment",
}


@dataclass(frozen=True)
class RasaInput:
    """One message for Rasa.

    Attributes:
        text: what Rasa parses (typed text or an intent trigger).
        metadata: extra facts for the tracker: `display_text` (what the customer did, for
            people), `attachments`, `message_id`, `referral_ref`.
    """

    text: str
    metadata: dict[str, Any] = field(default_factory=dict)


def is_intent_trigger(payload: str | None) -> bool:
    """Whether a payload is a Rasa intent trigger such as "/human_request"."""
    return bool(payload) and payload.startswith("/") and len(payload) > 1


def media_trigger(media_type: str) -> str:
    """The intent trigger Rasa gets for a shared attachment."""
    return "/share_media" + json.dumps({"media_type": media_type}, separators=(",", ":"))


def typed_input(text: str, metadata: dict[str, Any]) -> RasaInput | None:
    """The Rasa message for text the customer typed, or None when it has no words.

    `metadata` gets the text as typed as `display_text` when Rasa gets something else.
    """
    words = as_typed(text)
    if not words.strip():
        return None
    if words != text:
        metadata = {"display_text": text.strip(), **metadata}
    return RasaInput(words, metadata)


def to_rasa(event: InboundEvent) -> RasaInput | None:
    """The Rasa message for a customer event, or None when the bot should not answer it."""
    if isinstance(event, TextMessageEvent):
        if is_intent_trigger(event.quick_reply_payload):
            return RasaInput(
                event.quick_reply_payload or "",
                {"display_text": event.text, "message_id": event.mid},
            )
        return typed_input(event.text, {"message_id": event.mid})
    if isinstance(event, PostbackEvent):
        shown = event.title or event.payload
        if event.is_get_started:
            metadata = {"display_text": shown or "Get Started"}
            if event.referral_ref:
                metadata["referral_ref"] = event.referral_ref
            return RasaInput(GREETING_TRIGGER, metadata)
        if is_intent_trigger(event.payload):
            return RasaInput(event.payload, {"display_text": shown})
        return typed_input(shown, {})
    if isinstance(event, AttachmentMessageEvent):
        return _attachment_input(event)
    if isinstance(event, ReferralEvent):
        return RasaInput(GREETING_TRIGGER, {"display_text": "(opened the chat from a link)",
                                            "referral_ref": event.ref})
    return None


def _attachment_input(event: AttachmentMessageEvent) -> RasaInput | None:
    """Shared media: its text if it came with one, else the media trigger."""
    attachments = [
        {"type": a.type.value, "url": a.url, "title": a.title}
        for a in event.attachments
    ]
    if not event.attachments:
        return None
    first = event.attachments[0]
    described = " ".join(
        f"[{_MEDIA_LABELS.get(a.type, 'attachment')}]" + (f" {a.url}" if a.url else "")
        for a in event.attachments
    )
    metadata: dict[str, Any] = {"attachments": attachments, "message_id": event.mid}
    words = as_typed(event.text.strip()) if event.text else ""
    if words.strip():
        metadata["display_text"] = f"{event.text.strip()} {described}"
        return RasaInput(words, metadata)
    metadata["display_text"] = described
    media_type = {AttachmentType.FALLBACK: "link", AttachmentType.OTHER: "file"}.get(
        first.type, first.type.value
    )
    return RasaInput(media_trigger(media_type), metadata)
