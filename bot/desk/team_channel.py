"""New tickets' transcripts to the team's private channel: a chat webhook and/or e-mail.

The desk always shows a ticket; this is the extra nudge for the morning shift. What leaves
the product here is redacted (no e-mail addresses, phone numbers, card or order data in the
clear): the full conversation stays on the desk, for logged-in agents only.

Every ticket gets one delivery row per configured target, so sending is recorded (what,
when, how many tries, the last error) and retried with a growing pause; a delivery that
keeps failing is marked 'failed' after MAX_ATTEMPTS, and the ticket is never touched.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage

import aiohttp
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from bot.handoff.redaction import redact
from bot.handoff.tickets import Ticket, TicketService
from bot.language.names import language_name
from bot.settings import TeamChannelSettings
from bot.store.tables import TicketRow, TranscriptDeliveryRow

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
RETRY_AFTER = timedelta(seconds=30)
"""The pause before the second try; it doubles with each failure."""

_DELIVERIES = TranscriptDeliveryRow.__table__
_TICKETS = TicketRow.__table__


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def message_for(ticket: Ticket, desk_url: str) -> tuple[str, str]:
    """The subject and the redacted text that leave the product for one ticket.

    The text says the conversation's language, so the shift knows who can answer it.
    """
    subject = (f"Case #{ticket.case_number}: {ticket.reason.value.replace('_', ' ')} "
               f"({ticket.priority.value})")
    transcript = "\n".join(f"{line.sender}: {redact(line.text)}" for line in ticket.transcript)
    language = f"Language: {language_name(ticket.language)} ({ticket.language.upper()})"
    body = (f"{subject}\n{language}\n{redact(ticket.summary)}\n\n"
            f"{transcript or '(no messages)'}\n\n"
            f"Open it on the desk: {desk_url}/tickets/{ticket.case_number}")
    return subject, body


class TeamChannel:
    """Queues and sends transcripts of new tickets.

    Args:
        engine: the product database.
        tickets: the tickets to read.
        team: where to send (`TeamChannelSettings`).
        desk_url: the desk's address, for the link in each message.
        clock: the current aware time; for tests.
    """

    def __init__(
        self,
        engine: Engine,
        tickets: TicketService,
        team: TeamChannelSettings,
        desk_url: str,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._engine = engine
        self._tickets = tickets
        self._team = team
        self._desk_url = desk_url
        self._clock = clock

    @property
    def targets(self) -> list[str]:
        """The configured targets: "webhook" and/or "email"."""
        found = []
        if self._team.webhook_url:
            found.append("webhook")
        if self._team.email_configured:
            found.append("email")
        return found

    def enqueue_new_tickets(self) -> int:
        """Adds a delivery per target for each ticket that has none yet; how many."""
        targets = self.targets
        if not targets:
            return 0
        now = self._clock()
        added = 0
        with self._engine.begin() as connection:
            for target in targets:
                known = select(_DELIVERIES.c.ticket_id).where(_DELIVERIES.c.target == target)
                new = connection.execute(
                    select(_TICKETS.c.id).where(_TICKETS.c.id.not_in(known))
                ).scalars().all()
                for ticket_id in new:
                    connection.execute(_DELIVERIES.insert().values(
                        ticket_id=ticket_id, target=target, status="pending", attempts=0,
                        created_at=now, updated_at=now))
                    added += 1
        return added

    async def send_due(self) -> dict[str, int]:
        """Tries every pending delivery whose pause is over; counts of sent and failed."""
        now = self._clock()
        with self._engine.connect() as connection:
            due = connection.execute(
                select(_DELIVERIES).where(_DELIVERIES.c.status == "pending")
                .order_by(_DELIVERIES.c.id)
            ).all()
        counts = {"sent": 0, "failed": 0}
        for row in due:
            if row.attempts and now < row.updated_at + RETRY_AFTER * 2 ** (row.attempts - 1):
                continue
            ticket = self._tickets.get(row.ticket_id)
            error = await self._send(row.target, ticket)
            attempts = row.attempts + 1
            if error is None:
                status = "sent"
                counts["sent"] += 1
            else:
                status = "failed" if attempts >= MAX_ATTEMPTS else "pending"
                counts["failed"] += 1
                logger.warning("transcript of case #%s to %s not sent (try %s): %s",
                               ticket.case_number, row.target, attempts, error)
            with self._engine.begin() as connection:
                connection.execute(update(_DELIVERIES).where(_DELIVERIES.c.id == row.id).values(
                    status=status, attempts=attempts, last_error=error,
                    updated_at=self._clock()))
        return counts

    async def run_forever(self, every_seconds: float = 10) -> None:
        """The desk's background loop: queue new tickets, send what is due."""
        while True:
            try:
                self.enqueue_new_tickets()
                await self.send_due()
            except Exception as error:  # noqa: BLE001 - the loop must outlive a bad moment
                logger.error("team channel loop: %s", type(error).__name__)
            await asyncio.sleep(every_seconds)

    async def _send(self, target: str, ticket: Ticket) -> str | None:
        """Sends one transcript; the error (without personal data), or None when sent."""
        subject, body = message_for(ticket, self._desk_url)
        try:
            if target == "webhook":
                await self.post_webhook(body)
            else:
                await asyncio.to_thread(self.send_email, subject, body)
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
            # the name only: a webhook URL is a secret, and client errors may quote it
            return type(error).__name__
        except (smtplib.SMTPException, RuntimeError) as error:
            return f"{type(error).__name__}: {str(error)[:200]}"
        return None

    async def post_webhook(self, text: str) -> None:
        """Posts `text` to the team's webhook (also for messages that are not about a case).

        Raises:
            RuntimeError: the webhook answered with an error status.
        """
        assert self._team.webhook_url is not None
        timeout = aiohttp.ClientTimeout(total=15)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            async with session.post(self._team.webhook_url, json={"text": text}) as answer:
                if answer.status >= 300:
                    raise RuntimeError(f"the webhook answered HTTP {answer.status}")

    def send_email(self, subject: str, body: str) -> None:
        """Mails the team's support address (also for messages that are not about a case)."""
        team = self._team
        assert team.smtp_host is not None and team.support_email is not None
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = team.smtp_from
        message["To"] = team.support_email
        message.set_content(body)
        with smtplib.SMTP(team.smtp_host, team.smtp_port, timeout=15) as smtp:
            if team.smtp_starttls:
                smtp.starttls()
            if team.smtp_user and team.smtp_password:
                smtp.login(team.smtp_user, team.smtp_password)
            smtp.send_message(message)
