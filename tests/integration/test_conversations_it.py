"""End to end in Italian: real Rasa server + action server, messages through the REST channel.

The stack's clock is frozen on a Wednesday at 23:00 in Rome (tests/frozen_time.py): the team
opens tomorrow at 9:00.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from bot.store import create_db_engine

pytestmark = pytest.mark.e2e

CASE = re.compile(r"#(\d+)")
ITALIAN_DAY = re.compile(r"\b(oggi|domani|ieri|lunedì|martedì|mercoledì|giovedì|venerdì|"
                         r"sabato|domenica)\b")
ENGLISH_WORDS = re.compile(
    r"\b(the|your|order number|please|shipping|working days|good news|has order)\b", re.I)


def _ticket(stack, case: str) -> dict:
    engine = create_db_engine(stack.settings.database_url)
    with engine.connect() as connection:
        return dict(connection.execute(
            text("select * from handoff_tickets where id = :id"), {"id": int(case)}
        ).mappings().one())


def test_order_with_proof_in_italian_then_a_switch_to_english(stack, sender):
    first = stack.say(sender, "ciao, dov'è il mio ordine 10023?", first_name="Anna")
    assert "CAP" in first or "e-mail" in first.lower(), first
    assert not ENGLISH_WORDS.search(first), first
    assert "BRT" not in first
    status = stack.say(sender, "20121")
    assert "10023" in status and "BRT" in status and "https://vas.brt.it" in status, status
    assert ITALIAN_DAY.search(status), status
    assert not ENGLISH_WORDS.search(status.replace("https://vas.brt.it", "")), status
    # the order is already verified in this conversation: its status again, now in English
    english = stack.say(sender, "where is my order?")
    assert ENGLISH_WORDS.search(english) or "Order 10023" in english, english
    assert not ITALIAN_DAY.search(english), english


def test_shipping_to_germany_from_the_brand_file_in_italian(stack, sender):
    reply = stack.say(sender, "quanto costa la spedizione in Germania?")
    assert "Germania" in reply and "9,90\u00a0€" in reply and "3–5" in reply, reply
    assert "60,00\u00a0€" in reply
    assert not ENGLISH_WORDS.search(reply), reply


def test_returns_and_refunds_in_italian(stack, sender):
    returns = stack.say(sender, "come faccio a fare il reso delle scarpe?")
    assert "30" in returns and "etichett" in returns, returns
    refunds = stack.say(sender, "quando mi arriva il rimborso?")
    assert "2–3 giorni lavorativi" in refunds, refunds


def test_a_person_at_night_gives_the_italian_promise_and_a_case(stack, sender):
    reply = stack.say(sender, "voglio parlare con una persona", first_name="Giulia")
    case = CASE.search(reply).group(1)
    assert "domani alle 9:00" in reply and "Giulia" in reply, reply
    ticket = _ticket(stack, case)
    assert ticket["language"] == "it" and ticket["reason"] == "human_request"


def test_a_complaint_in_italian_is_a_high_priority_case(stack, sender):
    reply = stack.say(sender, "è la terza volta che scrivo, rivoglio i miei soldi!!")
    case = CASE.search(reply).group(1)
    assert _ticket(stack, case)["priority"] in {"high", "urgent"}
    assert not ENGLISH_WORDS.search(reply), reply


def test_short_messages_keep_the_language(stack, sender):
    stack.say(sender, "ciao, vorrei sapere dove si trova il mio pacco")
    for short in ("ok", "10024"):
        reply = stack.say(sender, short)
        assert reply and not ENGLISH_WORDS.search(reply), (short, reply)


def test_a_new_conversation_starts_in_the_channel_hint_or_the_default(stack, sender):
    italian = stack.send(sender, "/nlu_fallback")
    titles = [b["title"] for b in italian[0]["buttons"]]
    assert "Talk to a person" not in titles
    english = stack.send(f"{sender}-en", "/nlu_fallback", language="en")
    assert "Talk to a person" in [b["title"] for b in english[0]["buttons"]]


def test_the_language_is_in_the_tracker(stack, sender):
    stack.say(sender, "buonasera, avete spedizioni in Svizzera?")
    slots = stack.tracker(sender)["slots"]
    assert slots["language"] == "it" and slots["language_settled"] is True
