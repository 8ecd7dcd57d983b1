"""MessengerOutput and agent replies with the real Graph client against the fake Graph API."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest

from bot.messenger.agent_reply import send_agent_reply
from bot.messenger.graph_client import GraphClient
from bot.messenger.outbox import OutboxLog
from bot.messenger.output import MessengerOutput
from bot.messenger.send_ledger import SendLedger
from bot.messenger.threads import ThreadOwner, ThreadStore
from tests.fakes.fake_graph import FakeGraphApi
from tests.fakes.fake_graph_server import FakeGraphServer

TOKEN = "page-token-123"
PSID = "6543219876543210"
NOW = datetime(2026, 11, 22, 23, 0, tzinfo=timezone.utc)


def run(scenario):
    """Runs `scenario(client, api)` against the fake on loopback; returns its result."""
    api = FakeGraphApi(TOKEN)

    async def main():
        async with FakeGraphServer(api) as base_url:
            client = GraphClient(base_url, TOKEN, backoff_seconds=0.01, max_attempts=2)
            try:
                return await scenario(client, api)
            finally:
                await client.close()

    return asyncio.run(main())


def output(client, engine, last_message_ago: timedelta | None, sender="bot"):
    last = None if last_message_ago is None else NOW - last_message_ago
    return MessengerOutput(client, PSID, last, OutboxLog(engine, lambda: NOW), sender=sender,
                           clock=lambda: NOW)


def test_rasa_messages_become_messenger_messages(engine):
    async def scenario(client, api):
        out = output(client, engine, timedelta(minutes=1))
        await out.send_response(PSID, {"text": "Hello there"})
        await out.send_response(PSID, {"text": "Pick one", "buttons": [
            {"title": "Shipping", "payload": "/shipping_info"},
            {"title": "A title far longer than twenty", "payload": "/returns_info"}]})
        await out.send_response(PSID, {"text": "Track it", "buttons": [
            {"title": "Open", "url": "https://track.example/1"}]})
        await out.send_response(PSID, {"custom": {"order_card": {
            "title": "Order 10023", "subtitle": "With BRT", "tracking_url": "https://t.example/9",
            "button_title": "Track order"}}})
        await out.send_response(PSID, {"custom": {"something": "else"}})
        await out.send_response(PSID, {"image": "https://img.example/a.png"})
        return out, api.sent_messages()

    out, sent = run(scenario)
    assert out.sent == 5 and out.failures == 0
    assert sent[0]["message"] == {"text": "Hello there"}
    replies = sent[1]["message"]["quick_replies"]
    assert [r["payload"] for r in replies] == ["/shipping_info", "/returns_info"]
    assert len(replies[1]["title"]) <= 20
    assert sent[2]["message"]["attachment"]["payload"]["template_type"] == "button"
    card = sent[3]["message"]["attachment"]["payload"]
    assert card["template_type"] == "generic"
    assert card["elements"][0]["buttons"][0]["url"] == "https://t.example/9"
    assert sent[4]["message"]["attachment"] == {
        "type": "image", "payload": {"url": "https://img.example/a.png"}}
    assert all(m["messaging_type"] == "RESPONSE" and "tag" not in m for m in sent)
    statuses = [e.status for e in OutboxLog(engine).for_conversation(PSID)]
    assert statuses == ["sent"] * 5


def test_bot_messages_after_24_hours_are_stored_not_sent(engine, fresh_metrics):
    async def scenario(client, api):
        out = output(client, engine, timedelta(hours=24, seconds=1))
        await out.send_text_message(PSID, "Your order shipped")
        return out, api.calls

    out, calls = run(scenario)
    assert calls == [] and out.sent == 0 and out.held_back == 1
    [entry] = OutboxLog(engine).for_conversation(PSID)
    assert entry.status == "undeliverable" and entry.tag is None
    assert fresh_metrics.sample("nightdesk_send_failures_total", {"kind": "undeliverable"}) == 1
    assert entry.body == {"text": "Your order shipped"} and "24-hour" in entry.reason


@pytest.mark.parametrize(
    ("ago", "sent", "tag"),
    [
        (timedelta(hours=2), True, None),
        (timedelta(days=3), True, "HUMAN_AGENT"),
        (timedelta(days=6, hours=23), True, "HUMAN_AGENT"),
        (timedelta(days=7, minutes=1), False, None),
    ],
)
def test_agent_replies_follow_the_24_hour_and_7_day_rules(engine, ago, sent, tag):
    threads = ThreadStore(engine, lambda: NOW)
    threads.customer_wrote(PSID, "page-1", NOW - ago)

    async def scenario(client, api):
        result = await send_agent_reply(
            client, threads, OutboxLog(engine, lambda: NOW), PSID, "Hi, Marta here",
            clock=lambda: NOW,
        )
        return result, api.sent_messages()

    result, messages = run(scenario)
    assert result.sent is sent
    if sent:
        [message] = messages
        assert message.get("tag") == tag
        assert message["messaging_type"] == ("MESSAGE_TAG" if tag else "RESPONSE")
    else:
        assert messages == [] and "7 days" in result.reason
        [entry] = OutboxLog(engine).for_conversation(PSID)
        assert entry.status == "refused"


def test_a_send_that_finally_fails_is_counted_and_recorded_without_raising(engine, fresh_metrics):
    async def scenario(client, api):
        api.fail_next(2, 500)  # both attempts of the first message
        out = output(client, engine, timedelta(minutes=5))
        await out.send_text_message(PSID, "Your parcel")
        await out.send_text_message(PSID, "Second message")
        return out

    out = run(scenario)
    assert out.failures == 1 and out.sent == 1
    entries = OutboxLog(engine).for_conversation(PSID)
    assert [e.status for e in entries] == ["failed", "sent"]
    assert "Your parcel" not in (entries[0].reason or "")
    assert fresh_metrics.sample("nightdesk_send_failures_total", {"kind": "failed"}) == 1
    assert fresh_metrics.sample("nightdesk_send_failures_total", {"kind": "refused"}) == 0


def test_thread_state(engine):
    threads = ThreadStore(engine, lambda: NOW)
    assert threads.get(PSID) is None
    assert threads.customer_wrote(PSID, "page-1", NOW) == threads.get(PSID)
    older = threads.customer_wrote(PSID, "page-1", NOW - timedelta(hours=1))  # an older event
    assert older.last_customer_message_at == NOW and older == threads.get(PSID)
    assert threads.set_owner(PSID, "page-1", ThreadOwner.PERSON, "263902037430900")
    assert not threads.set_owner(PSID, "page-1", ThreadOwner.PERSON, "263902037430900")
    assert threads.get(PSID).owner is ThreadOwner.PERSON
    assert threads.customer_wrote(PSID, "page-1", NOW).owner is ThreadOwner.PERSON


# --- exactly once across crashes ------------------------------------------------------


def ledgered(client, engine, event_id: str, again: bool) -> MessengerOutput:
    return MessengerOutput(client, PSID, NOW - timedelta(minutes=1), OutboxLog(engine, lambda: NOW),
                           clock=lambda: NOW, ledger=SendLedger(engine), event_id=event_id,
                           again=again)


def answer() -> list[dict]:
    """One answer of three messages (Rasa's send_response consumes the dicts it is given)."""
    return [{"text": "Hello there"}, {"text": "Your order 10023 is on its way"},
            {"text": "Anything else?", "buttons": [{"title": "No", "payload": "/deny"}]}]


def test_an_answer_computed_again_after_a_crash_sends_only_what_was_not_sent(engine):
    async def scenario(client, api):
        first = ledgered(client, engine, "m_crash", again=False)
        for message in answer()[:2]:
            await first.send_response(PSID, message)  # then the process dies
        again = ledgered(client, engine, "m_crash", again=True)
        for message in answer():
            await again.send_response(PSID, message)
        return again, [m["message"].get("text") for m in api.sent_messages()]

    again, sent = run(scenario)
    assert sent == ["Hello there", "Your order 10023 is on its way", "Anything else?"]
    assert (again.skipped, again.sent) == (2, 1)
    assert [r.status for r in SendLedger(engine).for_event("m_crash")] == ["sent"] * 3


def test_a_first_try_never_skips_even_when_another_event_said_the_same(engine):
    async def scenario(client, api):
        for event_id in ("m_1", "m_2"):
            out = ledgered(client, engine, event_id, again=False)
            await out.send_response(PSID, answer()[0])
        return api.sent_messages()

    assert len(run(scenario)) == 2


def test_a_message_cut_off_by_a_crash_is_resent_only_if_graph_does_not_show_it(engine):
    async def scenario(client, api):
        ledger = SendLedger(engine)
        # the process died after Graph took the first message and before it was recorded
        ledger.begin("m_landed", 0, "Hello there")
        async with GraphClient(api.base_url, TOKEN) as before_the_crash:
            await before_the_crash.send_text(PSID, "Hello there")
        # and, for another event, before the call reached Graph
        ledger.begin("m_lost", 0, "Where can I help?")
        for event_id in ("m_landed", "m_lost"):
            again = ledgered(client, engine, event_id, again=True)
            # computed again, the answer picks other variations of the same responses
            await again.send_response(PSID, {"text": "Hi!" if event_id == "m_landed"
                                             else "How can I help?"})
        return [m["message"].get("text") for m in api.sent_messages()]

    assert run(scenario) == ["Hello there", "How can I help?"]
    assert SendLedger(engine).get("m_landed", 0).status == "sent"


def test_the_answer_waits_for_the_seen_mark_and_typing_bubble_sent_beside_it(engine):
    """The processor sends `mark_seen` and `typing_on` while Rasa works; however late they
    are, the customer gets them before the answer, never a typing bubble after it."""
    async def scenario(client, api):
        async def presence():
            await asyncio.sleep(0.2)  # Graph slow to take the sender actions
            await client.sender_action(PSID, "mark_seen")
            await client.sender_action(PSID, "typing_on")

        out = MessengerOutput(client, PSID, NOW - timedelta(minutes=1),
                              OutboxLog(engine, lambda: NOW), clock=lambda: NOW,
                              before_sending=asyncio.ensure_future(presence()))
        await out.send_response(PSID, {"text": "Your order has shipped."})
        await out.send_response(PSID, {"text": "Anything else?"})
        return [call.json.get("sender_action") or call.json["message"]["text"]
                for call in api.calls_to("me/messages")]

    assert run(scenario) == ["mark_seen", "typing_on", "Your order has shipped.",
                             "Anything else?"]
