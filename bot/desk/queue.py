"""The morning queue: open tickets in the order a person should take them, with filters.

Order: priority; then the reply deadline that expires first (Messenger lets the page answer
within 24 hours of the customer's last message, and a person, with the HUMAN_AGENT tag, up to
7 days); then age. Tickets whose deadline falls today (in the brand's time zone) or has
passed stand out. Channels without a window (the web chat, REST) have no deadline and come
after those that have one, at equal priority. The queue can be narrowed to one language
(the ticket's: the conversation's when it was handed off), for agents who answer in it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.desk.claims import Claim
from bot.handoff.reasons import HandoffReason, Priority
from bot.handoff.tickets import Ticket

STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class QueueFilter:
    """What the queue is narrowed to; None means any."""

    reason: HandoffReason | None = None
    priority: Priority | None = None
    claimed: bool | None = None
    language: str | None = None

    @classmethod
    def from_query(cls, query: dict[str, str], languages: Sequence[str] = ()) -> QueueFilter:
        """From a page's query string; unknown values are ignored, never an error page.

        `languages` are the brand's: a language outside them is unknown.
        """
        def pick(enum: type, value: str | None):  # noqa: ANN202
            try:
                return enum(value) if value else None
            except ValueError:
                return None

        claimed = {"yes": True, "no": False}.get(query.get("claimed", ""))
        language = query.get("language") if query.get("language") in languages else None
        return cls(pick(HandoffReason, query.get("reason")),
                   pick(Priority, query.get("priority")), claimed, language)


@dataclass(frozen=True)
class QueueRow:
    """One open ticket as the queue shows it."""

    ticket: Ticket
    claim: Claim | None
    deadline: datetime | None
    lapses_today: bool


def reply_deadline(last_customer_message_at: datetime | None, now: datetime) -> datetime | None:
    """Until when a reply can still reach the customer: 24 h, then 7 days for a person."""
    if last_customer_message_at is None:
        return None
    standard = last_customer_message_at + STANDARD_WINDOW
    return standard if now < standard else last_customer_message_at + HUMAN_AGENT_WINDOW


def build_queue(
    tickets: list[Ticket],
    claims: dict[int, Claim],
    last_customer_message: Callable[[Ticket], datetime | None],
    now: datetime,
    zone: ZoneInfo,
    only: QueueFilter = QueueFilter(),
) -> list[QueueRow]:
    """The open tickets filtered and in queue order."""
    today = now.astimezone(zone).date()
    rows = []
    for ticket in tickets:
        claim = claims.get(ticket.case_number)
        if only.reason is not None and ticket.reason is not only.reason:
            continue
        if only.priority is not None and ticket.priority is not only.priority:
            continue
        if only.claimed is not None and (claim is not None) != only.claimed:
            continue
        if only.language is not None and ticket.language != only.language:
            continue
        deadline = reply_deadline(last_customer_message(ticket), now)
        lapses = deadline is not None and deadline.astimezone(zone).date() <= today
        rows.append(QueueRow(ticket, claim, deadline, lapses))
    far = datetime.max.replace(tzinfo=now.tzinfo)
    return sorted(rows, key=lambda r: (r.ticket.priority.rank, r.deadline or far,
                                       r.ticket.created_at, r.ticket.case_number))
