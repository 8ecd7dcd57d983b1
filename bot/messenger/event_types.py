"""The typed events a page webhook is parsed into (`bot.messenger.events.parse_webhook`).

Every event carries a stable `event_id` (the same item parsed twice gets the same id, which is
what makes the inbox's duplicate check work), the page id, the conversation it belongs to
(the customer's PSID for Messenger, ``"comment:<comment_id>"`` for a public comment), a
millisecond `timestamp`, its `kind` and the `raw` item. Anything not understood is an
`UnknownEvent` that keeps its raw dict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Any, ClassVar

GET_STARTED_PAYLOAD = "GET_STARTED"
"""The postback payload our Get Started button sends (set up by `nightdesk messenger setup`)."""


class EventKind(str, Enum):
    """What an inbound event is; the value is what the inbox stores."""

    TEXT = "text"
    POSTBACK = "postback"
    ATTACHMENT = "attachment"
    REACTION = "reaction"
    REFERRAL = "referral"
    ECHO = "echo"
    DELIVERY = "delivery"
    READ = "read"
    STANDBY = "standby"
    HANDOVER = "handover"
    COMMENT = "comment"
    UNKNOWN = "unknown"


class AttachmentType(str, Enum):
    """The type of one message attachment; stickers are told apart by their `sticker_id`."""

    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"
    FILE = "file"
    STICKER = "sticker"
    LOCATION = "location"
    FALLBACK = "fallback"
    OTHER = "other"


class HandoverAction(str, Enum):
    """A thread-control change (Handover Protocol / Conversation Routing)."""

    PASS = "pass_thread_control"
    TAKE = "take_thread_control"
    REQUEST = "request_thread_control"


@dataclass(frozen=True, kw_only=True)
class InboundEvent:
    """What every inbound event has.

    Attributes:
        event_id: the inbox key: stable across re-deliveries of the same item.
        page_id: the Facebook Page the webhook entry is for.
        conversation_id: the customer's PSID for Messenger events, ``"comment:<id>"`` for
            public comments.
        timestamp: when it happened, in epoch milliseconds.
        raw: the webhook item as received (treat as read-only).
    """

    kind: ClassVar[EventKind] = EventKind.UNKNOWN

    event_id: str
    page_id: str
    conversation_id: str
    timestamp: int
    raw: dict[str, Any] = field(repr=False, hash=False)


@dataclass(frozen=True, kw_only=True)
class MessagingEvent(InboundEvent):
    """An item of an entry's `messaging` (or `standby`) list.

    Attributes:
        sender_id: who sent it (the customer's PSID, or the page for echoes).
        recipient_id: who received it (the page, or the customer for echoes).
    """

    sender_id: str
    recipient_id: str


@dataclass(frozen=True)
class Attachment:
    """One attachment of a message.

    Attributes:
        type: image, audio, video, file, sticker, location, fallback (a shared link), other.
        url: where the media can be downloaded (Meta's CDN URLs expire), or the link.
        sticker_id: the sticker's id, for stickers (and Messenger's thumbs-up).
        latitude: for a shared location.
        longitude: for a shared location.
        title: the title Meta gives a location or a shared link.
    """

    type: AttachmentType
    url: str | None = None
    sticker_id: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    title: str | None = None


@dataclass(frozen=True, kw_only=True)
class TextMessageEvent(MessagingEvent):
    """A customer's text message, possibly a tap on a quick reply.

    Attributes:
        mid: Meta's message id (also the event id).
        text: the text as typed (or the quick reply's title).
        quick_reply_payload: the payload of the tapped quick reply, or None.
        reply_to_mid: the message this one replies to, when the customer used "Reply".
    """

    kind: ClassVar[EventKind] = EventKind.TEXT

    mid: str
    text: str
    quick_reply_payload: str | None = None
    reply_to_mid: str | None = None

    @property
    def is_quick_reply(self) -> bool:
        """True when the customer tapped a quick reply."""
        return self.quick_reply_payload is not None


@dataclass(frozen=True, kw_only=True)
class AttachmentMessageEvent(MessagingEvent):
    """A customer's message with attachments (photos, audio, video, files, a sticker...).

    Attributes:
        mid: Meta's message id (also the event id).
        attachments: the attachments in order.
        text: text sent along with them (a shared link's text), or None.
        reply_to_mid: the message this one replies to, or None.
    """

    kind: ClassVar[EventKind] = EventKind.ATTACHMENT

    mid: str
    attachments: tuple[Attachment, ...]
    text: str | None = None
    reply_to_mid: str | None = None

    @property
    def attachment_types(self) -> tuple[AttachmentType, ...]:
        """The type of each attachment, in order."""
        return tuple(attachment.type for attachment in self.attachments)


@dataclass(frozen=True, kw_only=True)
class PostbackEvent(MessagingEvent):
    """A tap on a postback button: Get Started, the persistent menu, a template button.

    Attributes:
        title: the button's title.
        payload: the button's payload.
        mid: the postback's message id when Meta sends one.
        referral_ref: the `ref` of an m.me link that led to Get Started, if any.
    """

    kind: ClassVar[EventKind] = EventKind.POSTBACK

    title: str | None
    payload: str
    mid: str | None = None
    referral_ref: str | None = None

    @property
    def is_get_started(self) -> bool:
        """True for the Get Started button."""
        return self.payload == GET_STARTED_PAYLOAD


@dataclass(frozen=True, kw_only=True)
class ReactionEvent(MessagingEvent):
    """A reaction put on (or taken off) a message.

    Attributes:
        action: "react" or "unreact".
        reaction: Meta's name for it ("love", "smile", "like", "other"...), or None.
        emoji: the emoji, or None (often absent on unreact).
        mid: the message reacted to.
    """

    kind: ClassVar[EventKind] = EventKind.REACTION

    action: str
    reaction: str | None
    emoji: str | None
    mid: str


@dataclass(frozen=True, kw_only=True)
class ReferralEvent(MessagingEvent):
    """A customer already in a thread arrived again through a link, an ad or a plugin.

    Attributes:
        ref: the `ref` parameter, or None.
        source: SHORTLINK, ADS, MESSENGER_CODE, CUSTOMER_CHAT_PLUGIN, ...
        referral_type: normally OPEN_THREAD.
        ad_id: the ad, for ADS referrals.
        referer_uri: the web page, for the chat plugin.
    """

    kind: ClassVar[EventKind] = EventKind.REFERRAL

    ref: str | None
    source: str | None
    referral_type: str | None
    ad_id: str | None = None
    referer_uri: str | None = None


@dataclass(frozen=True, kw_only=True)
class EchoEvent(MessagingEvent):
    """A copy of a message the page sent (by this bot, another app or a person in the inbox).

    Attributes:
        mid: the sent message's id (also the event id).
        text: its text, or None.
        app_id: the app that sent it (None or the page inbox's app for a person).
        metadata: the `metadata` string the sender attached, or None.
        attachments: its attachments.
    """

    kind: ClassVar[EventKind] = EventKind.ECHO

    mid: str
    text: str | None = None
    app_id: str | None = None
    metadata: str | None = None
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, kw_only=True)
class DeliveryEvent(MessagingEvent):
    """The customer's device received the page's messages up to `watermark`.

    Attributes:
        mids: the delivered messages' ids (may be empty).
        watermark: every message sent before this epoch-ms time was delivered.
    """

    kind: ClassVar[EventKind] = EventKind.DELIVERY

    mids: tuple[str, ...]
    watermark: int


@dataclass(frozen=True, kw_only=True)
class ReadEvent(MessagingEvent):
    """The customer read the page's messages up to `watermark` (epoch ms).

    Attributes:
        watermark: every message sent before this time was read.
    """

    kind: ClassVar[EventKind] = EventKind.READ

    watermark: int


@dataclass(frozen=True, kw_only=True)
class HandoverEvent(MessagingEvent):
    """Thread control changed hands (or another app asks for it).

    Attributes:
        action: pass, take or request thread control.
        new_owner_app_id: the app that owns the thread now (pass/take), or None.
        previous_owner_app_id: the app that owned it before, or None.
        requested_owner_app_id: the app asking for control (request), or None.
        metadata: the free-text metadata sent with the change, or None.
    """

    kind: ClassVar[EventKind] = EventKind.HANDOVER

    action: HandoverAction
    new_owner_app_id: str | None = None
    previous_owner_app_id: str | None = None
    requested_owner_app_id: str | None = None
    metadata: str | None = None


@dataclass(frozen=True, kw_only=True)
class StandbyEvent(MessagingEvent):
    """Something happened in a thread another app (e.g. the page inbox) owns.

    Attributes:
        inner: the item parsed as if it had come in `messaging` (a text, an echo of a
            person's answer, a read receipt...); its own ids are kept as they are.
    """

    kind: ClassVar[EventKind] = EventKind.STANDBY

    inner: InboundEvent


@dataclass(frozen=True, kw_only=True)
class CommentEvent(InboundEvent):
    """A comment under one of the page's posts was added, edited or removed.

    Attributes:
        verb: "add", "edited", "remove" (or another verb Meta sends, e.g. "hide").
        comment_id: the comment.
        post_id: the post it is under.
        parent_id: the post (a top-level comment) or the comment it replies to.
        from_id: the commenter's id (an app-scoped user id, or the page).
        from_name: the commenter's name, or None.
        message: the comment's text, or None (e.g. for a removal or a photo comment).
        from_page: True when the page itself commented (never answered).
    """

    kind: ClassVar[EventKind] = EventKind.COMMENT

    verb: str
    comment_id: str
    post_id: str | None
    parent_id: str | None
    from_id: str | None
    from_name: str | None
    message: str | None
    from_page: bool

    @property
    def is_reply(self) -> bool:
        """True when the comment answers another comment rather than the post."""
        return self.parent_id is not None and self.parent_id != self.post_id


@dataclass(frozen=True, kw_only=True)
class UnknownEvent(InboundEvent):
    """An item not understood: stored and ignored, never an error.

    Attributes:
        source: where it was: "messaging", "standby", "changes" or "entry".
        reason: a short explanation, e.g. "messaging item with optin".
    """

    kind: ClassVar[EventKind] = EventKind.UNKNOWN

    source: str
    reason: str


def event_time(event: InboundEvent) -> datetime:
    """When the event happened, as an aware UTC datetime."""
    return datetime.fromtimestamp(event.timestamp / 1000, tz=timezone.utc)
