"""How the desk writes times, waits and channels on its pages (texts, no markup, no HTTP)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.desk.web.strings import STRINGS
from bot.handoff.tickets import Ticket
from bot.messenger.channel_names import CHANNEL_NAME, COMMENT_CHANNEL


def time_shown(moment: datetime | None, zone: ZoneInfo) -> str:
    """A moment as the desk shows it, in the brand's time zone ("—" for none)."""
    return moment.astimezone(zone).strftime("%a %d %b %H:%M") if moment else "—"


def waiting(since: datetime, now: datetime) -> str:
    """How long a ticket has waited: "12 min", "3 h 05 min", "4 days"."""
    minutes = waiting_minutes(since, now)
    if minutes < 60:
        return STRINGS.waiting_minutes.format(minutes=minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return STRINGS.waiting_hours.format(hours=hours, minutes=minutes)
    return STRINGS.waiting_days.format(days=hours // 24)


def waiting_minutes(since: datetime, now: datetime) -> int:
    """Whole minutes since `since`, never negative."""
    return max(int((now - since).total_seconds() // 60), 0)


def channel_label(ticket: Ticket) -> str:
    """DM or comment for the Facebook Page, else the channel's name."""
    return {CHANNEL_NAME: STRINGS.channel_dm,
            COMMENT_CHANNEL: STRINGS.channel_comment}.get(ticket.channel, ticket.channel)
