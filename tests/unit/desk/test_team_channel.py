"""Transcripts of new tickets to a local chat webhook receiver and a local SMTP server."""

from __future__ import annotations

import asyncio
import asyncore
import email
import smtpd
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from sqlalchemy import select

from bot.desk.team_channel import MAX_ATTEMPTS, TeamChannel, message_for
from bot.handoff.reasons import HandoffReason
from bot.handoff.tickets import HandoffRequest, TicketService, TranscriptLine
from bot.hours import OfficeCalendar
from bot.settings import TeamChannelSettings, get_brand
from bot.store import TranscriptDeliveryRow

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)


class _Mailbox(smtpd.SMTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), None)
        self.messages: list[email.message.Message] = []

    def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):  # noqa: ANN001
        self.messages.append(email.message_from_bytes(data))


@pytest.fixture()
def mailbox() -> Iterator[_Mailbox]:
    server = _Mailbox()
    thread = threading.Thread(target=asyncore.loop, kwargs={"timeout": 0.1}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.close()
        thread.join(5)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def _ticket(engine):
    tickets = TicketService(engine, OfficeCalendar.from_brand(get_brand()), timedelta(minutes=30))
    ticket = tickets.open_ticket(HandoffRequest(
        conversation_id="psid-9", channel="messenger", reason=HandoffReason.COMPLAINT,
        customer_name="Piera", order_number="10023",
        transcript=[TranscriptLine(
            "customer", "Broken heel! write me at piera.v@example.org or +39 333 1234567", NOW)],
    ))
    return tickets, ticket


def test_what_leaves_the_product_is_redacted_and_links_to_the_desk(engine):
    _, ticket = _ticket(engine)
    subject, body = message_for(ticket, "https://desk.example")
    assert subject == f"Case #{ticket.case_number}: complaint (high)"
    assert "piera.v@example.org" not in body and "1234567" not in body
    assert f"https://desk.example/tickets/{ticket.case_number}" in body
    assert body.splitlines()[1] == "Language: English (EN)"


def test_the_message_says_the_tickets_language(engine):
    tickets = TicketService(engine, OfficeCalendar.from_brand(get_brand()), timedelta(minutes=30))
    ticket = tickets.open_ticket(HandoffRequest(
        conversation_id="psid-10", channel="messenger", reason=HandoffReason.HUMAN_REQUEST,
        language="it", transcript=[TranscriptLine("customer", "Vorrei parlare con qualcuno", NOW)],
    ))
    _, body = message_for(ticket, "https://desk.example")
    assert body.splitlines()[1] == "Language: Italian (IT)"


def test_transcripts_reach_the_webhook_and_the_mailbox_once(engine, mailbox):
    tickets, ticket = _ticket(engine)
    received: list[dict] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.Response(text="ok")

    async def main():
        app = web.Application()
        app.router.add_post("/hook", hook)
        server = TestServer(app)
        await server.start_server()
        try:
            team = TeamChannel(engine, tickets, TeamChannelSettings(
                webhook_url=str(server.make_url("/hook")), support_email="support@brand.example",
                smtp_host="127.0.0.1", smtp_port=mailbox.socket.getsockname()[1],
            ), "https://desk.example")
            assert team.targets == ["webhook", "email"]
            assert team.enqueue_new_tickets() == 2
            assert team.enqueue_new_tickets() == 0  # never twice
            return await team.send_due()
        finally:
            await server.close()

    assert asyncio.run(main()) == {"sent": 2, "failed": 0}
    assert len(received) == 1 and f"Case #{ticket.case_number}" in received[0]["text"]
    for _ in range(50):
        if mailbox.messages:
            break
        threading.Event().wait(0.1)
    (mail,) = mailbox.messages
    assert mail["To"] == "support@brand.example"
    assert "piera.v@example.org" not in mail.get_payload()
    with engine.connect() as connection:
        statuses = connection.execute(select(TranscriptDeliveryRow.status)).scalars().all()
    assert statuses == ["sent", "sent"]


def test_a_failing_webhook_is_retried_with_pauses_then_given_up_and_the_ticket_stays(engine):
    tickets, ticket = _ticket(engine)
    clock = Clock()
    calls: list[int] = []

    async def broken(_: web.Request) -> web.Response:
        calls.append(1)
        return web.Response(status=500)

    async def main():
        app = web.Application()
        app.router.add_post("/hook", broken)
        server = TestServer(app)
        await server.start_server()
        try:
            team = TeamChannel(engine, tickets,
                               TeamChannelSettings(webhook_url=str(server.make_url("/hook"))),
                               "https://desk.example", clock)
            team.enqueue_new_tickets()
            results = [await team.send_due()]
            results.append(await team.send_due())  # too soon: no new try
            for _ in range(MAX_ATTEMPTS):
                clock.now += timedelta(hours=1)
                results.append(await team.send_due())
            return results
        finally:
            await server.close()

    results = asyncio.run(main())
    assert results[1] == {"sent": 0, "failed": 0}
    assert len(calls) == MAX_ATTEMPTS
    with engine.connect() as connection:
        row = connection.execute(select(TranscriptDeliveryRow)).one()
    assert row.status == "failed" and row.attempts == MAX_ATTEMPTS
    assert row.last_error == "RuntimeError: the webhook answered HTTP 500"
    assert tickets.get(ticket.case_number).status == "open"


def test_nothing_configured_nothing_queued(engine):
    tickets, _ = _ticket(engine)
    assert TeamChannel(engine, tickets, TeamChannelSettings(), "x").enqueue_new_tickets() == 0
