"""What the page does with a public comment under one of its posts.

The rules (DESIGN.md, from the articles): a question or a complaint gets one short public
reply with no personal or order data, and a private reply that opens the conversation in
Messenger; a comment that itself shows personal data (an e-mail, a phone number, an order
number) is answered the same way and flagged for a person; praise gets a varied thank-you,
never a sales message; abusive or hateful comments are never answered by the bot and become
top-priority tickets; negative comments are never hidden or deleted; the page's own comments
are ignored (the inbox never hands them out).
"""

from __future__ import annotations

import re
from enum import Enum

from bot.handoff.first_names import first_name_or_none
from bot.handoff.reasons import looks_abusive
from bot.handoff.redaction import contains_personal_data
from bot.messenger.event_types import CommentEvent

QUESTION_INTENTS = frozenset(
    {
        "order_status", "shipping_info", "returns_info", "refund_status", "cancel_order",
        "change_address", "payment_issue", "complaint", "human_request", "bot_challenge",
        "inform", "delivery_problem", "faq_size_fit", "faq_care", "faq_materials",
        "faq_availability", "faq_prices", "faq_gift_cards", "faq_stores",
        "faq_payment_methods", "faq_invoices",
    }
)
"""Intents that make a comment a question or a complaint for the page to answer."""

PRAISE_INTENTS = frozenset({"thanks", "affirm"})
"""Intents that make a comment praise."""

MIN_CONFIDENCE = 0.5
"""Below this NLU confidence a comment counts as a question only when it asks one ("?")."""

_ORDER_NUMBER = re.compile(r"(?<!\d)\d{5,8}(?!\d)")


class CommentAction(str, Enum):
    """What to do with a comment."""

    IGNORE = "ignore"
    THANK = "thank"
    ANSWER = "answer"
    ANSWER_AND_FLAG = "answer_and_flag"
    ESCALATE = "escalate"


def shows_personal_data(text: str) -> bool:
    """Whether a public text shows an e-mail, phone, card, IBAN, address or order number."""
    return contains_personal_data(text) or bool(_ORDER_NUMBER.search(text))


def decide(comment: CommentEvent, intent: str | None, confidence: float) -> CommentAction:
    """The page's action for a comment, given the NLU's reading of its text.

    Args:
        comment: the comment event.
        intent: the intent Rasa's NLU gave the comment's text (None when not parsed).
        confidence: that intent's confidence.
    """
    text = (comment.message or "").strip()
    if comment.from_page or comment.verb != "add" or not text:
        return CommentAction.IGNORE
    if looks_abusive(text) or (intent == "abuse" and confidence >= MIN_CONFIDENCE):
        return CommentAction.ESCALATE
    asks = "?" in text
    is_question = asks or (intent in QUESTION_INTENTS and confidence >= MIN_CONFIDENCE)
    if shows_personal_data(text):
        return CommentAction.ANSWER_AND_FLAG
    if is_question:
        return CommentAction.ANSWER
    if intent in PRAISE_INTENTS and confidence >= MIN_CONFIDENCE:
        return CommentAction.THANK
    return CommentAction.IGNORE


def first_name(comment: CommentEvent) -> str | None:
    """The commenter's first name from the public display name, when it looks like one.

    A display name that is an e-mail address, a phone number, a shop's name or anything
    else `first_name_or_none` refuses gives None: the public reply then greets no one by
    name rather than repeating it.
    """
    return first_name_or_none(comment.from_name)
