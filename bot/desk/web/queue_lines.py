"""The open tickets as the queue shows them: a line of texts per ticket, and the JSON rows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.desk.agents import Agent
from bot.desk.queue import QueueFilter, QueueRow
from bot.desk.roles import Permission
from bot.desk.web.formatting import channel_label, time_shown, waiting, waiting_minutes
from bot.handoff.reasons import HandoffReason, Priority


@dataclass(frozen=True)
class QueueLine:
    """One ticket of the queue page, its cells as texts.

    Attributes:
        case_number: the ticket's case number.
        customer_name: the customer's name, if known.
        language: the ticket's language code.
        channel: "DM", "comment" or the channel's name.
        reason: the handoff reason.
        priority: the priority.
        order_number: the order named, or "".
        waiting: how long it has waited ("12 min").
        deadline: when the reply is due, in the brand's zone, or "" for none.
        lapses_today: the reply window closes today.
        holder: the name of who claimed it, or None.
        claim_action: "claim" or "unclaim" when the viewer may do it, else None.
    """

    case_number: int
    customer_name: str | None
    language: str
    channel: str
    reason: str
    priority: str
    order_number: str
    waiting: str
    deadline: str
    lapses_today: bool
    holder: str | None
    claim_action: str | None


def _claim_action(row: QueueRow, viewer: Agent) -> str | None:
    """What the viewer's button does, or None for no button.

    Those who work tickets claim a free one and unclaim their own; those who manage agents
    unclaim anyone's.
    """
    if not viewer.role.may(Permission.WORK_TICKETS):
        return None
    claim = row.claim
    if claim is None:
        return "claim"
    if claim.login == viewer.login or viewer.role.may(Permission.MANAGE_AGENTS):
        return "unclaim"
    return None


def queue_lines(rows: Sequence[QueueRow], viewer: Agent, now: datetime,
                zone: ZoneInfo) -> list[QueueLine]:
    """The queue's rows as the page shows them to `viewer`."""
    return [QueueLine(
        case_number=row.ticket.case_number, customer_name=row.ticket.customer_name,
        language=row.ticket.language, channel=channel_label(row.ticket),
        reason=row.ticket.reason.value, priority=row.ticket.priority.value,
        order_number=row.ticket.order_number or "", waiting=waiting(row.ticket.created_at, now),
        deadline=time_shown(row.deadline, zone) if row.deadline else "",
        lapses_today=row.lapses_today, holder=row.claim.name if row.claim else None,
        claim_action=_claim_action(row, viewer),
    ) for row in rows]


def ticket_json(row: QueueRow, now: datetime) -> dict[str, object]:
    """One row of ``/api/tickets``."""
    ticket, claim = row.ticket, row.claim
    return {
        "claimed_by": claim.login if claim else None,
        "channel_label": channel_label(ticket),
        "reply_deadline": row.deadline.isoformat() if row.deadline else None,
        "lapses_today": row.lapses_today,
        "case_number": ticket.case_number,
        "customer_name": ticket.customer_name,
        "language": ticket.language,
        "channel": ticket.channel,
        "reason": ticket.reason.value,
        "priority": ticket.priority.value,
        "order_number": ticket.order_number,
        "created_at": ticket.created_at.isoformat(),
        "waiting_minutes": waiting_minutes(ticket.created_at, now),
    }


@dataclass(frozen=True)
class FilterChoices:
    """The queue's filter form: the values offered and the ones chosen."""

    reasons: tuple[str, ...]
    priorities: tuple[str, ...]
    languages: tuple[str, ...]
    reason: str | None
    priority: str | None
    claimed: str | None
    language: str | None


def filter_choices(only: QueueFilter, languages: Sequence[str]) -> FilterChoices:
    """What the filter form offers, with `only`'s choices selected."""
    return FilterChoices(
        reasons=tuple(reason.value for reason in HandoffReason),
        priorities=tuple(priority.value for priority in Priority),
        languages=tuple(languages),
        reason=only.reason.value if only.reason else None,
        priority=only.priority.value if only.priority else None,
        claimed={True: "yes", False: "no"}.get(only.claimed),  # type: ignore[arg-type]
        language=only.language,
    )
