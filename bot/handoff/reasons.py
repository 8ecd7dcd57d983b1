"""When the bot hands a conversation to a person, and how urgent that is.

A person must act on some requests (cancel, change an address, payment trouble, a parcel
that never came, arrived damaged or with the wrong or a missing item), some
moments call for a person (a complaint, abuse, a customer who asks), and some are the
bot's own limits (misunderstood twice, failed ownership proofs, a broken back end).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path


class Priority(str, Enum):
    """Queue priority; `URGENT` is for abuse and hate, which a person sees first."""

    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"

    @property
    def rank(self) -> int:
        """Sort key: smaller comes first in the queue."""
        return {"urgent": 0, "high": 1, "normal": 2}[self.value]


class HandoffReason(str, Enum):
    """Why a conversation went to a person."""

    HUMAN_REQUEST = "human_request"
    COMPLAINT = "complaint"
    ABUSE = "abuse"
    PAYMENT_ISSUE = "payment_issue"
    CANCEL_ORDER = "cancel_order"
    CHANGE_ADDRESS = "change_address"
    DELIVERY_PROBLEM = "delivery_problem"
    REPEATED_FALLBACK = "repeated_fallback"
    FAILED_PROOF = "failed_proof"
    ACTION_ERROR = "action_error"
    PERSONAL_DATA_IN_COMMENT = "personal_data_in_comment"
    DELIVERY_FAILED = "delivery_failed"
    BOT_UNAVAILABLE = "bot_unavailable"
    UNPROCESSABLE_MESSAGE = "unprocessable_message"

    @property
    def priority(self) -> Priority:
        """How urgent this reason is on its own."""
        return _PRIORITY[self]


_PRIORITY = {
    HandoffReason.ABUSE: Priority.URGENT,
    HandoffReason.COMPLAINT: Priority.HIGH,
    HandoffReason.PAYMENT_ISSUE: Priority.HIGH,
    HandoffReason.CANCEL_ORDER: Priority.HIGH,
    HandoffReason.CHANGE_ADDRESS: Priority.HIGH,
    HandoffReason.DELIVERY_PROBLEM: Priority.HIGH,
    HandoffReason.HUMAN_REQUEST: Priority.NORMAL,
    HandoffReason.REPEATED_FALLBACK: Priority.NORMAL,
    HandoffReason.FAILED_PROOF: Priority.NORMAL,
    HandoffReason.ACTION_ERROR: Priority.NORMAL,
    HandoffReason.PERSONAL_DATA_IN_COMMENT: Priority.HIGH,
    HandoffReason.DELIVERY_FAILED: Priority.HIGH,
    HandoffReason.BOT_UNAVAILABLE: Priority.HIGH,
    HandoffReason.UNPROCESSABLE_MESSAGE: Priority.HIGH,
}

_INTENT_REASONS = {
    "human_request": HandoffReason.HUMAN_REQUEST,
    "complaint": HandoffReason.COMPLAINT,
    "abuse": HandoffReason.ABUSE,
    "payment_issue": HandoffReason.PAYMENT_ISSUE,
    "cancel_order": HandoffReason.CANCEL_ORDER,
    "change_address": HandoffReason.CHANGE_ADDRESS,
    "delivery_problem": HandoffReason.DELIVERY_PROBLEM,
}

def reason_for_intent(intent: str | None) -> HandoffReason | None:
    """The handoff reason an intent stands for, or None when the bot can answer it."""
    return _INTENT_REASONS.get(intent or "")


_TERMS_FILE = Path(__file__).with_name("abusive_terms.txt")


def _load_abusive_terms(path: Path = _TERMS_FILE) -> frozenset[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().casefold() for line in lines if line.strip() and not line.startswith("#")
    )


ABUSIVE_TERMS = _load_abusive_terms()


def looks_abusive(text: str) -> bool:
    """Whether a message contains a term from `abusive_terms.txt` (a whole word or phrase)."""
    words = "".join(ch if ch.isalnum() or ch == "'" else " " for ch in text.casefold())
    padded = f" {' '.join(words.split())} "
    return any(f" {term} " in padded for term in ABUSIVE_TERMS)


def priority_for(reason: HandoffReason, texts: list[str]) -> Priority:
    """The ticket's priority: the reason's own, raised to URGENT when anything was abusive."""
    if any(looks_abusive(text) for text in texts):
        return Priority.URGENT
    return reason.priority
