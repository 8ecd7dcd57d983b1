"""Messenger's messaging window: whether a message may be sent now, and with which tag.

Pure rules, no I/O. Meta lets a page answer freely for 24 hours after the customer's last
message. After that a bot must stay silent (the message is stored as undeliverable), while a
human agent may still answer for up to 7 days with the ``HUMAN_AGENT`` message tag. Past 7 days
nothing may be sent. Message tags are never put on bot messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal

HUMAN_AGENT_TAG = "HUMAN_AGENT"
STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)

Outcome = Literal["send", "undeliverable", "refused"]
Sender = Literal["bot", "agent"]


@dataclass(frozen=True)
class WindowDecision:
    """What to do with one outgoing message.

    Attributes:
        outcome: "send" (send it now), "undeliverable" (a bot message outside the 24-hour
            window: store it, do not send) or "refused" (an agent message past 7 days).
        tag: the message tag to send with it (``HUMAN_AGENT``) or None for no tag.
        reason: a short English explanation, safe to log and to show to an agent.
    """

    outcome: Outcome
    tag: str | None
    reason: str

    @property
    def allowed(self) -> bool:
        """True when the message may be sent now."""
        return self.outcome == "send"

    @property
    def undeliverable(self) -> bool:
        """True for a bot message that must be stored instead of sent."""
        return self.outcome == "undeliverable"

    @property
    def messaging_type(self) -> str:
        """The Send API `messaging_type` that goes with this decision."""
        return "MESSAGE_TAG" if self.tag else "RESPONSE"


def _aware(moment: datetime) -> datetime:
    """The datetime itself, or a naive one read as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _describe(age: timedelta) -> str:
    """An age as "2 days 3 hours" for reasons."""
    hours = int(age.total_seconds() // 3600)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days} day{'s' if days != 1 else ''} {hours} hour{'s' if hours != 1 else ''}"
    minutes = int(age.total_seconds() // 60) % 60
    return f"{hours} hour{'s' if hours != 1 else ''} {minutes} minute{'s' if minutes != 1 else ''}"


class MessagingWindow:
    """Applies the 24-hour and 7-day rules.

    Args:
        standard_window: how long after the customer's last message anyone may answer freely.
        human_agent_window: how long a person may still answer with the HUMAN_AGENT tag.
    """

    def __init__(
        self,
        standard_window: timedelta = STANDARD_WINDOW,
        human_agent_window: timedelta = HUMAN_AGENT_WINDOW,
    ) -> None:
        if human_agent_window < standard_window:
            raise ValueError("the human agent window cannot be shorter than the standard one")
        self.standard_window = standard_window
        self.human_agent_window = human_agent_window

    def decide(
        self, last_customer_message_at: datetime, now: datetime, sender: Sender
    ) -> WindowDecision:
        """Whether a message from `sender` may be sent at `now`, and with which tag.

        Args:
            last_customer_message_at: when the customer last wrote (naive values are UTC).
            now: the current time (naive values are UTC).
            sender: "bot" for the assistant, "agent" for a person of the brand.

        Returns:
            The decision. A window is open up to, not including, its end.

        Raises:
            ValueError: `sender` is neither "bot" nor "agent".
        """
        if sender not in ("bot", "agent"):
            raise ValueError(f"unknown sender {sender!r}: expected 'bot' or 'agent'")
        age = max(_aware(now) - _aware(last_customer_message_at), timedelta(0))
        since = f"the customer's last message was {_describe(age)} ago"
        if age < self.standard_window:
            return WindowDecision("send", None, f"within the 24-hour window ({since})")
        if sender == "bot":
            return WindowDecision(
                "undeliverable",
                None,
                f"outside the 24-hour window ({since}); the bot may not message the customer "
                "until they write again",
            )
        if age < self.human_agent_window:
            return WindowDecision(
                "send",
                HUMAN_AGENT_TAG,
                f"after the 24-hour window, within 7 days ({since}): sent with the "
                "HUMAN_AGENT tag",
            )
        return WindowDecision(
            "refused",
            None,
            f"more than 7 days since the customer's last message ({since}); Messenger does "
            "not allow the page to write until the customer writes again",
        )
