"""Webhook signatures and the parsing of Meta page webhooks into typed events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.messenger.event_types import (
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
from bot.messenger.events import WebhookFormatError, parse_webhook, restore_event
from bot.messenger.signature import sign, verify_signature

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "messenger"
ALL_FIXTURES = sorted(path.stem for path in FIXTURES.glob("*.json"))
PAGE = "104852338912345"
ANNA = "6912345678901234"
SECRET = "f3c1d2a9b8e7f6a5d4c3b2a190817263"


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def raw_bytes(name: str) -> bytes:
    return (FIXTURES / f"{name}.json").read_bytes()


def parse(name: str) -> list[InboundEvent]:
    return parse_webhook(load(name))


def only(name: str) -> InboundEvent:
    events = parse(name)
    assert len(events) == 1
    return events[0]


# --- signatures -------------------------------------------------------------------------


def test_sign_has_metas_format() -> None:
    header = sign(SECRET, b"{}")
    assert header.startswith("sha256=")
    assert len(header) == len("sha256=") + 64
    assert header == header.lower()


def test_valid_signature_of_a_fixture_body() -> None:
    body = raw_bytes("dm_text")
    assert verify_signature(SECRET, body, sign(SECRET, body))


def test_known_digest() -> None:
    # HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog"), a published vector.
    header = "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    assert verify_signature("key", b"The quick brown fox jumps over the lazy dog", header)


def test_uppercase_hex_and_surrounding_spaces_are_accepted() -> None:
    body = raw_bytes("dm_text")
    digest = sign(SECRET, body).removeprefix("sha256=")
    assert verify_signature(SECRET, body, f"  sha256={digest.upper()} ")


@pytest.mark.parametrize(
    "change",
    ["wrong secret", "tampered body", "re-serialized body"],
)
def test_invalid_signature(change: str) -> None:
    body = raw_bytes("dm_text")
    header = sign(SECRET, body)
    if change == "wrong secret":
        header = sign("another-secret", body)
    elif change == "tampered body":
        body = body.replace(b"arrived", b"ARRIVED")
    else:
        body = json.dumps(json.loads(body)).encode()
    assert not verify_signature(SECRET, body, header)


@pytest.mark.parametrize("header", [None, "", "   "])
def test_missing_signature(header: str | None) -> None:
    assert not verify_signature(SECRET, raw_bytes("dm_text"), header)


@pytest.mark.parametrize(
    "header",
    [
        "sha1=0123456789abcdef0123456789abcdef01234567",
        "sha256",
        "sha256=",
        "sha256=abc123",
        "sha256=" + "zz" * 32,
        "sha256=" + "é" * 64,
        "sha256=" + "0" * 65,
        "0" * 64,
        "sha256:" + "0" * 64,
    ],
)
def test_malformed_signature(header: str) -> None:
    assert not verify_signature(SECRET, raw_bytes("dm_text"), header)


def test_sha1_header_of_the_right_body_is_refused() -> None:
    import hashlib
    import hmac

    body = raw_bytes("dm_text")
    sha1 = hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
    assert not verify_signature(SECRET, body, f"sha1={sha1}")


def test_empty_secret_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="app secret"):
        verify_signature("", b"{}", sign(SECRET, b"{}"))
    with pytest.raises(ValueError):
        sign("", b"{}")


# --- body format ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"object": "instagram", "entry": []}, "instagram"),
        ({"object": "user", "entry": []}, "only 'page'"),
        ({"entry": []}, "None"),
        ({"object": "page"}, "'entry' must be a list"),
        ({"object": "page", "entry": {"id": PAGE}}, "'entry' must be a list"),
        ([], "JSON object"),
    ],
)
def test_not_a_page_webhook(body: Any, message: str) -> None:
    with pytest.raises(WebhookFormatError, match=message) as raised:
        parse_webhook(body)
    assert isinstance(raised.value, ValueError)


def test_empty_entry_list_is_no_events() -> None:
    assert parse_webhook({"object": "page", "entry": []}) == []


# --- every fixture ----------------------------------------------------------------------


def test_dm_text() -> None:
    event = only("dm_text")
    assert isinstance(event, TextMessageEvent)
    assert event.kind is EventKind.TEXT
    assert event.kind == "text"
    assert event.event_id == event.mid
    assert event.mid.startswith("m_")
    assert event.page_id == PAGE
    assert event.conversation_id == ANNA == event.sender_id
    assert event.recipient_id == PAGE
    assert event.timestamp == 1763849400000
    assert event.text == "Hi, my order hasn't arrived yet"
    assert event.quick_reply_payload is None
    assert not event.is_quick_reply
    assert event.raw == load("dm_text")["entry"][0]["messaging"][0]


def test_quick_reply() -> None:
    event = only("quick_reply")
    assert isinstance(event, TextMessageEvent)
    assert event.is_quick_reply
    assert event.quick_reply_payload == "TRACK_ORDER"
    assert event.text == "Track my order"


def test_get_started_postback() -> None:
    event = only("postback_get_started")
    assert isinstance(event, PostbackEvent)
    assert event.kind is EventKind.POSTBACK
    assert event.is_get_started
    assert event.title == "Get Started"
    assert event.payload == "GET_STARTED"
    assert event.event_id == event.mid
    assert event.conversation_id == ANNA


def test_postback_without_mid_gets_a_stable_hashed_id() -> None:
    body = load("postback_get_started")
    del body["entry"][0]["messaging"][0]["postback"]["mid"]
    first = parse_webhook(body)[0]
    again = parse_webhook(json.loads(json.dumps(body)))[0]
    assert isinstance(first, PostbackEvent)
    assert first.mid is None
    assert first.event_id.startswith("postback:")
    assert first.event_id == again.event_id
    body["entry"][0]["messaging"][0]["postback"]["payload"] = "TALK_TO_PERSON"
    other = parse_webhook(body)[0]
    assert other.event_id != first.event_id
    assert not other.is_get_started


def test_postback_with_referral_ref() -> None:
    body = load("postback_get_started")
    body["entry"][0]["messaging"][0]["postback"]["referral"] = {
        "ref": "boots-ad",
        "source": "SHORTLINK",
        "type": "OPEN_THREAD",
    }
    event = parse_webhook(body)[0]
    assert isinstance(event, PostbackEvent)
    assert event.referral_ref == "boots-ad"


def test_image_attachment() -> None:
    event = only("attachment_image")
    assert isinstance(event, AttachmentMessageEvent)
    assert event.kind is EventKind.ATTACHMENT
    assert event.attachment_types == (AttachmentType.IMAGE,)
    assert event.attachments[0].url.startswith("https://scontent.xx.fbcdn.net/")
    assert event.text is None
    assert event.event_id == event.mid


def test_audio_attachment() -> None:
    event = only("attachment_audio")
    assert isinstance(event, AttachmentMessageEvent)
    assert event.attachment_types == (AttachmentType.AUDIO,)
    assert event.conversation_id == "7023456789012345"


def test_sticker_attachment() -> None:
    event = only("attachment_sticker")
    assert isinstance(event, AttachmentMessageEvent)
    assert event.attachment_types == (AttachmentType.STICKER,)
    assert event.attachments[0].sticker_id == "369239263222822"
    assert event.attachments[0].url is not None


def test_bare_sticker_id_is_a_sticker() -> None:
    body = load("attachment_sticker")
    del body["entry"][0]["messaging"][0]["message"]["attachments"]
    event = parse_webhook(body)[0]
    assert isinstance(event, AttachmentMessageEvent)
    assert event.attachment_types == (AttachmentType.STICKER,)


def test_location_attachment() -> None:
    event = only("attachment_location")
    assert isinstance(event, AttachmentMessageEvent)
    (location,) = event.attachments
    assert location.type is AttachmentType.LOCATION
    assert location.latitude == pytest.approx(45.464211)
    assert location.longitude == pytest.approx(9.191383)
    assert location.title == "Sara's Location"


def test_video_file_and_fallback_attachments() -> None:
    media, link = parse("attachment_video_file_fallback")
    assert isinstance(media, AttachmentMessageEvent)
    assert media.attachment_types == (AttachmentType.VIDEO, AttachmentType.FILE)
    assert isinstance(link, AttachmentMessageEvent)
    assert link.attachment_types == (AttachmentType.FALLBACK,)
    assert link.attachments[0].title == "Alpine Chelsea Boot"
    assert link.attachments[0].url.startswith("https://l.facebook.com/")
    assert link.text == "https://www.example-boots.com/products/alpine-chelsea"


def test_unknown_attachment_type_is_other() -> None:
    body = load("attachment_image")
    body["entry"][0]["messaging"][0]["message"]["attachments"][0]["type"] = "ig_reel"
    event = parse_webhook(body)[0]
    assert isinstance(event, AttachmentMessageEvent)
    assert event.attachment_types == (AttachmentType.OTHER,)


def test_reaction() -> None:
    event = only("reaction")
    assert isinstance(event, ReactionEvent)
    assert event.kind is EventKind.REACTION
    assert event.action == "react"
    assert event.reaction == "love"
    assert event.emoji == "\u2764\ufe0f"
    echo = only("echo")
    # The reaction is on the page's message: same mid, yet not the same inbox key.
    assert event.mid == echo.event_id
    assert event.event_id != echo.event_id
    assert event.event_id == f"reaction:react:{event.mid}:{event.timestamp}"


def test_unreact_is_a_different_event() -> None:
    body = load("reaction")
    item = body["entry"][0]["messaging"][0]
    item["reaction"] = {"action": "unreact", "mid": item["reaction"]["mid"]}
    item["timestamp"] += 5000
    event = parse_webhook(body)[0]
    assert isinstance(event, ReactionEvent)
    assert event.action == "unreact"
    assert event.emoji is None
    assert event.event_id != only("reaction").event_id


def test_referral() -> None:
    event = only("referral")
    assert isinstance(event, ReferralEvent)
    assert event.kind is EventKind.REFERRAL
    assert (event.ref, event.source, event.referral_type) == (
        "autumn-sale",
        "SHORTLINK",
        "OPEN_THREAD",
    )
    assert event.event_id.startswith("referral:")


def test_echo_belongs_to_the_customer_conversation() -> None:
    event = only("echo")
    assert isinstance(event, EchoEvent)
    assert event.kind is EventKind.ECHO
    assert event.sender_id == PAGE
    assert event.recipient_id == ANNA
    assert event.conversation_id == ANNA
    assert event.page_id == PAGE
    assert event.event_id == event.mid
    assert event.app_id == "1517776481860111"
    assert event.metadata == "nightdesk"
    assert event.text.startswith("Thanks Anna")


def test_delivery_without_timestamp_takes_the_entry_time() -> None:
    event = only("delivery")
    assert isinstance(event, DeliveryEvent)
    assert event.kind is EventKind.DELIVERY
    assert event.timestamp == load("delivery")["entry"][0]["time"]
    assert event.watermark == 1763849411500
    assert len(event.mids) == 1
    assert event.event_id.startswith("delivery:")
    assert event.conversation_id == ANNA


def test_read() -> None:
    event = only("read")
    assert isinstance(event, ReadEvent)
    assert event.kind is EventKind.READ
    assert event.watermark == 1763849411500
    assert event.event_id.startswith("read:")


def test_batch_of_three_entries_with_two_items_each() -> None:
    events = parse("batch_3x2")
    assert len(events) == 6
    assert all(isinstance(event, TextMessageEvent) for event in events)
    assert [event.conversation_id for event in events] == [
        ANNA,
        ANNA,
        "7023456789012345",
        "7023456789012345",
        "7134567890123456",
        "7134567890123456",
    ]
    assert len({event.event_id for event in events}) == 6
    assert [event.text for event in events][:2] == ["Hello", "Is anyone there?"]


def test_standby() -> None:
    text, agent_echo, read = parse("standby")
    for event in (text, agent_echo, read):
        assert isinstance(event, StandbyEvent)
        assert event.kind is EventKind.STANDBY
        assert event.conversation_id == ANNA
        assert event.event_id.startswith("standby:")
    assert isinstance(text.inner, TextMessageEvent)
    assert text.inner.text == "Are you a real person?"
    # The standby id is not the message's mid, so it never collides with a messaging event.
    assert text.event_id != text.inner.event_id
    assert isinstance(agent_echo.inner, EchoEvent)
    assert agent_echo.inner.app_id == "263902037430900"
    assert isinstance(read.inner, ReadEvent)


def test_pass_thread_control() -> None:
    event = only("handover_pass")
    assert isinstance(event, HandoverEvent)
    assert event.kind is EventKind.HANDOVER
    assert event.action is HandoverAction.PASS
    assert event.new_owner_app_id == "263902037430900"
    assert event.previous_owner_app_id == "1517776481860111"
    assert event.metadata == "handoff:damaged_item"
    assert event.conversation_id == ANNA


def test_take_thread_control() -> None:
    event = only("handover_take")
    assert isinstance(event, HandoverEvent)
    assert event.action is HandoverAction.TAKE
    assert event.previous_owner_app_id == "1517776481860111"
    assert event.new_owner_app_id == "263902037430900"


def test_request_thread_control() -> None:
    body = load("handover_take")
    item = body["entry"][0]["messaging"][0]
    del item["take_thread_control"]
    item["request_thread_control"] = {"requested_owner_app_id": "1517776481860111"}
    event = parse_webhook(body)[0]
    assert isinstance(event, HandoverEvent)
    assert event.action is HandoverAction.REQUEST
    assert event.requested_owner_app_id == "1517776481860111"


def test_customer_comment() -> None:
    event = only("comment_customer")
    assert isinstance(event, CommentEvent)
    assert event.kind is EventKind.COMMENT
    assert event.verb == "add"
    assert event.comment_id == "912345678901234_1234567890123456"
    assert event.event_id == "912345678901234_1234567890123456:add"
    assert event.conversation_id == "comment:912345678901234_1234567890123456"
    assert event.post_id == event.parent_id == f"{PAGE}_912345678901234"
    assert not event.is_reply
    assert event.from_id == "8245678901234567"
    assert event.from_name == "Anna Rossi"
    assert event.message.startswith("Ordered two weeks ago")
    assert not event.from_page
    # Feed webhooks count in seconds; events in milliseconds.
    assert event.timestamp == 1763849460000
    assert event.page_id == PAGE


def test_comment_by_the_page() -> None:
    event = only("comment_by_page")
    assert isinstance(event, CommentEvent)
    assert event.from_page
    assert event.is_reply
    assert event.parent_id == "912345678901234_1234567890123456"


@pytest.mark.parametrize("verb", ["edited", "remove"])
def test_comment_edit_and_removal_are_separate_events(verb: str) -> None:
    body = load("comment_customer")
    value = body["entry"][0]["changes"][0]["value"]
    value["verb"] = verb
    if verb == "remove":
        del value["message"]
    event = parse_webhook(body)[0]
    assert isinstance(event, CommentEvent)
    assert event.verb == verb
    assert event.event_id == f"912345678901234_1234567890123456:{verb}"
    assert event.conversation_id == only("comment_customer").conversation_id


def test_unknown_fields_are_kept_not_errors() -> None:
    optin, rating, like = parse("unknown_fields")
    for event in (optin, rating, like):
        assert isinstance(event, UnknownEvent)
        assert event.kind is EventKind.UNKNOWN
        assert event.event_id.startswith("unknown:")
        assert event.page_id == PAGE
    assert optin.source == "messaging"
    assert "optin" in optin.reason
    assert optin.conversation_id == "7134567890123456"
    assert optin.raw["optin"]["ref"] == "newsletter"
    assert rating.source == "changes"
    assert "ratings" in rating.reason
    assert rating.raw["field"] == "ratings"
    assert "reaction" in like.reason


@pytest.mark.parametrize(
    ("entry", "source"),
    [
        (
            {"id": PAGE, "time": 1, "messaging": [{"recipient": {"id": PAGE}, "message": {}}]},
            "messaging",
        ),
        (
            {"id": PAGE, "messaging": [{"sender": {"id": ANNA}, "message": {"text": "no mid"}}]},
            "messaging",
        ),
        (
            {"id": PAGE, "messaging": [{"sender": {"id": ANNA}, "message": {"mid": "m_1"}}]},
            "messaging",
        ),
        ({"id": PAGE, "messaging": [{"sender": {"id": ANNA}, "message": "text"}]}, "messaging"),
        (
            {"id": PAGE, "messaging": [{"sender": {"id": ANNA}, "postback": {"title": "x"}}]},
            "messaging",
        ),
        (
            {"id": PAGE, "messaging": [{"sender": {"id": ANNA}, "reaction": {"action": "react"}}]},
            "messaging",
        ),
        ({"id": PAGE, "messaging": ["not an object"]}, "messaging"),
        ({"id": PAGE, "messaging": {"sender": {"id": ANNA}}}, "messaging"),
        ({"id": PAGE, "standby": [{"timestamp": 5}]}, "standby"),
        ({"id": PAGE, "changes": [{"field": "feed", "value": "oops"}]}, "changes"),
        ({"id": PAGE, "changes": [{"field": "feed", "value": {"item": "comment"}}]}, "changes"),
        ({"id": PAGE, "time": 1}, "entry"),
        ("not an entry", "entry"),
    ],
)
def test_malformed_items_become_unknown_events(entry: Any, source: str) -> None:
    (event,) = parse_webhook({"object": "page", "entry": [entry]})
    assert isinstance(event, UnknownEvent)
    assert event.source == source
    assert event.reason
    again = parse_webhook({"object": "page", "entry": [json.loads(json.dumps(entry))]})
    assert again[0].event_id == event.event_id


def test_one_bad_item_does_not_lose_the_others() -> None:
    body = load("batch_3x2")
    body["entry"][1]["messaging"].insert(1, {"sender": {"id": ANNA}, "message": 42})
    events = parse_webhook(body)
    assert [event.kind for event in events].count(EventKind.TEXT) == 6
    assert [event.kind for event in events].count(EventKind.UNKNOWN) == 1


# --- stability --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_ids_are_stable_across_re_parsing(name: str) -> None:
    first = parse_webhook(load(name))
    second = parse_webhook(json.loads(raw_bytes(name)))
    assert first == second
    assert [event.event_id for event in first] == [event.event_id for event in second]
    assert all(event.event_id and len(event.event_id) <= 200 for event in first)
    assert all(isinstance(event.timestamp, int) and event.timestamp > 0 for event in first)
    assert all(hash(event) == hash(again) for event, again in zip(first, second, strict=True))


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_events_are_frozen(name: str) -> None:
    event = parse(name)[0]
    with pytest.raises(AttributeError):
        event.event_id = "changed"  # type: ignore[misc]


def test_every_fixture_event_id_is_unique() -> None:
    ids = [event.event_id for name in ALL_FIXTURES for event in parse(name)]
    assert len(ids) == len(set(ids))


def test_fixtures_cover_every_kind() -> None:
    kinds = {event.kind for name in ALL_FIXTURES for event in parse(name)}
    assert kinds == set(EventKind)


@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_restore_event_rebuilds_the_parsed_event(name: str) -> None:
    for event in parse(name):
        stored = json.loads(json.dumps(event.raw))
        restored = restore_event(
            event_id=event.event_id,
            kind=event.kind.value,
            page_id=event.page_id,
            conversation_id=event.conversation_id,
            timestamp=event.timestamp,
            raw=stored,
        )
        assert restored.kind is event.kind
        assert restored.event_id == event.event_id
        if event.kind is not EventKind.UNKNOWN:
            assert restored == event
