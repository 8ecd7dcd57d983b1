"""The night's figures, computed from what is stored: Rasa's events and the tickets.

For a period [since, until), each figure is given for all messages and split into office
hours and after hours (by the brand's calendar, at the moment the customer wrote):

* customer messages, and the response rate: messages followed by any answer (a bot message,
  or a person's reply on the ticket) before the customer's next message;
* the bot's first response time (per conversation: its first customer message in the period
  to the bot's first answer after it), average and median, in seconds;
* a person's first response time, measured from the handoff (ticket opened) to the first
  agent line on the ticket, average and median;
* time to resolution (ticket opened to resolved) and replies to resolution (agent lines);
* the share of conversations that needed a person, and containment (settled by the bot
  alone); volume by hour of day (brand's time zone), also for after hours alone (the
  night's volume); top intents; the fallback rate;
  tickets by reason; tickets that missed the 24-hour window (no person's reply within
  24 hours of the handoff);
* by language (`by_language`, the brand's languages first, the default one first of all):
  customer messages and fallbacks, by the language the message was answered in;
  conversations and containment (settled by the bot vs needed a person), a conversation
  counted in the language of its last customer message in the period; tickets opened, by
  the ticket's language.

A message's language is the conversation's `language` slot as Rasa stored it
(`bot.store.language_events`); None, the slot's initial value, is the brand's default.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import MetaData, Table, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import NoSuchTableError

from bot.handoff.tickets import RESOLVED, TranscriptLine
from bot.hours import OfficeCalendar
from bot.store.language_events import LANGUAGE_EVENT_TYPES, LANGUAGE_SLOT, LanguageReplay
from bot.store.tables import TicketRow

FALLBACK_INTENTS = frozenset({"nlu_fallback", "out_of_scope"})
WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Message:
    """One stored message of a conversation."""

    conversation_id: str
    sender: str  # "customer" or "bot"
    at: datetime
    intent: str | None = None
    language: str | None = None  # a customer message's; None: the brand's default


@dataclass
class Figures:
    """The figures for one slice of messages (all, office hours or after hours)."""

    customer_messages: int = 0
    answered: int = 0
    bot_first_response_seconds: list[float] = field(default_factory=list)
    fallbacks: int = 0

    def as_json(self) -> dict[str, object]:
        """The figures, rounded for reading."""
        times = self.bot_first_response_seconds
        return {
            "customer_messages": self.customer_messages,
            "response_rate": _ratio(self.answered, self.customer_messages),
            "bot_first_response_avg_s": _round(statistics.fmean(times)) if times else None,
            "bot_first_response_median_s": _round(statistics.median(times)) if times else None,
            "fallback_rate": _ratio(self.fallbacks, self.customer_messages),
        }


@dataclass
class LanguageFigures:
    """The figures of one language."""

    customer_messages: int = 0
    fallbacks: int = 0
    conversations: int = 0
    handed_off: int = 0
    tickets: int = 0

    def as_json(self) -> dict[str, object]:
        """The figures, shares rounded for reading."""
        return {
            "customer_messages": self.customer_messages,
            "fallbacks": self.fallbacks,
            "fallback_rate": _ratio(self.fallbacks, self.customer_messages),
            "conversations": self.conversations,
            "needed_a_person": _ratio(self.handed_off, self.conversations),
            "containment": _ratio(self.conversations - self.handed_off, self.conversations),
            "tickets": self.tickets,
        }


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _round(value: float) -> float:
    return round(value, 1)


def _at(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc)


def stored_messages(engine: Engine, since: datetime, until: datetime) -> list[Message]:
    """Customer and bot messages from Rasa's tracker store (table ``events``).

    Each customer message carries the language it was answered in: for that the language
    events of the period's conversations are read from their beginning (`LanguageReplay`).
    None before Rasa has stored its first conversation (the table does not exist yet).
    """
    try:
        events = Table("events", MetaData(), autoload_with=engine)
    except NoSuchTableError:
        return []
    end = (until + WINDOW).timestamp()
    messages = (select(events.c.id, events.c.sender_id, events.c.type_name, events.c.timestamp,
                       events.c.intent_name)
                .where(events.c.type_name.in_(("user", "bot")),
                       events.c.timestamp >= since.timestamp(), events.c.timestamp < end))
    in_period = (select(events.c.sender_id)
                 .where(events.c.type_name == "user", events.c.timestamp >= since.timestamp(),
                        events.c.timestamp < until.timestamp()))
    others = [name for name in LANGUAGE_EVENT_TYPES if name not in ("slot", "bot")]
    languages = (select(events.c.id, events.c.sender_id, events.c.type_name,
                        events.c.timestamp, events.c.data)
                 .where(events.c.timestamp < end, events.c.sender_id.in_(in_period),
                        events.c.type_name.in_(others)
                        | ((events.c.type_name == "slot")
                           & events.c.data.like(f'%"{LANGUAGE_SLOT}"%'))))
    with engine.connect() as connection:
        rows = [*connection.execute(messages), *connection.execute(languages)]
    rows.sort(key=lambda row: (row.timestamp, row.id))
    replay = LanguageReplay()
    for row in rows:
        message = row.type_name in ("user", "bot")  # their text is not needed here
        replay.see(row.id, row.sender_id, row.type_name, None if message else row.data)
    return [
        Message(row.sender_id, "customer", _at(row.timestamp), row.intent_name,
                replay.languages[row.id])
        if row.type_name == "user" else Message(row.sender_id, "bot", _at(row.timestamp))
        for row in rows if row.type_name in ("user", "bot")
    ]


def compute(
    messages: Iterable[Message],
    tickets: Iterable[TicketRow],
    calendar: OfficeCalendar,
    since: datetime,
    until: datetime,
    now: datetime,
    *,
    languages: Sequence[str],
) -> dict[str, object]:
    """Every figure for the period, as JSON-ready data.

    `languages` are the brand's, the default first: a message without a language is in the
    default one; a language outside them (a ticket from before the brand dropped it) is
    listed after them.
    """
    if not languages:
        raise ValueError("the brand's languages are needed to split the figures")
    default = languages[0]
    by_conversation: dict[str, list[Message]] = defaultdict(list)
    for message in sorted(messages, key=lambda m: m.at):
        by_conversation[message.conversation_id].append(message)
    slices = {"all": Figures(), "office_hours": Figures(), "after_hours": Figures()}
    volume_by_hour = Counter()
    night_volume_by_hour = Counter()
    intents = Counter()
    conversations_in_period: set[str] = set()
    by_language = {code: LanguageFigures() for code in languages}
    conversation_language: dict[str, str] = {}
    zone = calendar.timezone

    for conversation_id, history in by_conversation.items():
        first_in_period: Message | None = None
        for index, message in enumerate(history):
            if message.sender != "customer" or not since <= message.at < until:
                continue
            conversations_in_period.add(conversation_id)
            later = history[index + 1:]
            next_customer = next((m for m in later if m.sender == "customer"), None)
            answer = next((m for m in later if m.sender == "bot"), None)
            answered = answer is not None and (next_customer is None
                                               or answer.at <= next_customer.at)
            part = "office_hours" if calendar.is_open(message.at) else "after_hours"
            for name in ("all", part):
                figures = slices[name]
                figures.customer_messages += 1
                figures.answered += answered
                figures.fallbacks += message.intent in FALLBACK_INTENTS
            volume_by_hour[message.at.astimezone(zone).hour] += 1
            if part == "after_hours":
                night_volume_by_hour[message.at.astimezone(zone).hour] += 1
            if message.intent:
                intents[message.intent] += 1
            language = message.language or default
            in_language = by_language.setdefault(language, LanguageFigures())
            in_language.customer_messages += 1
            in_language.fallbacks += message.intent in FALLBACK_INTENTS
            conversation_language[conversation_id] = language  # the last one counts
            if first_in_period is None:
                first_in_period = message
                if answer is not None:
                    seconds = (answer.at - message.at).total_seconds()
                    for name in ("all", part):
                        slices[name].bot_first_response_seconds.append(seconds)

    person, handed_off_conversations, ticket_languages = _people_figures(
        tickets, since, until, now)
    handed_off = handed_off_conversations & conversations_in_period
    total = len(conversations_in_period)
    for conversation_id, language in conversation_language.items():
        by_language[language].conversations += 1
        by_language[language].handed_off += conversation_id in handed_off
    for language, count in ticket_languages.items():
        by_language.setdefault(language or default, LanguageFigures()).tickets += count
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        **{name: figures.as_json() for name, figures in slices.items()},
        "conversations": total,
        "needed_a_person": _ratio(len(handed_off), total),
        "containment": _ratio(total - len(handed_off), total),
        "volume_by_hour": {str(hour): volume_by_hour.get(hour, 0) for hour in range(24)},
        "after_hours_volume_by_hour": {
            str(hour): night_volume_by_hour.get(hour, 0) for hour in range(24)},
        "top_intents": [[name, count] for name, count in intents.most_common(10)],
        **person,
        "by_language": {code: figures.as_json() for code, figures in by_language.items()},
    }


def _people_figures(
    tickets: Iterable[TicketRow], since: datetime, until: datetime, now: datetime
) -> tuple[dict[str, object], set[str], Counter]:
    """Ticket and people figures, the conversations with a ticket, the tickets' languages."""
    first_reply: list[float] = []
    resolution: list[float] = []
    replies_to_resolution: list[int] = []
    by_reason: Counter = Counter()
    by_language: Counter = Counter()
    missed = 0
    conversations: set[str] = set()
    for ticket in tickets:
        if not since <= ticket.created_at < until:
            continue
        conversations.add(ticket.conversation_id)
        by_reason[ticket.reason] += 1
        by_language[ticket.language] += 1
        lines = [TranscriptLine.from_json(item) for item in json.loads(ticket.transcript)]
        agent_lines = [line for line in lines if line.sender == "agent"
                       and line.at >= ticket.created_at]
        if agent_lines:
            waited = (agent_lines[0].at - ticket.created_at).total_seconds()
            first_reply.append(waited)
            missed += waited > WINDOW.total_seconds()
        elif now - ticket.created_at > WINDOW:
            missed += 1
        if ticket.status == RESOLVED and ticket.handed_back_at is not None:
            resolution.append((ticket.handed_back_at - ticket.created_at).total_seconds())
            replies_to_resolution.append(len(agent_lines))
    return {
        "tickets": sum(by_reason.values()),
        "tickets_by_reason": dict(sorted(by_reason.items())),
        "person_first_response_avg_s": _round(statistics.fmean(first_reply)) if first_reply
        else None,
        "person_first_response_median_s": _round(statistics.median(first_reply)) if first_reply
        else None,
        "resolution_avg_s": _round(statistics.fmean(resolution)) if resolution else None,
        "replies_to_resolution_avg": _round(statistics.fmean(replies_to_resolution))
        if replies_to_resolution else None,
        "tickets_missed_24h_window": missed,
    }, conversations, by_language


def ticket_rows(engine: Engine) -> list[TicketRow]:
    """Every ticket (the figures pick the period's)."""
    from bot.store.database import session_scope

    with session_scope(engine) as session:
        rows = session.query(TicketRow).all()
        session.expunge_all()
        return rows
