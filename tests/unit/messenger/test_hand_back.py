"""Handing a conversation back to the bot against a local stand-in for Rasa's HTTP API."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from bot.handoff.rasa_handback import PAUSE_SLOTS_CLEARED
from bot.handoff.reasons import HandoffReason
from bot.handoff.tickets import HandoffRequest, TicketService
from bot.hours import OfficeCalendar
from bot.messenger.hand_back import HandBackError, hand_back
from bot.settings import get_brand, load_settings


def _run(engine, status: int):
    tickets = TicketService(engine, OfficeCalendar.from_brand(get_brand()), timedelta(minutes=30))
    case = tickets.open_ticket(HandoffRequest(
        conversation_id="web-1", channel="webchat", reason=HandoffReason.HUMAN_REQUEST,
        transcript=[],
    )).case_number
    received: list[tuple[str, object, str]] = []

    async def events(request: web.Request) -> web.Response:
        received.append((request.match_info["id"], await request.json(),
                         request.query.get("token", "")))
        return web.json_response({}, status=status)

    async def main():
        app = web.Application()
        app.router.add_post("/conversations/{id}/tracker/events", events)
        server = TestServer(app)
        await server.start_server()
        try:
            settings = load_settings({"RASA_URL": str(server.make_url("")).rstrip("/"),
                                      "RASA_AUTH_TOKEN": "t0ken"})
            return await hand_back(settings, engine, tickets, case, "anna")
        finally:
            await server.close()

    return tickets, case, received, main


def test_the_pause_is_cleared_on_rasa_then_the_ticket_closes(engine):
    tickets, case, received, main = _run(engine, 200)
    closed = asyncio.run(main())
    assert received == [("web-1", PAUSE_SLOTS_CLEARED, "t0ken")]
    assert closed.status != "open" and closed.handed_back_by == "anna"


def test_when_rasa_refuses_the_ticket_stays_open(engine):
    tickets, case, received, main = _run(engine, 500)
    with pytest.raises(HandBackError, match="HTTP 500"):
        asyncio.run(main())
    assert tickets.get(case).status == "open"
    with pytest.raises(HandBackError, match="no case #999"):
        asyncio.run(hand_back(load_settings({}), engine, tickets, 999, "anna"))
