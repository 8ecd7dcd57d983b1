"""End to end: product questions answered from faq.yml, delivery problems handed to a person.

Real Rasa server and action server (the `stack` fixture of conftest.py), messages through
the REST channel, in English and Italian.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from bot.settings.brand import load_brand
from bot.settings.faq import FAQ_TOPICS, load_faq
from bot.store import create_db_engine

pytestmark = pytest.mark.e2e

CASE = re.compile(r"#(\d+)")


def _faq(stack):
    brand = load_brand(stack.settings.brand_file)
    return load_faq(stack.settings.brand_file.parent / "faq.yml", brand.languages), brand


def _ticket(stack, case: str) -> dict:
    engine = create_db_engine(stack.settings.database_url)
    with engine.connect() as connection:
        row = connection.execute(
            text("select * from handoff_tickets where id = :id"), {"id": int(case)}
        ).mappings().one()
        return dict(row)


def _open_tickets(stack, sender: str) -> list[dict]:
    engine = create_db_engine(stack.settings.database_url)
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(
            text("select * from handoff_tickets where conversation_id = :c"), {"c": sender}
        ).mappings()]


def _opening(answer: str) -> str:
    """A telling piece of an answer: its first run of three words or more between
    punctuation and placeholders (which the action fills with brand facts)."""
    pieces = (piece.strip() for piece in re.split(r"\{[^}]*\}|[:;.,()]", answer))
    return next(piece for piece in pieces if len(piece.split()) >= 3)


def _other_topics_answers(faq, topic: str, language: str) -> list[str]:
    return [_opening(faq.answer(other, language)) for other in FAQ_TOPICS
            if other != topic and faq.answer(other, language)]


def _person_offered(replies: list[dict]) -> bool:
    return any(button.get("payload") == "/human_request"
               for reply in replies for button in reply.get("buttons") or [])


def test_how_to_clean_leather_shoes_is_answered_from_the_faq_in_english(stack, sender):
    faq, brand = _faq(stack)
    reply = stack.say(sender, "how do I clean leather shoes", language="en")
    assert _opening(faq.answer("care", "en")) in reply, reply
    assert brand.contact.website in reply and "{" not in reply  # its placeholder filled
    for other in _other_topics_answers(faq, "care", "en"):
        assert other not in reply
    assert _open_tickets(stack, sender) == []  # not a complaint


def test_come_pulisco_le_scarpe_in_pelle_is_answered_in_italian(stack, sender):
    faq, _ = _faq(stack)
    reply = stack.say(sender, "come pulisco le scarpe in pelle?", language="it")
    assert _opening(faq.answer("care", "it")) in reply, reply
    assert _opening(faq.answer("care", "en")) not in reply
    assert _open_tickets(stack, sender) == []


@pytest.mark.parametrize("question", ["how do I waterproof my boots",
                                      "what polish should I use"])
def test_care_near_misses_are_care_not_a_complaint_or_the_order_form(stack, sender, question):
    faq, _ = _faq(stack)
    reply = stack.say(sender, question, language="en")
    assert _opening(faq.answer("care", "en")) in reply, reply
    assert "order number" not in reply.lower()
    assert _open_tickets(stack, sender) == []


def test_a_question_without_an_answer_offers_a_person_and_never_another_answer(stack, sender):
    faq, _ = _faq(stack)
    assert faq.answer("availability", "en") is None  # the demo brand gives none
    replies = stack.send(sender, "when will you restock the brown loafers in a 42?",
                         language="en")
    said = "\n".join(r.get("text", "") for r in replies)
    assert _person_offered(replies), replies
    assert "person" in said
    for other in _other_topics_answers(faq, "availability", "en"):
        assert other not in said
    assert _open_tickets(stack, sender) == []  # offered, not opened
    handoff = stack.say(sender, "/human_request")
    case = CASE.search(handoff).group(1)
    assert _ticket(stack, case)["reason"] == "human_request"


def test_a_question_without_an_answer_in_italian_offers_a_person(stack, sender):
    faq, _ = _faq(stack)
    replies = stack.send(sender, "quando tornano disponibili i mocassini marroni nel 42?",
                         language="it")
    said = "\n".join(r.get("text", "") for r in replies)
    assert _person_offered(replies), replies
    assert "persona" in said
    titles = [b["title"] for r in replies for b in r.get("buttons") or []]
    assert "Parla con una persona" in titles
    for other in _other_topics_answers(faq, "availability", "it"):
        assert other not in said
    # a typed yes to the offer is the person asked for
    handoff = stack.say(sender, "sì per favore")
    case = CASE.search(handoff).group(1)
    assert _ticket(stack, case)["reason"] == "human_request"


def test_a_delivery_problem_is_a_ticket_with_its_order_number(stack, sender):
    reply = stack.say(sender, "hi, it's about my order 10031, it never arrived",
                      first_name="Anna")
    case = CASE.search(reply).group(1)
    ticket = _ticket(stack, case)
    assert ticket["reason"] == "delivery_problem" and ticket["order_number"] == "10031"
    assert ticket["priority"] == "high" and ticket["language"] == "en"
    assert "Delivery problem" in ticket["summary"]
    assert "didn't quite get that" not in reply and "postcode" not in reply


def test_sizes_beside_the_order_number_are_not_the_order_number(stack, sender):
    reply = stack.say(sender, "order 10027: I ordered a 38 and you sent me a 39",
                      language="en")
    case = CASE.search(reply).group(1)
    ticket = _ticket(stack, case)
    assert ticket["reason"] == "delivery_problem" and ticket["order_number"] == "10027"
    assert stack.tracker(sender)["slots"]["order_number"] == "10027"


def test_a_damaged_parcel_in_italian_is_a_ticket_with_its_order_number(stack, sender):
    reply = stack.say(sender, "il pacco 10040 è arrivato rovinato", language="it")
    case = CASE.search(reply).group(1)
    ticket = _ticket(stack, case)
    assert ticket["reason"] == "delivery_problem" and ticket["order_number"] == "10040"
    assert ticket["language"] == "it" and "#" + case in reply


def test_a_missing_shoe_is_a_delivery_problem(stack, sender):
    reply = stack.say(sender, "manca una scarpa nel pacco", language="it")
    case = CASE.search(reply).group(1)
    assert _ticket(stack, case)["reason"] == "delivery_problem"


def test_out_of_scope_offers_a_person_in_both_languages(stack, sender):
    english = stack.send(sender, "what's the weather like in Rome tomorrow?", language="en")
    assert _person_offered(english), english
    handoff = stack.say(sender, "yes")
    assert CASE.search(handoff), handoff
    italian = stack.send(sender + "-it", "che tempo fa domani a Milano?", language="it")
    assert _person_offered(italian), italian
