"""Handoff tickets: opening one with its packet, following it, handing it back.

A ticket is what an agent picks up in the morning: who, why, how urgent, which order,
a summary (personal data redacted) and the whole transcript. The transcript is kept as the
customer wrote it, like Rasa's tracker store keeps it, because the logged-in agent who
answers needs the address or phone number the customer gave; whatever shows it outside the
desk redacts it on the way out (`bot.desk.team_channel`). Card numbers are never kept, and
proofs of ownership are hidden before the transcript gets here
(`actions.conversation.transcript`). At most one ticket is
open per conversation; a second handoff in the same conversation joins it. A person's changes
(priority, handing back) are written to the audit log in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.handoff.reasons import HandoffReason, Priority, looks_abusive, priority_for
from bot.handoff.redaction import redact, redact_card_numbers
from bot.hours import OfficeCalendar
from bot.observability.metrics import count_handoff
from bot.store import HandoffPacketRow, TicketRow, session_scope
from bot.store.audit import AuditLog

OPEN = "open"
HANDED_BACK = "handed_back"
RESOLVED = "resolved"


class TicketError(LookupError):
    """The ticket does not exist, or is not in a state that allows the change."""


@dataclass(frozen=True)
class TranscriptLine:
    """One message of the conversation: who sent it ("customer", "bot", "agent"), text, time."""

    sender: str
    text: str
    at: datetime

    def to_json(self) -> dict[str, str]:
        """A JSON-ready dict."""
        return {"sender": self.sender, "text": self.text, "at": self.at.isoformat()}

    @staticmethod
    def from_json(data: dict[str, str]) -> TranscriptLine:
        """The inverse of `to_json`."""
        return TranscriptLine(data["sender"], data["text"], datetime.fromisoformat(data["at"]))


@dataclass(frozen=True)
class HandoffRequest:
    """Everything the bot knows when it decides a person must take over."""

    conversation_id: str
    channel: str
    reason: HandoffReason
    transcript: list[TranscriptLine]
    customer_name: str | None = None
    language: str = "en"
    order_number: str | None = None
    intents_seen: list[tuple[str, float]] = field(default_factory=list)
    status_told: str | None = None


@dataclass(frozen=True)
class HandoffPacket:
    """What an agent reads first about a case, at the top of its page.

    Attributes:
        wanted: the customer's last messages before the handoff (at most 2), oldest first.
        intents_seen: the intents the bot read in the customer's last messages, with their
            confidence.
        status_told: the bot's last answer about the order's status, None if it gave none.
        bot_said: the bot's last messages before the handoff (at most 3), oldest first.
    """

    wanted: list[TranscriptLine]
    intents_seen: list[tuple[str, float]]
    status_told: str | None
    bot_said: list[TranscriptLine]


@dataclass(frozen=True)
class Ticket:
    """A stored ticket."""

    case_number: int
    conversation_id: str
    channel: str
    customer_name: str | None
    reason: HandoffReason
    priority: Priority
    language: str
    order_number: str | None
    summary: str
    transcript: list[TranscriptLine]
    status: str
    created_at: datetime
    expected_answer_at: datetime
    reminder_sent: bool
    handed_back_by: str | None = None


def _ticket_from_row(row: TicketRow) -> Ticket:
    return Ticket(
        case_number=row.id,
        conversation_id=row.conversation_id,
        channel=row.channel,
        customer_name=row.customer_name,
        reason=HandoffReason(row.reason),
        priority=Priority(row.priority),
        language=row.language,
        order_number=row.order_number,
        summary=row.summary,
        transcript=[TranscriptLine.from_json(item) for item in json.loads(row.transcript)],
        status=row.status,
        created_at=row.created_at,
        expected_answer_at=row.expected_answer_at,
        reminder_sent=bool(row.reminder_sent),
        handed_back_by=row.handed_back_by,
    )


_REASON_LABELS = {
    HandoffReason.HUMAN_REQUEST: "Customer asked for a person",
    HandoffReason.COMPLAINT: "Complaint",
    HandoffReason.ABUSE: "Abusive message",
    HandoffReason.PAYMENT_ISSUE: "Payment problem",
    HandoffReason.CANCEL_ORDER: "Wants to cancel an order",
    HandoffReason.CHANGE_ADDRESS: "Wants to change the delivery address",
    HandoffReason.DELIVERY_PROBLEM: "Delivery problem (not arrived, late, damaged, wrong or "
                                    "missing item)",
    HandoffReason.REPEATED_FALLBACK: "Bot did not understand twice in a row",
    HandoffReason.FAILED_PROOF: "Could not prove the order is theirs (attempt limit reached)",
    HandoffReason.ACTION_ERROR: "The bot hit a technical error",
    HandoffReason.PERSONAL_DATA_IN_COMMENT: "Public comment showing personal or order data",
    HandoffReason.DELIVERY_FAILED: "The bot's reply could not be delivered on Messenger",
    HandoffReason.BOT_UNAVAILABLE: "The bot was down while the customer waited (holding "
                                   "message sent; the bot answers once it is back)",
    HandoffReason.UNPROCESSABLE_MESSAGE: "A message the bot could not process (it failed or "
                                         "crashed the bot twice; it will not run again)",
}


def summarise(request: HandoffRequest) -> str:
    """A few lines an agent reads first; personal data redacted."""
    parts = [_REASON_LABELS[request.reason] + "."]
    parts.append(f"Customer: {request.customer_name or 'name unknown'} ({request.channel}).")
    if request.order_number:
        parts.append(f"Order mentioned: {request.order_number}.")
    customer_lines = [line for line in request.transcript if line.sender == "customer"]
    if customer_lines:
        parts.append(f'Last message: "{redact(customer_lines[-1].text)[:300]}".')
    if request.intents_seen:
        seen = ", ".join(f"{name} ({confidence:.2f})" for name, confidence in request.intents_seen)
        parts.append(f"Bot understood: {seen}.")
    return " ".join(parts)


def _kept(line: TranscriptLine) -> dict[str, str]:
    """A transcript line as stored: as written, but never with a card number."""
    return TranscriptLine(line.sender, redact_card_numbers(line.text), line.at).to_json()


def _open_row(session: Session, conversation_id: str, for_update: bool = False) -> TicketRow | None:
    query = (
        session.query(TicketRow)
        .filter_by(conversation_id=conversation_id, status=OPEN)
        .order_by(TicketRow.id.desc())
    )
    return (query.with_for_update() if for_update else query).first()


def _open_row_by_case(session: Session, case_number: int) -> TicketRow:
    """The open ticket's row, locked for the change; `TicketError` when none or not open."""
    row = session.get(TicketRow, case_number, with_for_update=True)
    if row is None:
        raise TicketError(f"no case #{case_number}")
    if row.status != OPEN:
        raise TicketError(f"case #{case_number} is {row.status}, not open")
    return row


class TicketService:
    """Opens, reads and updates handoff tickets in the product database."""

    def __init__(
        self,
        engine: Engine,
        calendar: OfficeCalendar,
        answer_within: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        """Uses `calendar` and `answer_within` (when open) to promise an answer time."""
        self._engine = engine
        self._calendar = calendar
        self._answer_within = answer_within
        self._clock = clock
        self._audit = AuditLog(engine, clock)

    def expected_answer_at(self, now: datetime) -> datetime:
        """When a person will answer a case opened at `now`.

        Within `answer_within` when the team is open long enough; otherwise the next opening
        (a case opened five minutes before closing waits for the next shift).
        """
        soon = now + self._answer_within
        if self._calendar.is_open(now) and self._calendar.is_open(soon - timedelta(seconds=1)):
            return soon
        opening = self._calendar.next_opening(soon)
        return opening if opening is not None else now + timedelta(days=1)

    def answers_soon(self, ticket: Ticket, now: datetime) -> bool:
        """Whether the team is open and will answer within `answer_within` of `now`."""
        waiting = ticket.expected_answer_at - now
        return self._calendar.is_open(now) and waiting <= self._answer_within

    def open_ticket(self, request: HandoffRequest) -> Ticket:
        """Opens a ticket for the conversation, or returns the one already open there."""
        now = self._clock()
        with session_scope(self._engine) as session:
            existing = _open_row(session, request.conversation_id)
            if existing is not None:
                return _ticket_from_row(existing)
            texts = [line.text for line in request.transcript if line.sender == "customer"]
            row = TicketRow(
                conversation_id=request.conversation_id,
                channel=request.channel,
                customer_name=request.customer_name,
                reason=request.reason.value,
                priority=priority_for(request.reason, texts).value,
                language=request.language,
                order_number=request.order_number,
                summary=summarise(request),
                transcript=json.dumps([_kept(line) for line in request.transcript]),
                status=OPEN,
                created_at=now,
                expected_answer_at=self.expected_answer_at(now),
                reminder_sent=False,
            )
            session.add(row)
            session.flush()
            session.add(HandoffPacketRow(
                ticket_id=row.id, status_told=request.status_told,
                intents_seen=json.dumps([[n, round(c, 4)] for n, c in request.intents_seen]),
            ))
            ticket = _ticket_from_row(row)
        count_handoff(request.reason.value)
        return ticket

    def packet(self, ticket: Ticket) -> HandoffPacket:
        """The ticket's handoff packet (a ticket older than packets has only the transcript)."""
        with session_scope(self._engine) as session:
            row = session.get(HandoffPacketRow, ticket.case_number)
            intents = [(str(n), float(c)) for n, c in json.loads(row.intents_seen)] if row else []
            status_told = row.status_told if row else None
        before = [line for line in ticket.transcript if line.at <= ticket.created_at]
        return HandoffPacket(
            wanted=[line for line in before if line.sender == "customer"][-2:],
            intents_seen=intents,
            status_told=status_told,
            bot_said=[line for line in before if line.sender == "bot"][-3:],
        )

    def get(self, case_number: int) -> Ticket:
        """The ticket with this case number.

        Raises:
            TicketError: there is none.
        """
        with session_scope(self._engine) as session:
            row = session.get(TicketRow, case_number)
            if row is None:
                raise TicketError(f"no case #{case_number}")
            return _ticket_from_row(row)

    def open_for_conversation(self, conversation_id: str) -> Ticket | None:
        """The open ticket of a conversation, if any."""
        with session_scope(self._engine) as session:
            row = _open_row(session, conversation_id)
            return None if row is None else _ticket_from_row(row)

    def list_open(self) -> list[Ticket]:
        """Open tickets, most urgent first, then oldest first."""
        with session_scope(self._engine) as session:
            rows = session.query(TicketRow).filter_by(status=OPEN).all()
            tickets = [_ticket_from_row(row) for row in rows]
        return sorted(tickets, key=lambda t: (t.priority.rank, t.created_at, t.case_number))

    def add_customer_message(self, conversation_id: str, line: TranscriptLine) -> Ticket | None:
        """Appends a message of the conversation while a person owns it (or a person's reply).

        Returns:
            The updated ticket, or None when the conversation has no open ticket.
        """
        with session_scope(self._engine) as session:
            row = _open_row(session, conversation_id, for_update=True)
            if row is None:
                return None
            transcript = json.loads(row.transcript)
            transcript.append(_kept(line))
            row.transcript = json.dumps(transcript)
            if line.sender == "customer" and looks_abusive(line.text):
                row.priority = Priority.URGENT.value
            session.flush()
            return _ticket_from_row(row)

    def set_priority(self, case_number: int, priority: Priority, *, by: str) -> Ticket:
        """Moves an open ticket up or down the queue, audited under `by`.

        Raises:
            TicketError: no such case, or it is not open.
        """
        with session_scope(self._engine) as session:
            row = _open_row_by_case(session, case_number)
            before = row.priority
            row.priority = priority.value
            session.flush()
            self._audit.record(by, "ticket.priority", f"ticket:{case_number}",
                               {"from": before, "to": priority.value},
                               connection=session.connection())
            return _ticket_from_row(row)

    def mark_reminder_sent(self, case_number: int) -> None:
        """Remembers that the customer got the one "your case is with our team" reminder."""
        with session_scope(self._engine) as session:
            row = session.get(TicketRow, case_number)
            if row is None:
                raise TicketError(f"no case #{case_number}")
            row.reminder_sent = True

    def hand_back(self, case_number: int, by: str, resolved: bool = False) -> Ticket:
        """Closes the person's turn: the bot may answer this conversation again.

        `resolved` when the person settled the case ('resolved'), otherwise it was only
        given back ('handed_back'). Either way `handed_back_at`/`_by` say when and by whom, and
        the audit log has it as 'ticket.resolve' or 'ticket.handback'.

        Raises:
            TicketError: no such case, or it is not open.
        """
        with session_scope(self._engine) as session:
            row = _open_row_by_case(session, case_number)
            row.status = RESOLVED if resolved else HANDED_BACK
            row.handed_back_at = self._clock()
            row.handed_back_by = by
            session.flush()
            self._audit.record(by, "ticket.resolve" if resolved else "ticket.handback",
                               f"ticket:{case_number}", connection=session.connection())
            return _ticket_from_row(row)

