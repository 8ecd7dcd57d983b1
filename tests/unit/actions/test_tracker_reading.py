"""Reading a Rasa SDK tracker for the handoff packet (actions.conversation)."""

from __future__ import annotations

from rasa_sdk import Tracker

from actions import conversation


def tracker(events: list[dict]) -> Tracker:
    return Tracker("c1", {}, {}, events, False, None, {}, "action_listen")


def user(text: str, intent: str, confidence: float, at: float) -> dict:
    return {"event": "user", "text": text, "timestamp": at,
            "parse_data": {"intent": {"name": intent, "confidence": confidence}}}


def bot(text: str, response: str | None, at: float) -> dict:
    metadata = {"utter_action": response} if response else {}
    return {"event": "bot", "text": text, "timestamp": at, "metadata": metadata}


def test_the_status_the_bot_told_is_its_last_status_answer():
    events = [
        user("where is 10023?", "order_status", 0.97, 1.0),
        bot("Order 10023 is being prepared.", "utter_order_processing", 2.0),
        user("and now?", "order_status", 0.91, 3.0),
        bot("Order 10023 has shipped with BRT.", "utter_order_shipped", 4.0),
        bot("Track it here", "utter_order_card", 4.1),  # the card is not a status
        user("I want a person", "human_request", 0.99, 5.0),
        bot("Of course.", None, 6.0),
    ]
    seen = tracker(events)
    assert conversation.status_told(events) == "Order 10023 has shipped with BRT."
    assert conversation.intents_seen(seen, last=2) == [("order_status", 0.91),
                                                       ("human_request", 0.99)]


def test_no_status_answer_no_status_told():
    events = [user("hi", "greet", 0.99, 1.0), bot("Hi!", "utter_greet", 2.0)]
    assert conversation.status_told(events) is None
