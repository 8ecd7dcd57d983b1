"""The holding message: when the bot is down, or a message is quarantined, a waiting customer
is told once, in their language, and a person gets the case.

The real Graph client talks to the fake Graph API on loopback; tickets, inbox, outbox and
threads are the real stores.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import yaml

from bot.handoff.reasons import HandoffReason
from bot.handoff.tickets import TicketService
from bot.hours import OfficeCalendar
from bot.language import LanguageDetector
from bot.messenger.events import parse_webhook
from bot.messenger.graph_client import GraphClient
from bot.messenger.holding import HoldingReplies, HoldingWatch
from bot.messenger.inbox import Inbox
from bot.messenger.outbox import OutboxLog
from bot.messenger.threads import ThreadStore
from tests.conftest import PROJECT_DIR
from tests.fakes.fake_graph import FakeGraphApi
from tests.fakes.fake_graph_server import FakeGraphServer
from tests.messenger_payloads import dm, fresh, new_psid

TOKEN = "page-token-123"
NIGHT = datetime(2026, 12, 2, 22, 0, tzinfo=timezone.utc)  # Wednesday 23:00 in Rome
RESPONSES = yaml.safe_load((PROJECT_DIR / "domain.yml").read_text(encoding="utf-8"))["responses"]


def at_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def run(engine, brand, wording, scenario):
    """Runs `scenario(holding, api)` with real stores and the fake Graph API."""
    api = FakeGraphApi(TOKEN)

    async def main():
        async with FakeGraphServer(api) as base_url:
            graph = GraphClient(base_url, TOKEN, backoff_seconds=0.01, max_attempts=2)
            holding = HoldingReplies(
                brand=brand, wording=wording, responses=RESPONSES,
                tickets=TicketService(engine, OfficeCalendar.from_brand(brand),
                                      timedelta(minutes=15), clock=lambda: NIGHT),
                graph=graph, outbox=OutboxLog(engine, lambda: NIGHT),
                threads=ThreadStore(engine), language_of=LanguageDetector(brand.languages)
                .language_of, clock=lambda: NIGHT,
            )
            try:
                return await scenario(holding, api)
            finally:
                await graph.close()

    return asyncio.run(main())


def test_a_waiting_customer_is_told_once_in_their_language_and_gets_a_case(
    engine, brand, wording
):
    psid = new_psid()
    (first,) = parse_webhook(dm("buonasera, dov'è il mio ordine? non è ancora arrivato", psid,
                                at_ms(NIGHT - timedelta(minutes=2))))
    (second,) = parse_webhook(dm("c'è qualcuno?", psid, at_ms(NIGHT - timedelta(minutes=1))))

    async def scenario(holding, api):
        ticket = await holding.hold(first, HandoffReason.BOT_UNAVAILABLE)
        again = await holding.hold(second, HandoffReason.BOT_UNAVAILABLE)
        case = holding.tickets.open_for_conversation(psid)
        return ticket, again, case, api.sent_messages()

    ticket, again, case, sent = run(engine, brand, wording, scenario)
    assert ticket is not None and again is None
    assert case.reason is HandoffReason.BOT_UNAVAILABLE and case.language == "it"
    assert [line.text for line in case.transcript] == [
        "buonasera, dov'è il mio ordine? non è ancora arrivato", "c'è qualcuno?"]
    (message,) = sent  # one holding message, never a second
    text = message["message"]["text"]
    assert message["recipient"] == {"id": psid}
    assert f"#{ticket.case_number}" in text
    assert "domani alle 9:00" in text  # Thursday 9:00 in Rome, phrased in Italian


def test_an_english_customer_is_told_in_english(engine, brand, wording):
    psid = new_psid()
    (event,) = parse_webhook(dm("hi, where is my parcel? it has not arrived yet", psid,
                                at_ms(NIGHT - timedelta(minutes=2))))

    async def scenario(holding, api):
        await holding.hold(event, HandoffReason.UNPROCESSABLE_MESSAGE)
        return api.sent_messages()

    (message,) = run(engine, brand, wording, scenario)
    assert "tomorrow at 9:00" in message["message"]["text"]


def test_a_quarantined_comment_goes_to_a_person_without_a_public_word(engine, brand, wording):
    (comment,) = parse_webhook(fresh("comment_customer", new_psid(), at_ms(NIGHT)))

    async def scenario(holding, api):
        ticket = await holding.hold(comment, HandoffReason.UNPROCESSABLE_MESSAGE)
        return ticket, api.calls

    ticket, calls = run(engine, brand, wording, scenario)
    assert ticket is not None and ticket.channel == "messenger_comment"
    assert calls == []


def test_the_watch_tells_waiting_customers_only_while_the_bot_is_down(engine, brand, wording):
    inbox = Inbox(engine, clock=lambda: NIGHT - timedelta(minutes=5))
    waiting, fresh_psid = new_psid(), new_psid()
    inbox.store(parse_webhook(dm("where is my order 10023?", waiting,
                                 at_ms(NIGHT - timedelta(minutes=5)))))
    newer = Inbox(engine, clock=lambda: NIGHT - timedelta(seconds=10))
    newer.store(parse_webhook(dm("hello?", fresh_psid, at_ms(NIGHT - timedelta(seconds=10)))))
    down = {"value": False}

    async def ready() -> bool:
        return not down["value"]

    async def scenario(holding, api):
        watch = HoldingWatch(inbox, holding, ready, timedelta(seconds=60), clock=lambda: NIGHT)
        told_while_up = await watch.check_once()
        down["value"] = True
        told = await watch.check_once()
        told_again = await watch.check_once()
        return told_while_up, told, told_again, api.sent_messages()

    told_while_up, told, told_again, sent = run(engine, brand, wording, scenario)
    assert (told_while_up, told, told_again) == (0, 1, 0)
    assert [message["recipient"]["id"] for message in sent] == [waiting]
    # the events stay pending: the bot answers them itself once it is back
    assert inbox.pending_conversations() == [waiting, fresh_psid]
