"""The review inbox: every customer message the bot handled badly, for a trainer to label.

A message is reviewed when the model fell back (``nlu_fallback``), read it as
``out_of_scope``, gave its intent less confidence than `trainer.yml` allows, when it is the
message a handoff followed and the bot did not read it as what the handoff was about (a
complaint read as something else, repeated misunderstanding), or when an agent marked it on a
ticket ("the bot should have understood this"). A message the model was sure of comes too
when the customer's next message shows it was misread: within three minutes they asked for
a person, or said the same again in other words. Messages a trainer already assigned or
dismissed leave the inbox. Texts are shown redacted; button payloads (``/intent``) are not
language and are never reviewed.

Each message carries its language: the conversation's ``language`` slot as the bot answered
that message (`bot.store.language_events`), or, where the tracker has no such slot (a
conversation from before the slot, a mark whose event is gone), the language the detector
reads in the text alone.

Messages come from Rasa's tracker store (table ``events``, in the product database).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from sqlalchemy import MetaData, Table, and_, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import NoSuchTableError

from bot.handoff.reasons import HandoffReason
from bot.handoff.redaction import redact
from bot.store import ReviewDecisionRow, TicketRow, TrainerMarkRow, session_scope
from bot.store.audit import AuditLog
from bot.store.language_events import LANGUAGE_EVENT_TYPES, LanguageReplay
from bot.trainer.languages import brand_languages
from bot.trainer.settings import TrainerSettings
from bot.understanding.ngrams import overlap

FALLBACK = "fallback"
OUT_OF_SCOPE = "out_of_scope"
LOW_CONFIDENCE = "low_confidence"
HANDED_OFF = "handed_off"
MARKED = "marked"
REPHRASED = "rephrased"
ASKED_FOR_PERSON = "asked_for_person"

CONFIDENT_MISTAKE_WITHIN = timedelta(minutes=3)
"""How soon after a confident answer a rephrasing, or a request for a person, tells it was
wrong."""

REPHRASE_OVERLAP = 0.3
"""The share of a message's character 4-grams the next one must share to be its rephrasing."""

_NOT_A_REPHRASING = frozenset({"greet", "thanks", "goodbye", "affirm", "deny", "inform",
                               "share_media"})

# Handoffs that follow from reading the customer right: the message is reviewed only when
# the model read it as something else.
_HANDOFF_INTENTS = {
    HandoffReason.HUMAN_REQUEST.value, HandoffReason.COMPLAINT.value, HandoffReason.ABUSE.value,
    HandoffReason.PAYMENT_ISSUE.value, HandoffReason.CANCEL_ORDER.value,
    HandoffReason.CHANGE_ADDRESS.value, HandoffReason.DELIVERY_PROBLEM.value,
}


def message_key(conversation_id: str, at: datetime) -> str:
    """A customer message's key: its conversation and its time to the millisecond."""
    return f"{conversation_id}@{at.timestamp():.3f}"


@dataclass(frozen=True)
class CustomerMessage:
    """One stored customer message with what the model read in it, and its language.

    `language` is the conversation's language slot as the bot answered the message (None when
    the tracker has none).
    """

    conversation_id: str
    text: str
    at: datetime
    intent: str | None
    confidence: float | None
    language: str | None = None

    @property
    def key(self) -> str:
        """See `message_key`."""
        return message_key(self.conversation_id, self.at)


@dataclass(frozen=True)
class ReviewItem:
    """A message in the review inbox.

    Attributes:
        key: the message's key (`message_key`), used to label or dismiss it.
        text: the text, personal data redacted.
        reasons: why it is here: fallback, out_of_scope, low_confidence, handed_off, marked,
            rephrased, asked_for_person.
        language: the brand language the message is in (ISO 639-1).
    """

    key: str
    conversation_id: str
    text: str
    at: datetime
    intent: str | None
    confidence: float | None
    reasons: tuple[str, ...]
    language: str

    def as_json(self) -> dict[str, object]:
        """JSON-ready, for the API and `--json`."""
        return {"key": self.key, "conversation_id": self.conversation_id, "text": self.text,
                "language": self.language, "at": self.at.isoformat(), "intent": self.intent,
                "confidence": None if self.confidence is None else round(self.confidence, 4),
                "reasons": list(self.reasons)}


@dataclass(frozen=True)
class Mark:
    """An agent's mark on a customer message of a ticket."""

    conversation_id: str
    at: datetime
    text: str


def _reasons_from_the_model(message: CustomerMessage, settings: TrainerSettings) -> list[str]:
    if message.intent == "nlu_fallback":
        return [FALLBACK]
    if message.intent == "out_of_scope":
        return [OUT_OF_SCOPE]
    if message.confidence is not None and message.confidence < settings.low_confidence_below:
        return [LOW_CONFIDENCE]
    return []


def _handoff_messages(messages: list[CustomerMessage], tickets: Iterable[TicketRow],
                      settings: TrainerSettings) -> set[str]:
    """Keys of the messages that a handoff followed without the bot reading them right."""
    by_conversation: dict[str, list[CustomerMessage]] = {}
    for message in messages:
        by_conversation.setdefault(message.conversation_id, []).append(message)
    keys = set()
    for ticket in tickets:
        before = [m for m in by_conversation.get(ticket.conversation_id, [])
                  if m.at <= ticket.created_at]
        if not before:
            continue
        last = before[-1]
        understood = (ticket.reason in _HANDOFF_INTENTS and last.intent == ticket.reason
                      and (last.confidence or 0) >= settings.low_confidence_below)
        if ticket.reason == HandoffReason.REPEATED_FALLBACK.value or (
                ticket.reason in _HANDOFF_INTENTS and not understood):
            keys.add(last.key)
    return keys


def _confident_mistakes(messages: list[CustomerMessage],
                        settings: TrainerSettings) -> dict[str, str]:
    """Messages the model was sure of, that the customer's next message shows it misread.

    The next message, within `CONFIDENT_MISTAKE_WITHIN`, asks for a person (typed or tapped),
    or says the same again in other words (a `REPHRASE_OVERLAP` share of its 4-grams) and is
    read as another intent. Key -> reason.
    """
    found: dict[str, str] = {}
    by_conversation: dict[str, list[CustomerMessage]] = {}
    for message in messages:
        by_conversation.setdefault(message.conversation_id, []).append(message)
    for conversation in by_conversation.values():
        for first, then in zip(conversation, conversation[1:], strict=False):
            if _reasons_from_the_model(first, settings) or first.intent in (
                    None, HandoffReason.HUMAN_REQUEST.value) or first.text.startswith("/"):
                continue
            if then.at - first.at > CONFIDENT_MISTAKE_WITHIN:
                continue
            if then.intent == HandoffReason.HUMAN_REQUEST.value:
                found[first.key] = ASKED_FOR_PERSON
            elif (then.intent != first.intent and then.intent not in _NOT_A_REPHRASING
                  and not then.text.startswith("/")
                  and overlap(then.text, first.text) >= REPHRASE_OVERLAP):
                found[first.key] = REPHRASED
    return found


def review_items(
    messages: Iterable[CustomerMessage],
    tickets: Iterable[TicketRow],
    marks: Iterable[Mark],
    decided: set[str],
    settings: TrainerSettings,
    languages: Sequence[str],
    language_of: Callable[[str], str],
) -> list[ReviewItem]:
    """The inbox: the badly handled messages not decided yet, newest first.

    Args:
        messages: the stored customer messages.
        tickets: the handoffs of the same time.
        marks: agents' marks on customer messages.
        decided: keys of the messages a trainer decided already.
        settings: the trainer's settings.
        languages: the brand's languages.
        language_of: the language of a text alone, for a message without a (brand) language.
    """
    every = sorted(messages, key=lambda m: m.at)
    spoken = [m for m in every if not m.text.lstrip().startswith("/")]
    reasons: dict[str, list[str]] = {m.key: _reasons_from_the_model(m, settings) for m in spoken}
    for key in _handoff_messages(spoken, tickets, settings):
        reasons[key].append(HANDED_OFF)
    for key, reason in _confident_mistakes(every, settings).items():
        if key in reasons:
            reasons[key].append(reason)
    by_key = {m.key: m for m in spoken}
    for mark in marks:
        key = message_key(mark.conversation_id, mark.at)
        if key not in by_key:  # the event is gone (or never was): the mark stands alone
            by_key[key] = CustomerMessage(mark.conversation_id, mark.text, mark.at, None, None)
            reasons[key] = []
        if MARKED not in reasons[key]:
            reasons[key].append(MARKED)
    items = [
        ReviewItem(key, m.conversation_id, redact(m.text), m.at, m.intent, m.confidence,
                   tuple(reasons[key]),
                   m.language if m.language in languages else language_of(m.text))
        for key, m in by_key.items()
        if reasons[key] and key not in decided
    ]
    return sorted(items, key=lambda item: item.at, reverse=True)


def examples_by_language(items: Sequence[ReviewItem], own: Sequence[str], language: str | None,
                         language_of: Callable[[str], str]) -> dict[str, list[str]]:
    """The texts to write, by language: each message's own, and the trainer's wordings.

    The trainer's wordings are in `language`; without it, in the one language of the chosen
    messages, or (none chosen, or several languages) in the language read in each.
    """
    found: dict[str, list[str]] = {}
    for item in items:
        found.setdefault(item.language, []).append(item.text)
    if language is None and len(found) == 1:
        language = next(iter(found))
    for text in own:
        found.setdefault(language or language_of(text), []).append(text)
    return found


def _at(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc)


def stored_customer_messages(engine: Engine, since: datetime) -> list[CustomerMessage]:
    """The customer messages in Rasa's tracker store from `since` on (none before any).

    Each with its conversation's ``language`` slot after it: the slot events of its
    conversation are replayed (from before `since` too) up to the next customer message.
    """
    try:
        events = Table("events", MetaData(), autoload_with=engine)
    except NoSuchTableError:
        return []
    recent = events.c.timestamp >= since.timestamp()
    talking = (select(events.c.sender_id).where(events.c.type_name == "user", recent)
               .distinct().scalar_subquery())
    query = (select(events.c.id, events.c.sender_id, events.c.type_name, events.c.timestamp,
                    events.c.data)
             .where(or_(and_(events.c.type_name == "user", recent),
                        and_(events.c.type_name.in_(LANGUAGE_EVENT_TYPES),
                             events.c.sender_id.in_(talking))))
             .order_by(events.c.timestamp, events.c.id))
    replay = LanguageReplay()
    users = []
    with engine.connect() as connection:
        for row in connection.execute(query):
            replay.see(row.id, row.sender_id, row.type_name, row.data)
            if row.type_name == "user":
                users.append(row)
    found: list[CustomerMessage] = []
    for row in users:
        data = json.loads(row.data or "{}")
        text = data.get("text")
        if not isinstance(text, str) or not text.strip():
            continue
        intent = (data.get("parse_data") or {}).get("intent") or {}
        confidence = intent.get("confidence")
        found.append(CustomerMessage(
            row.sender_id, text, _at(row.timestamp), intent.get("name"),
            float(confidence) if isinstance(confidence, (int, float)) else None,
            replay.languages[row.id]))
    return found


class ReviewInbox:
    """The review inbox over the product database and Rasa's tracker store.

    Args:
        engine: the product database (with Rasa's tracker store table ``events``).
        settings: the trainer's settings.
        clock: now.
        languages: the brand's languages, the default first (None: brand.yml's).
    """

    def __init__(self, engine: Engine, settings: TrainerSettings,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
                 languages: Sequence[str] | None = None) -> None:
        self._engine = engine
        self._settings = settings
        self._clock = clock
        self._languages = None if languages is None else tuple(languages)
        self._detector = None
        self._audit = AuditLog(engine, clock)

    @property
    def languages(self) -> tuple[str, ...]:
        """The brand's languages, the default first."""
        if self._languages is None:
            self._languages = brand_languages()
        return self._languages

    def language_of(self, text: str) -> str:
        """The language of a text alone (the detector, built on first use)."""
        if self._detector is None:
            from bot.language import LanguageDetector

            self._detector = LanguageDetector(self.languages)
        return self._detector.language_of(text)

    def items(self) -> list[ReviewItem]:
        """The messages waiting for a trainer, newest first (`look_back_days` of them)."""
        since = self._clock() - timedelta(days=self._settings.look_back_days)
        with session_scope(self._engine) as session:
            tickets = session.query(TicketRow).filter(TicketRow.created_at >= since).all()
            session.expunge_all()
            marks = [Mark(r.conversation_id, r.at, r.text)
                     for r in session.query(TrainerMarkRow).filter(TrainerMarkRow.at >= since)]
            decided = {r.item_key for r in session.query(ReviewDecisionRow.item_key)}
        return review_items(stored_customer_messages(self._engine, since), tickets, marks,
                            decided, self._settings, self.languages, self.language_of)

    def mark(self, conversation_id: str, at: datetime, text: str, by: str, *,
             case_number: int | None = None, line: int | None = None) -> None:
        """An agent's "the bot should have understood this" on a customer message.

        Each mark is audited under `by` in the same transaction (a message marked twice is
        kept once): as 'ticket.mark_for_training' on the case and its transcript line when
        made on a ticket, else as 'review.mark'. The audit never holds the message itself.

        Args:
            conversation_id: the conversation the message is in.
            at: when the customer wrote it.
            text: the message.
            by: the agent's login.
            case_number: the ticket it was marked on, if any.
            line: its index in that ticket's transcript.
        """
        with session_scope(self._engine) as session:
            already = (session.query(TrainerMarkRow)
                       .filter_by(conversation_id=conversation_id, at=at).first())
            if already is None:
                session.add(TrainerMarkRow(conversation_id=conversation_id, at=at, text=text,
                                           marked_by=by, marked_at=self._clock()))
            session.flush()
            if case_number is None:
                self._audit.record(by, "review.mark", "review", connection=session.connection())
            else:
                self._audit.record(by, "ticket.mark_for_training", f"ticket:{case_number}",
                                   {"line": line}, connection=session.connection())

    def marked_times(self, conversation_id: str) -> frozenset[datetime]:
        """When the conversation's marked messages were written."""
        with session_scope(self._engine) as session:
            return frozenset(row.at for row in session.query(TrainerMarkRow)
                             .filter_by(conversation_id=conversation_id))

    def decide(self, keys: Iterable[str], decision: str, by: str,
               intent: str | None = None) -> int:
        """Records a decision ('assigned' with its intent, or 'dismissed') for the messages.

        Returns:
            how many messages were decided now (a key decided before keeps its decision).
        """
        if decision not in ("assigned", "dismissed"):
            raise ValueError(f"unknown decision {decision!r}")
        if decision == "assigned" and not intent:
            raise ValueError("an assignment names its intent")
        count = 0
        with session_scope(self._engine) as session:
            for key in dict.fromkeys(keys):
                if session.get(ReviewDecisionRow, key) is None:
                    session.add(ReviewDecisionRow(item_key=key, decision=decision,
                                                  intent=intent, decided_by=by,
                                                  decided_at=self._clock()))
                    count += 1
        return count
