"""The language each stored customer message was answered in, replayed from Rasa's events."""

from __future__ import annotations

import json

from bot.store.language_events import LANGUAGE_EVENT_TYPES, LanguageReplay


def _slot(name: str, value: object) -> str:
    return json.dumps({"event": "slot", "name": name, "value": value})


def test_the_slot_of_a_messages_own_turn_else_the_one_before():
    replay = LanguageReplay()
    for row in [
        (1, "a", "user", None),
        (2, "a", "slot", _slot("language", "en")),  # set in the message's turn
        (3, "a", "slot", _slot("language_settled", True)),
        (4, "a", "bot", None),
        (5, "a", "user", None),  # no slot event: the one before holds
        (6, "a", "bot", None),
        (7, "a", "session_started", None),
        (8, "a", "slot", _slot("language", "it")),  # the new session's, not message 5's
        (9, "a", "user", None),
        (10, "b", "user", None),  # never set: the initial value
        (11, "a", "restart", None),
        (12, "a", "user", None),  # back to the initial value
        (13, "a", "slot", "not json"),
    ]:
        replay.see(*row)
    assert replay.languages == {1: "en", 5: "en", 9: "it", 10: None, 12: None}


def test_what_the_readers_must_select():
    assert set(LANGUAGE_EVENT_TYPES) == {"slot", "bot", "session_started", "restart",
                                          "reset_slots"}
