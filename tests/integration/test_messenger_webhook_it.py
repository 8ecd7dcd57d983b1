"""The Messenger webhook in Italian: Meta's payload shapes, the local fake Graph API.

DMs and public comments written in Italian are answered in Italian; the order flow goes
through in Italian, and a customer who changes language is followed.
"""

from __future__ import annotations

import re

import pytest

from tests import messenger_payloads as payloads
from tests.fakes.fake_graph import FakeGraphApi
from tests.integration.test_messenger_webhook import (
    DOMAIN,
    comment,
    comment_id,
    deliver,
    replies_to_comment,
    texts_to,
    ticket_for,
    wait_until,
)

pytestmark = pytest.mark.e2e


def _variations(name: str, language: str) -> list[re.Pattern[str]]:
    """The variations of response `name` in `language` (placeholders as wildcards)."""
    found = []
    for variation in DOMAIN[name]:
        conditions = {c["name"]: c["value"] for c in variation.get("condition") or []}
        if "text" in variation and conditions.get("language", "en") == language:
            found.append(re.compile(
                re.sub(r"\\\{\w+\\\}", ".*", re.escape(variation["text"])) + "$", re.S))
    return found


def said_in(texts: list[str], name: str, language: str) -> bool:
    """Whether one of `texts` is a `language` variation of response `name`."""
    return any(p.match(t) for t in texts for p in _variations(name, language))


def answers(graph: FakeGraphApi, psid: str, count: int, what: str) -> list[str]:
    return wait_until(lambda: texts_to(graph, psid)[count:] or None, what=what)


def test_an_italian_order_conversation_through_the_webhook(stack, fake_graph):
    psid = payloads.new_psid()
    deliver(stack, payloads.dm("ciao, dov'è il mio ordine 10023?", psid))
    asked = answers(fake_graph, psid, 0, "the proof question")
    assert said_in(asked, "utter_ask_proof", "it"), asked
    deliver(stack, payloads.dm("20121", psid, payloads.now_ms() + 1))
    status = answers(fake_graph, psid, len(texts_to(fake_graph, psid)), "the status")
    joined = "\n".join(status)
    assert "BRT" in joined and "10023" in joined, status
    assert said_in(status, "utter_order_shipped", "it") or \
        any(said_in(status, name, "it") for name in DOMAIN if name.startswith("utter_order_"))
    seen = len(texts_to(fake_graph, psid))
    deliver(stack, payloads.dm("thanks! and how long does shipping to Spain take?", psid,
                               payloads.now_ms() + 2))
    english = answers(fake_graph, psid, seen, "the English answer")
    assert said_in(english, "utter_shipping_country", "en"), english


def test_a_person_at_night_in_italian_through_the_webhook(stack, fake_graph):
    psid = payloads.new_psid()
    deliver(stack, payloads.dm("buonasera, vorrei parlare con un operatore", psid))
    texts = wait_until(lambda: len(texts_to(fake_graph, psid)) >= 2 and texts_to(fake_graph, psid),
                       what="the handoff answers")
    assert said_in(texts, "utter_handoff_after_hours", "it"), texts
    assert any("domani alle 9:00" in t for t in texts), texts
    ticket = wait_until(lambda: ticket_for(stack, psid), what="the ticket")
    assert ticket["language"] == "it"


def test_an_italian_comment_gets_italian_public_and_private_replies(stack, fake_graph):
    body = comment("Ho ordinato due settimane fa e non è ancora arrivato niente, quando "
                   "spedite gli stivali?", name="Giulia Bianchi")
    cid = comment_id(body)
    deliver(stack, body)
    wait_until(lambda: all(replies_to_comment(fake_graph, cid)), what="both replies")
    public, private = replies_to_comment(fake_graph, cid)
    assert said_in(public, "utter_comment_public_reply", "it"), public
    assert "Giulia" in public[0] and "Bianchi" not in public[0]
    assert said_in(private, "utter_comment_private_reply", "it"), private


def test_an_english_comment_still_gets_english_replies(stack, fake_graph):
    body = comment("Ordered two weeks ago and nothing came yet, when do the boots ship?")
    cid = comment_id(body)
    deliver(stack, body)
    wait_until(lambda: all(replies_to_comment(fake_graph, cid)), what="both replies")
    public, _ = replies_to_comment(fake_graph, cid)
    assert said_in(public, "utter_comment_public_reply", "en"), public
