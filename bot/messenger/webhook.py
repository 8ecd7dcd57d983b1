"""What the Messenger webhook answers, whichever server receives it.

The same checks run in the dedicated receiver (`bot.messenger.ingress`, the URL Meta calls)
and in the Rasa channel's own route: the verification handshake, then for a POST the size
limit (413), the ``X-Hub-Signature-256`` signature compared in constant time (403), the
bounds of `bot.messenger.body_checks` (415 for a compressed body, 400 for what is not
bounded UTF-8 JSON, 413 for too many values or events), the page-object check (400), and the
store into the inbox. Nothing is stored unless every check passed; the answer never waits
for the bot. A body that passed is answered 200 even when some of its items are odd: those
are stored as unknown events, with why, and never cost their neighbours anything.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from typing import Any

from bot.messenger.body_checks import (
    BodyRejected,
    check_event_count,
    decode_body,
    refuse_content_encoding,
)
from bot.messenger.channel_names import CHANNEL_NAME
from bot.messenger.event_types import InboundEvent
from bot.messenger.events import WebhookFormatError, parse_webhook
from bot.messenger.group_commit import GroupCommit
from bot.messenger.inbox import CUSTOMER_MESSAGE_KINDS
from bot.messenger.signature import SIGNATURE_HEADER, verify_signature
from bot.observability.metrics import count_received
from bot.settings import MessengerSettings

logger = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 256 * 1024
"""Page webhooks are a few KB; anything much larger is refused with 413."""

NOT_CONFIGURED = (
    "Messenger is not configured: set PAGE_ACCESS_TOKEN, APP_SECRET and VERIFY_TOKEN in .env"
)


@dataclass(frozen=True)
class WebhookAnswer:
    """An HTTP answer: status and a JSON body (or the handshake's plain-text challenge).

    Attributes:
        status: the HTTP status.
        body: a JSON-ready dict, or the challenge text for the handshake.
        new_event_ids: ids of events stored for the first time (empty on errors).
    """

    status: int
    body: dict[str, Any] | str
    new_event_ids: tuple[str, ...] = ()


def _error(status: int, message: str) -> WebhookAnswer:
    return WebhookAnswer(status, {"error": message})


def verify_handshake(
    messenger: MessengerSettings, mode: str | None, token: str | None, challenge: str | None
) -> WebhookAnswer:
    """Meta's GET handshake: the challenge back when mode and verify token are right."""
    expected = messenger.verify_token
    if not expected:
        return _error(503, NOT_CONFIGURED)
    if mode != "subscribe" or not hmac.compare_digest((token or "").encode(), expected.encode()):
        logger.warning("messenger: webhook verification refused")
        return _error(403, "verification failed: wrong hub.mode or hub.verify_token")
    return WebhookAnswer(200, challenge or "")


def customer_messages(events: list[InboundEvent], new_ids: list[str]) -> int:
    """How many of the newly stored events are something a customer wrote."""
    new = set(new_ids)
    return sum(1 for e in events if e.event_id in new and e.kind in CUSTOMER_MESSAGE_KINDS)


def too_large(max_body_bytes: int) -> WebhookAnswer:
    """The 413 answer."""
    return _error(413, f"body larger than {max_body_bytes} bytes")


async def receive(
    messenger: MessengerSettings,
    intake: GroupCommit | None,
    raw_body: bytes,
    signature: str | None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    content_encoding: str | None = None,
) -> WebhookAnswer:
    """Checks one POST and stores its events; the answer to send back."""
    if not messenger.configured or intake is None or messenger.app_secret is None:
        return _error(503, NOT_CONFIGURED)
    if len(raw_body) > max_body_bytes:
        return too_large(max_body_bytes)
    try:
        refuse_content_encoding(content_encoding)
    except BodyRejected as error:
        return _error(error.status, error.reason)
    if not verify_signature(messenger.app_secret, raw_body, signature):
        logger.warning("messenger: webhook with a missing or wrong signature refused")
        return _error(403, f"missing or invalid {SIGNATURE_HEADER} signature")
    try:
        events = parse_webhook(decode_body(raw_body))
        check_event_count(len(events))
    except BodyRejected as error:
        logger.warning("messenger: signed webhook body refused (%d): %s", error.status, error)
        return _error(error.status, error.reason)
    except WebhookFormatError as error:
        return _error(400, str(error))
    new_ids = await intake.store(events)
    count_received(CHANNEL_NAME, customer_messages(events, new_ids))
    return WebhookAnswer(200, {"received": len(events), "new": len(new_ids)}, tuple(new_ids))
