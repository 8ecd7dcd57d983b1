"""What the bot does with each intent it reads: the behaviour a customer sees.

Five behaviours a right reading can call for, and one the bot falls back to:

- ``answer``: the bot answers a topic from the brand's facts (shipping, returns, refunds, the
  product FAQ);
- ``order``: the order-status flow (ask for the order number and proof, look the order up);
- ``person``: a handoff ticket for the morning team (complaints, payment trouble, a delivery
  problem, a customer asking for a person, ...);
- ``smalltalk``: greetings, thanks, yes/no, "are you a bot?";
- ``scope``: the honest "that is not something I can help with", offering a person;
- ``ask``: the bot is not sure (``nlu_fallback``, or an intent it does not know) and asks the
  customer which topic they mean, offering a person.

A wrong confident answer is the failure that matters most at night: the bot gives a
substantive answer (``answer`` or ``order``) to a different question than the one asked, and
nobody is there to correct it. A handoff or a question back is never one.

Pure: no Rasa import, so the trainer's gate, the bench and unit tests share it.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Final

ANSWER: Final = "answer"
ORDER: Final = "order"
PERSON: Final = "person"
SMALLTALK: Final = "smalltalk"
SCOPE: Final = "scope"
ASK: Final = "ask"

EXPECTED_BEHAVIOURS: Final = (ANSWER, ORDER, PERSON, SCOPE, SMALLTALK)
"""The behaviours a message can be labelled with (``ask`` is the bot's, never a label)."""

SUBSTANTIVE: Final = frozenset({ANSWER, ORDER})
"""Behaviours in which the bot commits to a reading and gives content."""

FALLBACK_INTENT: Final = "nlu_fallback"
OUT_OF_SCOPE_INTENT: Final = "out_of_scope"

_GROUPS: dict[str, tuple[str, ...]] = {
    ANSWER: (
        "shipping_info", "returns_info", "refund_status",
        "faq_size_fit", "faq_care", "faq_materials", "faq_availability", "faq_prices",
        "faq_gift_cards", "faq_stores", "faq_payment_methods", "faq_invoices",
    ),
    ORDER: ("order_status", "inform"),
    PERSON: (
        "human_request", "complaint", "abuse", "payment_issue", "cancel_order",
        "change_address", "delivery_problem",
    ),
    SMALLTALK: ("greet", "goodbye", "thanks", "affirm", "deny", "bot_challenge"),
    SCOPE: (OUT_OF_SCOPE_INTENT,),
    # a photo or voice note announced in words: the bot asks what it is about
    ASK: (FALLBACK_INTENT, "share_media"),
}

BEHAVIOURS: Final = MappingProxyType(
    {intent: behaviour for behaviour, intents in _GROUPS.items() for intent in intents}
)
"""Intent name -> behaviour, for every intent the bot knows (and ``nlu_fallback``)."""

LABEL_INTENTS: Final = frozenset(
    intent for intent, behaviour in BEHAVIOURS.items() if behaviour in
    (ANSWER, ORDER, PERSON, SMALLTALK)
)
"""The intents an evaluation message may be labelled with (scope messages carry none)."""


def behaviour_of(intent: str | None) -> str:
    """The behaviour the bot shows for `intent`; an unknown or missing intent is ``ask``."""
    if not intent:
        return ASK
    return BEHAVIOURS.get(intent, ASK)


def is_wrong_confident_answer(
    expected_behaviour: str, expected_intent: str | None, predicted_intent: str | None
) -> bool:
    """Whether the bot would answer, with content, something other than what was asked.

    True when the predicted intent leads to a substantive behaviour (``answer`` or ``order``)
    and the message called for another one: a different intent, or the message was scope,
    person or smalltalk. Within the order flow, ``order_status`` and ``inform`` both start the
    same flow, so one read as the other is not a wrong answer. A handoff, a scope statement,
    smalltalk or a question back (``ask``) is never a wrong confident answer.
    """
    predicted = behaviour_of(predicted_intent)
    if predicted not in SUBSTANTIVE:
        return False
    if expected_behaviour != predicted:
        return True
    if predicted == ORDER:
        return False
    return predicted_intent != expected_intent
