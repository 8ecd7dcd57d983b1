from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.messenger.window import HUMAN_AGENT_TAG, MessagingWindow

NOW = datetime(2026, 11, 22, 22, 10, tzinfo=timezone.utc)
WINDOW = MessagingWindow()


def _decide(age: timedelta, sender: str):
    return WINDOW.decide(NOW - age, NOW, sender)


@pytest.mark.parametrize(
    ("age", "outcome"),
    [
        (timedelta(hours=23, minutes=59), "send"),
        (timedelta(hours=24, minutes=1), "undeliverable"),
        (timedelta(days=6, hours=23), "undeliverable"),
        (timedelta(days=7, hours=1), "undeliverable"),
    ],
)
def test_bot_messages_only_within_24_hours_and_never_tagged(age, outcome):
    decision = _decide(age, "bot")
    assert decision.outcome == outcome
    assert decision.allowed is (outcome == "send")
    assert decision.undeliverable is (outcome == "undeliverable")
    assert decision.tag is None and decision.messaging_type == "RESPONSE"
    if outcome == "undeliverable":
        assert "24-hour window" in decision.reason


@pytest.mark.parametrize(
    ("age", "outcome", "tag"),
    [
        (timedelta(hours=23, minutes=59), "send", None),
        (timedelta(hours=24, minutes=1), "send", HUMAN_AGENT_TAG),
        (timedelta(days=6, hours=23), "send", HUMAN_AGENT_TAG),
        (timedelta(days=7, hours=1), "refused", None),
    ],
)
def test_agent_messages_need_the_human_agent_tag_after_24_hours_and_stop_at_7_days(
    age, outcome, tag
):
    decision = _decide(age, "agent")
    assert (decision.outcome, decision.tag) == (outcome, tag)
    assert decision.messaging_type == ("MESSAGE_TAG" if tag else "RESPONSE")
    assert decision.undeliverable is False


def test_refusal_gives_a_clear_reason():
    decision = _decide(timedelta(days=7, hours=1), "agent")
    assert not decision.allowed
    assert "more than 7 days" in decision.reason and "7 days 1 hour ago" in decision.reason


def test_a_bot_message_is_never_tagged_at_any_age():
    for hours in range(0, 24 * 9, 7):
        assert _decide(timedelta(hours=hours), "bot").tag is None


def test_windows_end_exactly_at_24_hours_and_7_days():
    assert _decide(timedelta(hours=24), "bot").undeliverable
    assert _decide(timedelta(hours=24), "agent").tag == HUMAN_AGENT_TAG
    assert _decide(timedelta(days=7), "agent").outcome == "refused"


def test_naive_datetimes_are_read_as_utc_and_future_messages_count_as_now():
    naive_now = NOW.replace(tzinfo=None)
    assert WINDOW.decide(naive_now - timedelta(hours=2), NOW, "bot").allowed
    assert WINDOW.decide(NOW + timedelta(minutes=3), naive_now, "bot").allowed


def test_unknown_sender_is_an_error():
    with pytest.raises(ValueError):
        WINDOW.decide(NOW, NOW, "customer")  # type: ignore[arg-type]


def test_custom_windows():
    window = MessagingWindow(timedelta(hours=1), timedelta(hours=2))
    assert window.decide(NOW - timedelta(minutes=90), NOW, "agent").tag == HUMAN_AGENT_TAG
    assert window.decide(NOW - timedelta(minutes=150), NOW, "agent").outcome == "refused"
    with pytest.raises(ValueError):
        MessagingWindow(timedelta(days=2), timedelta(days=1))
