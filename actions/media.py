"""What the bot does when the customer shares media: a photo, a video, audio, a location.

A photo or video that follows a message about damage goes straight to a person (they need to
see it, the bot cannot); otherwise the bot asks what it is about. Voice messages get a
polite request to type; locations and stickers get a short answer. While a person owns the
conversation the pause policy stores the media on the ticket instead (this action does not
run then).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions import conversation
from actions.handoff_flow import GuardedAction, hand_off
from bot.handoff.reasons import HandoffReason

DAMAGE_WORDS = frozenset(
    {"damaged", "broken", "torn", "ripped", "crushed", "defective", "faulty", "scratched",
     "stained", "wrong", "missing"}
)
"""Words in the customer's recent messages that make a photo look like evidence of damage."""

_RESPONSES = {
    "image": "utter_ask_about_image",
    "video": "utter_ask_about_video",
    "file": "utter_ask_about_file",
    "link": "utter_ask_about_link",
    "audio": "utter_cannot_listen",
    "location": "utter_location_received",
    "sticker": "utter_sticker_reply",
}


def follows_damage_report(tracker: Tracker, last: int = 3) -> bool:
    """Whether one of the customer's previous few messages was about damage or a complaint."""
    previous = conversation.user_events(tracker)[:-1][-last:]
    for event in previous:
        intent, confidence = conversation.intent_of(event)
        words = set((event.get("text") or "").casefold().replace("!", " ").split())
        if (intent == "complaint" and confidence >= 0.5) or words & DAMAGE_WORDS:
            return True
    return False


class ActionMediaReceived(GuardedAction):
    """Answers shared media by its type; a photo of damage goes to a person."""

    def name(self) -> str:
        """Rasa name."""
        return "action_media_received"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        """Picks the answer for the media type in the message (none: the customer announced it)."""
        media_type = next(tracker.get_latest_entity_values("media_type"), None)
        if media_type in ("image", "video") and follows_damage_report(tracker):
            return await hand_off(dispatcher, tracker, HandoffReason.COMPLAINT)
        dispatcher.utter_message(response=_RESPONSES.get(media_type or "", "utter_ask_send_media"))
        return []
