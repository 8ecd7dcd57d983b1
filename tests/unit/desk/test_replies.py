"""An agent's reply from the desk through the real Graph client, against the fake Graph API."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from bot.desk.agents import AgentDirectory
from bot.desk.replies import ReplyRefused, reply_to_customer, signed
from bot.handoff.reasons import HandoffReason
from bot.handoff.tickets import HandoffRequest, TicketService
from bot.hours import OfficeCalendar
from bot.messenger.threads import ThreadStore
from bot.settings import get_brand, load_settings
from bot.webchat.agent_messages import AgentMessageBox
from tests.fakes.fake_graph import DEFAULT_TOKEN, FakeGraphApi
from tests.fakes.fake_graph_server import FakeGraphServer

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def graph() -> Iterator[FakeGraphServer]:
    server = FakeGraphServer(FakeGraphApi(DEFAULT_TOKEN))
    server.start_in_thread()
    try:
        yield server
    finally:
        server.stop_thread()


def _psid() -> str:
    return f"71{uuid.uuid4().int % 10**14:014d}"


def _case(engine, psid: str, last_message_ago: timedelta, channel: str = "messenger"):
    tickets = TicketService(engine, OfficeCalendar.from_brand(get_brand()), timedelta(minutes=30))
    ticket = tickets.open_ticket(HandoffRequest(
        conversation_id=psid, channel=channel, reason=HandoffReason.COMPLAINT, transcript=[],
    ))
    ThreadStore(engine).customer_wrote(psid, "104852338912345", NOW - last_message_ago)
    agent = AgentDirectory(engine).add(f"a{psid[-6:]}", "Anna Rossi", "agent",
                                       "a long enough password", by="test")
    return tickets, ticket, agent


def _settings(graph: FakeGraphServer):
    return load_settings({
        "GRAPH_API_URL": graph.api.base_url, "PAGE_ACCESS_TOKEN": DEFAULT_TOKEN,
        "APP_SECRET": "s", "VERIFY_TOKEN": "v",
    })


def _reply(graph, engine, tickets, ticket, agent, text="We're on it"):
    return asyncio.run(reply_to_customer(_settings(graph), engine, tickets, ticket, agent, text,
                                         clock=lambda: NOW))


def _sent_to(graph: FakeGraphServer, psid: str) -> list[dict]:
    return [m for m in graph.api.sent_messages() if m["recipient"].get("id") == psid]


def test_within_24_hours_a_normal_reply_signed_with_the_first_name(graph, engine):
    psid = _psid()
    tickets, ticket, agent = _case(engine, psid, timedelta(hours=2))
    _reply(graph, engine, tickets, ticket, agent)
    (message,) = _sent_to(graph, psid)
    assert message["message"]["text"] == signed("We're on it", agent) == "We're on it\n— Anna"
    assert message["messaging_type"] == "RESPONSE" and "tag" not in message
    assert tickets.get(ticket.case_number).transcript[-1].sender == "agent"


def test_after_24_hours_the_human_agent_tag_after_7_days_refused(graph, engine):
    psid = _psid()
    tickets, ticket, agent = _case(engine, psid, timedelta(hours=30))
    _reply(graph, engine, tickets, ticket, agent)
    (message,) = _sent_to(graph, psid)
    assert message["messaging_type"] == "MESSAGE_TAG" and message["tag"] == "HUMAN_AGENT"

    late = _psid()
    tickets, ticket, agent = _case(engine, late, timedelta(days=8))
    with pytest.raises(ReplyRefused, match="7 days"):
        _reply(graph, engine, tickets, ticket, agent)
    assert _sent_to(graph, late) == []


def test_a_web_chat_reply_waits_for_the_chat_page_and_is_on_the_transcript(graph, engine):
    conversation = f"wc-{uuid.uuid4().hex[:12]}"
    tickets, ticket, agent = _case(engine, conversation, timedelta(days=9), "webchat")
    box = AgentMessageBox(engine)
    before = len(graph.api.sent_messages())
    _reply(graph, engine, tickets, ticket, agent, "Your parcel left today")
    (message,) = box.after(conversation)
    assert message.text == "Your parcel left today\n— Anna" and message.at == NOW
    assert box.after(conversation, message.id) == []
    assert box.after("wc-someone-else") == []
    assert len(graph.api.sent_messages()) == before  # nothing went to Messenger
    line = tickets.get(ticket.case_number).transcript[-1]
    assert (line.sender, line.text) == ("agent", message.text)


def test_other_channels_and_empty_replies_are_refused_clearly(graph, engine):
    tickets, ticket, agent = _case(engine, "rest-0000000003", timedelta(hours=1), "rest")
    with pytest.raises(ReplyRefused, match="rest channel cannot be delivered: only Messenger "
                                           "and web chat"):
        _reply(graph, engine, tickets, ticket, agent)
    with pytest.raises(ReplyRefused, match="empty"):
        _reply(graph, engine, tickets, ticket, agent, "   ")
    tickets.hand_back(ticket.case_number, by="test")
    with pytest.raises(ReplyRefused, match="not open"):
        _reply(graph, engine, tickets, tickets.get(ticket.case_number), agent)
