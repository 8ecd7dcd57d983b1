"""Meta page webhooks parsed into typed events: one flat list per POST body.

A page webhook body (``object: "page"``) carries one or more ``entry`` objects; each may hold
``messaging`` items (DMs, postbacks, reactions, receipts, echoes, thread-control handovers),
``standby`` items (what happens in a thread another app owns) and ``changes`` items (the
page's ``feed``: comments under posts). Every item becomes exactly one frozen event; anything
not understood (a new field, a feed item other than a comment, a malformed item) becomes an
`UnknownEvent` that keeps its raw dict, so a body never fails because of one odd item.

The events themselves (what each kind carries) are in `bot.messenger.event_types`; this module
reads a body into them and gives each a stable `event_id`: the same item parsed twice gets the
same id, which is what makes the inbox's duplicate check work.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
from collections.abc import Mapping
from typing import Any

from bot.messenger.event_types import (
    Attachment,
    AttachmentMessageEvent,
    AttachmentType,
    CommentEvent,
    DeliveryEvent,
    EchoEvent,
    EventKind,
    HandoverAction,
    HandoverEvent,
    InboundEvent,
    PostbackEvent,
    ReactionEvent,
    ReadEvent,
    ReferralEvent,
    StandbyEvent,
    TextMessageEvent,
    UnknownEvent,
)

_SOURCES = ("messaging", "standby", "changes")
_SECONDS_BEFORE = 10**11
"""Epoch values below this are seconds (feed webhooks), above it milliseconds (Messenger)."""
_LATEST_MS = 4_102_444_800_000
"""2100-01-01 in epoch ms: a later time is not a real event's and is read as missing."""
MAX_ID_LENGTH = 128
"""Longest id (page, sender, message, comment) accepted; Meta's are a few dozen characters."""
MAX_PAGE_ID_LENGTH = 64
"""Longest page id accepted (the inbox's column)."""
_MAX_VERB_LENGTH = 32
_ID_SAFE = re.compile(r"[^\x00-\x20\x7f\ufffd]+")


class WebhookFormatError(ValueError):
    """The body is not a page webhook at all (wrong `object`, `entry` not a list)."""


class _Malformed(ValueError):
    """An item of a known kind lacks something it needs."""


def parse_webhook(body: Mapping[str, Any]) -> list[InboundEvent]:
    """Every event of a page webhook body, in the order they appear.

    Args:
        body: the decoded JSON body of a webhook POST.

    Returns:
        One event per `messaging`, `standby` and `changes` item of every entry; items not
        understood become `UnknownEvent`.

    Raises:
        WebhookFormatError: when the body is not an object, `object` is not "page", or
            `entry` is not a list.
    """
    if not isinstance(body, Mapping):
        raise WebhookFormatError("the webhook body must be a JSON object")
    webhook_object = body.get("object")
    if webhook_object != "page":
        raise WebhookFormatError(
            f"unsupported webhook object {webhook_object!r}: only 'page' webhooks are handled"
        )
    entries = body.get("entry")
    if not isinstance(entries, list):
        raise WebhookFormatError("the webhook body's 'entry' must be a list")
    events: list[InboundEvent] = []
    for entry in entries:
        events.extend(_parse_entry(entry))
    return events


def restore_event(
    *,
    event_id: str,
    kind: EventKind | str,
    page_id: str,
    conversation_id: str,
    timestamp: int,
    raw: dict[str, Any],
) -> InboundEvent:
    """Rebuilds a typed event from what the inbox stored about it.

    Args:
        event_id: the stored event id.
        kind: the stored kind.
        page_id: the stored page id.
        conversation_id: the stored conversation id.
        timestamp: the stored timestamp (stands in for the entry's time).
        raw: the stored item.

    Returns:
        The event as `parse_webhook` made it, with the stored ids and timestamp.
    """
    kind = EventKind(kind)
    if kind is EventKind.UNKNOWN:
        return UnknownEvent(
            event_id=event_id,
            page_id=page_id,
            conversation_id=conversation_id,
            timestamp=timestamp,
            raw=raw,
            source="stored",
            reason="an unknown event restored from the inbox",
        )
    source = {EventKind.STANDBY: "standby", EventKind.COMMENT: "changes"}.get(kind, "messaging")
    event = _parse_item(source, page_id, raw, timestamp)
    return dataclasses.replace(
        event, event_id=event_id, conversation_id=conversation_id, timestamp=timestamp
    )


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: the same data always gives the same text."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=repr
    )


def _hash_id(kind: EventKind, source: str, page_id: str, item: Any) -> str:
    """A stable id for an item that has no id of its own: kind and a SHA-256."""
    digest = hashlib.sha256(
        canonical_json({"source": source, "page_id": page_id, "item": item}).encode("utf-8")
    ).hexdigest()
    return f"{kind.value}:{digest}"


def _epoch_ms(value: Any) -> int | None:
    """An epoch time in milliseconds; values that look like seconds are converted.

    None for what is not a time between 1970 and 2100 (negative, infinite, NaN, 10^20...).
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str) and len(value) > 20:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    if number < 0:
        return None
    number = number * 1000 if number < _SECONDS_BEFORE else number
    return number if number <= _LATEST_MS else None


def _opt_id(value: Any, name: str, max_length: int = MAX_ID_LENGTH) -> str | None:
    """An id (ids may arrive as numbers), or None when absent.

    Raises:
        _Malformed: an id longer than `MAX_ID_LENGTH` or holding spaces, control characters
            or replaced (invalid) characters.
    """
    text = _opt_str(value)
    if text is None or text == "":
        return None
    if len(text) > max_length or not _ID_SAFE.fullmatch(text):
        raise _Malformed(f"{name} is not a valid id")
    return text


def _opt_str(value: Any) -> str | None:
    """A string (ids may arrive as numbers), or None."""
    if value is None or isinstance(value, (dict, list)):
        return None
    return str(value)


def _party(item: Mapping[str, Any], key: str) -> str | None:
    """The `id` (or `user_ref`) of an item's sender or recipient."""
    party = item.get(key)
    if not isinstance(party, Mapping):
        return None
    return _opt_id(party.get("id"), f"{key} id") or _opt_id(party.get("user_ref"), key)


def _unknown(
    source: str, page_id: str, item: Any, entry_time: int | None, reason: str
) -> UnknownEvent:
    """An `UnknownEvent` for an item, with what can be said about it."""
    raw = item if isinstance(item, dict) else {"value": item}
    try:
        conversation_id = _party(raw, "sender") or f"page:{page_id}"
    except _Malformed:
        conversation_id = f"page:{page_id}"
    timestamp = _epoch_ms(raw.get("timestamp")) or entry_time or 0
    return UnknownEvent(
        event_id=_hash_id(EventKind.UNKNOWN, source, page_id, raw),
        page_id=page_id,
        conversation_id=conversation_id,
        timestamp=timestamp,
        raw=raw,
        source=source,
        reason=reason,
    )


def _parse_entry(entry: Any) -> list[InboundEvent]:
    """The events of one entry."""
    if not isinstance(entry, dict):
        return [_unknown("entry", "", entry, None, "an entry that is not an object")]
    try:
        page_id = _opt_id(entry.get("id"), "page id", MAX_PAGE_ID_LENGTH) or ""
    except _Malformed:
        return [_unknown("entry", "", entry, None, "an entry whose page id is not a valid id")]
    entry_time = _epoch_ms(entry.get("time"))
    events: list[InboundEvent] = []
    found = False
    for source in _SOURCES:
        if source not in entry:
            continue
        found = True
        items = entry[source]
        if not isinstance(items, list):
            raw = {source: items}
            events.append(_unknown(source, page_id, raw, entry_time, f"'{source}' is not a list"))
            continue
        events.extend(_parse_item(source, page_id, item, entry_time) for item in items)
    if not found:
        events.append(_unknown("entry", page_id, entry, entry_time, "an entry with no known field"))
    return events


def _parse_item(source: str, page_id: str, item: Any, entry_time: int | None) -> InboundEvent:
    """One item of an entry, or an `UnknownEvent` when it is not understood."""
    if not isinstance(item, dict):
        return _unknown(source, page_id, item, entry_time, f"a {source} item that is not an object")
    try:
        if source == "changes":
            return _parse_change(page_id, item, entry_time)
        if source == "standby":
            return _parse_standby(page_id, item, entry_time)
        return _parse_messaging(source, page_id, item, entry_time)
    except (_Malformed, KeyError, TypeError, ValueError, AttributeError, OverflowError) as error:
        reason = str(error) if isinstance(error, _Malformed) else type(error).__name__
        return _unknown(source, page_id, item, entry_time, f"malformed {source} item: {reason}")


def _messaging_basics(
    page_id: str, item: Mapping[str, Any], entry_time: int | None
) -> dict[str, Any]:
    """The fields every messaging event has; the conversation is the sender."""
    sender_id = _party(item, "sender")
    if sender_id is None:
        raise _Malformed("no sender id")
    recipient_id = _party(item, "recipient") or page_id
    return {
        "page_id": page_id or recipient_id,
        "conversation_id": sender_id,
        "timestamp": _epoch_ms(item.get("timestamp")) or entry_time or 0,
        "raw": item,
        "sender_id": sender_id,
        "recipient_id": recipient_id,
    }


def _parse_messaging(
    source: str, page_id: str, item: dict[str, Any], entry_time: int | None
) -> InboundEvent:
    """A `messaging` item (also the content of a `standby` item)."""
    basics = _messaging_basics(page_id, item, entry_time)
    if "message" in item:
        return _parse_message(basics, item["message"])
    if "postback" in item:
        return _parse_postback(basics, item["postback"])
    if "reaction" in item:
        return _parse_reaction(basics, item["reaction"])
    if "referral" in item:
        referral = _mapping(item["referral"], "referral")
        return ReferralEvent(
            event_id=_hash_id(EventKind.REFERRAL, source, basics["page_id"], item),
            ref=_opt_str(referral.get("ref")),
            source=_opt_str(referral.get("source")),
            referral_type=_opt_str(referral.get("type")),
            ad_id=_opt_str(referral.get("ad_id")),
            referer_uri=_opt_str(referral.get("referer_uri")),
            **basics,
        )
    if "delivery" in item:
        delivery = _mapping(item["delivery"], "delivery")
        mids = delivery.get("mids") or []
        return DeliveryEvent(
            event_id=_hash_id(EventKind.DELIVERY, source, basics["page_id"], item),
            mids=tuple(str(mid) for mid in mids),
            watermark=_epoch_ms(delivery.get("watermark")) or 0,
            **basics,
        )
    if "read" in item:
        read = _mapping(item["read"], "read")
        return ReadEvent(
            event_id=_hash_id(EventKind.READ, source, basics["page_id"], item),
            watermark=_epoch_ms(read.get("watermark")) or 0,
            **basics,
        )
    for action in HandoverAction:
        if action.value in item:
            change = _mapping(item[action.value], action.value)
            return HandoverEvent(
                event_id=_hash_id(EventKind.HANDOVER, source, basics["page_id"], item),
                action=action,
                new_owner_app_id=_opt_str(change.get("new_owner_app_id")),
                previous_owner_app_id=_opt_str(change.get("previous_owner_app_id")),
                requested_owner_app_id=_opt_str(change.get("requested_owner_app_id")),
                metadata=_opt_str(change.get("metadata")),
                **basics,
            )
    known = {"sender", "recipient", "timestamp"}
    fields = ", ".join(sorted(key for key in item if key not in known)) or "nothing"
    return _unknown(source, page_id, item, entry_time, f"{source} item with {fields}")


def _mapping(value: Any, name: str) -> Mapping[str, Any]:
    """A sub-object of an item, which must be an object."""
    if not isinstance(value, Mapping):
        raise _Malformed(f"'{name}' is not an object")
    return value


def _required_str(
    container: Mapping[str, Any], key: str, name: str, max_length: int = MAX_ID_LENGTH
) -> str:
    """An id-like field that must be present, not empty and a valid id."""
    value = _opt_id(container.get(key), f"{name} '{key}'", max_length)
    if not value:
        raise _Malformed(f"{name} without '{key}'")
    return value


def _parse_attachment(attachment: Any, message_sticker_id: str | None) -> Attachment:
    """One entry of a message's `attachments`."""
    attachment = _mapping(attachment, "attachment")
    payload = attachment.get("payload")
    payload = payload if isinstance(payload, Mapping) else {}
    type_name = _opt_str(attachment.get("type")) or ""
    sticker_id = _opt_str(payload.get("sticker_id"))
    url = _opt_str(payload.get("url")) or _opt_str(attachment.get("url"))
    title = _opt_str(attachment.get("title")) or _opt_str(payload.get("title"))
    if sticker_id or (type_name == "image" and message_sticker_id):
        # A sticker arrives as an image attachment whose payload (and message) has its id.
        return Attachment(
            type=AttachmentType.STICKER, url=url, sticker_id=sticker_id or message_sticker_id
        )
    if type_name == "location":
        coordinates = payload.get("coordinates")
        coordinates = coordinates if isinstance(coordinates, Mapping) else {}
        return Attachment(
            type=AttachmentType.LOCATION,
            url=url,
            latitude=_opt_float(coordinates.get("lat")),
            longitude=_opt_float(coordinates.get("long")),
            title=title,
        )
    try:
        attachment_type = AttachmentType(type_name)
    except ValueError:
        attachment_type = AttachmentType.OTHER
    return Attachment(type=attachment_type, url=url, title=title)


def _opt_float(value: Any) -> float | None:
    """A coordinate as a finite float, or None (also for 10**400, "inf" and "nan")."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _attachments(message: Mapping[str, Any]) -> tuple[Attachment, ...]:
    """A message's attachments (a bare `sticker_id` counts as a sticker)."""
    sticker_id = _opt_str(message.get("sticker_id"))
    items = message.get("attachments") or []
    if not isinstance(items, list):
        raise _Malformed("'attachments' is not a list")
    attachments = tuple(_parse_attachment(item, sticker_id) for item in items)
    if not attachments and sticker_id:
        attachments = (Attachment(type=AttachmentType.STICKER, sticker_id=sticker_id),)
    return attachments


def _reply_to(message: Mapping[str, Any]) -> str | None:
    """The mid a message replies to, if any."""
    reply_to = message.get("reply_to")
    return _opt_str(reply_to.get("mid")) if isinstance(reply_to, Mapping) else None


def _parse_message(basics: dict[str, Any], message: Any) -> InboundEvent:
    """A `message` item: an echo, a text (or quick reply) or attachments."""
    message = _mapping(message, "message")
    mid = _required_str(message, "mid", "message")
    text = message.get("text")
    text = text if isinstance(text, str) else None
    if message.get("is_echo"):
        return EchoEvent(
            event_id=mid,
            mid=mid,
            text=text,
            app_id=_opt_str(message.get("app_id")),
            metadata=_opt_str(message.get("metadata")),
            attachments=_attachments(message),
            **{**basics, "conversation_id": basics["recipient_id"]},
        )
    attachments = _attachments(message)
    if attachments:
        return AttachmentMessageEvent(
            event_id=mid,
            mid=mid,
            attachments=attachments,
            text=text,
            reply_to_mid=_reply_to(message),
            **basics,
        )
    if text is None:
        raise _Malformed("message with neither text nor attachments")
    quick_reply = message.get("quick_reply")
    payload = _opt_str(quick_reply.get("payload")) if isinstance(quick_reply, Mapping) else None
    return TextMessageEvent(
        event_id=mid,
        mid=mid,
        text=text,
        quick_reply_payload=payload,
        reply_to_mid=_reply_to(message),
        **basics,
    )


def _parse_postback(basics: dict[str, Any], postback: Any) -> PostbackEvent:
    """A `postback` item; without a `mid` its id hashes sender, time and payload."""
    postback = _mapping(postback, "postback")
    payload = _opt_str(postback.get("payload"))
    if payload is None:
        raise _Malformed("postback without 'payload'")
    mid = _opt_id(postback.get("mid"), "postback mid")
    if mid:
        event_id = mid
    else:
        key = f"{basics['sender_id']}\n{basics['timestamp']}\n{payload}"
        event_id = "postback:" + hashlib.sha256(key.encode("utf-8")).hexdigest()
    referral = postback.get("referral")
    return PostbackEvent(
        event_id=event_id,
        title=_opt_str(postback.get("title")),
        payload=payload,
        mid=mid,
        referral_ref=_opt_str(referral.get("ref")) if isinstance(referral, Mapping) else None,
        **basics,
    )


def _parse_reaction(basics: dict[str, Any], reaction: Any) -> ReactionEvent:
    """A `reaction` item.

    The `mid` is the message reacted to, which is also the id of that message's own event
    (often the echo of the page's message), so the event id adds the action and the time:
    ``reaction:<action>:<mid>:<timestamp>``. A re-delivery keeps all three; reacting again
    later does not collide.
    """
    reaction = _mapping(reaction, "reaction")
    mid = _required_str(reaction, "mid", "reaction")
    action = _opt_id(reaction.get("action"), "reaction action", _MAX_VERB_LENGTH) or "react"
    return ReactionEvent(
        event_id=f"reaction:{action}:{mid}:{basics['timestamp']}",
        action=action,
        reaction=_opt_str(reaction.get("reaction")),
        emoji=_opt_str(reaction.get("emoji")),
        mid=mid,
        **basics,
    )


def _parse_standby(page_id: str, item: dict[str, Any], entry_time: int | None) -> StandbyEvent:
    """A `standby` item: the content is parsed as a messaging item and wrapped."""
    basics = _messaging_basics(page_id, item, entry_time)
    inner = _parse_messaging("standby", page_id, item, entry_time)
    return StandbyEvent(
        event_id=_hash_id(EventKind.STANDBY, "standby", basics["page_id"], item),
        inner=inner,
        **{**basics, "conversation_id": inner.conversation_id},
    )


def _parse_change(page_id: str, item: dict[str, Any], entry_time: int | None) -> InboundEvent:
    """A `changes` item: a feed comment, or an `UnknownEvent`."""
    field_name = item.get("field")
    value = item.get("value")
    if field_name != "feed":
        return _unknown("changes", page_id, item, entry_time, f"changes field {field_name!r}")
    value = _mapping(value, "value")
    feed_item = value.get("item")
    if feed_item != "comment":
        return _unknown("changes", page_id, item, entry_time, f"feed item {feed_item!r}")
    comment_id = _required_str(value, "comment_id", "comment")
    verb = _required_str(value, "verb", "comment", _MAX_VERB_LENGTH)
    sender = value.get("from")
    sender = sender if isinstance(sender, Mapping) else {}
    from_id = _opt_str(sender.get("id"))
    message = value.get("message")
    return CommentEvent(
        event_id=f"{comment_id}:{verb}",
        page_id=page_id,
        conversation_id=f"comment:{comment_id}",
        timestamp=_epoch_ms(value.get("created_time")) or entry_time or 0,
        raw=item,
        verb=verb,
        comment_id=comment_id,
        post_id=_opt_str(value.get("post_id")),
        parent_id=_opt_str(value.get("parent_id")),
        from_id=from_id,
        from_name=_opt_str(sender.get("name")),
        message=message if isinstance(message, str) else None,
        from_page=bool(from_id) and from_id == page_id,
    )
