"""Tests for bot.handoff.first_names: which display names may greet someone by name."""

from __future__ import annotations

import pytest

from actions.session import first_name_from_metadata
from bot.handoff.first_names import first_name_or_none
from bot.handoff.redaction import contains_personal_data
from bot.messenger.comments import first_name
from bot.messenger.event_types import CommentEvent

NAMES = [
    ("Mario Rossi", "Mario"),
    ("Giulia Bianchi", "Giulia"),
    ("Anna", "Anna"),
    ("Anne-Marie Dupont", "Anne-Marie"),
    ("Jean-Luc", "Jean-Luc"),
    ("D'Amico", "D'Amico"),
    ("O'Brien", "O'Brien"),
    ("Zoë", "Zoë"),
    ("Zoe\u0308 Martin", "Zoë"),  # decomposed diaeresis, as some keyboards send it
    ("José García", "José"),
    ("María José Pérez", "María"),
    ("Chloé", "Chloé"),
    ("Łukasz Nowak", "Łukasz"),
    ("Søren", "Søren"),
    ("Иван Петров", "Иван"),
    ("Maria del Carmen García López", "Maria"),
    ("Alessandro Del Piero", "Alessandro"),
    ("Mario R.", "Mario"),
    ("Mia Wong", "Mia"),
    ("Will Smith", "Will"),
    ("Al Bano", "Al"),
    ("Anna 🌸", "Anna"),
    ("  Marta  ", "Marta"),
    ("McKenzie", "McKenzie"),
    ("DeShawn", "DeShawn"),
    # capitalisation: all lower case or all capitals gets a capital letter at the start
    ("mario", "Mario"),
    ("mario rossi", "Mario"),
    ("MARIO ROSSI", "Mario"),
    ("JOSÉ", "José"),
    ("anne-marie", "Anne-Marie"),
    ("o'brien", "O'Brien"),
]

NOT_NAMES = [
    None,
    "",
    "   ",
    "mario.pii1050.1b39@postatest.it",
    "anna.rossi@example.com",
    "Anna anna@example.com",
    "+39 347 765 4321",
    "3477654321",
    "Mario Rossi 3477654321",
    "Via Roma 12",
    "RSSMRA80A01H501U",
    "ciao, quanto costa la spedizione in Germania?! I'm Nora",
    "quanto costa la spedizione",
    "dove è il mio ordine",
    "where is my order",
    "I'm Nora",
    "l'ordine",
    "👍",
    "👍👍 🎉",
    "https://x.it",
    "www.northwind.it",
    "northwind.com",
    "Shop Admin",
    "Info Northwind",
    "Test User",
    "ciao",
    "Ciao",
    "hi",
    "Hello",
    "hello there",
    "Buongiorno",
    "buonasera",
    "info",
    "admin",
    "shop",
    "test",
    "Gentile cliente",
    "Sig. Rossi",
    "Dr. Mario",
    "Mr Smith",
    "Anna2",
    "A",
    "Aaaa",
    "Ann--Marie",
    "-Anna",
    "iPhone",
    "mARIO",
    "王小明",  # no capital letters to tell a name from a sentence written without spaces
    "Wolfeschlegelsteinhausenbergerdorff",
    "Anna Rossi Bianchi Verdi Neri Gialli Blu",  # more than six words
    "x" * 500,
    "Anna!",
    "Anna?",
]


@pytest.mark.parametrize(("raw", "expected"), NAMES)
def test_a_name_gives_its_first_word_capitalised(raw, expected):
    assert first_name_or_none(raw) == expected


@pytest.mark.parametrize("raw", NOT_NAMES)
def test_anything_else_gives_no_name(raw):
    assert first_name_or_none(raw) is None


def test_a_value_that_is_not_a_string_gives_no_name():
    assert first_name_or_none(42) is None  # type: ignore[arg-type]
    assert first_name_or_none(["Anna"]) is None  # type: ignore[arg-type]


@pytest.mark.parametrize("raw", [raw for raw, _ in NAMES] + NOT_NAMES[1:])
def test_nothing_redaction_would_catch_is_ever_given(raw):
    name = first_name_or_none(raw)
    assert name is None or not contains_personal_data(name)
    assert name is None or "@" not in name and not any(c.isdigit() for c in name)


def comment_by(name: str | None) -> CommentEvent:
    return CommentEvent(
        event_id="e1", page_id="p1", conversation_id="comment:c1", timestamp=0, raw={},
        verb="add", comment_id="c1", post_id="p1_1", parent_id=None, from_id="u1",
        from_name=name, message="when?", from_page=False,
    )


def test_a_commenters_e_mail_display_name_gives_no_first_name():
    assert first_name(comment_by("mario.pii1050.1b39@postatest.it")) is None
    assert first_name(comment_by("Mario Rossi")) == "Mario"
    assert first_name(comment_by(None)) is None


def test_the_action_server_takes_only_a_first_name_from_metadata():
    assert first_name_from_metadata({"first_name": "marta"}) == "Marta"
    assert first_name_from_metadata({"name": "Anna Rossi"}) == "Anna"
    assert first_name_from_metadata({"first_name": "ciao, quanto costa?"}) is None
    assert first_name_from_metadata({"first_name": "a@b.it", "name": "Anna"}) is None
    assert first_name_from_metadata({"first_name": 7}) is None
    assert first_name_from_metadata(None) is None
