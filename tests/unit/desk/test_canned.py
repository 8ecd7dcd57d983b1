"""Canned replies: the brand's file is checked (every reply in every brand language), a reply
is filled for one ticket, and the ticket's language is offered first."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.desk.canned import (
    CannedRepliesError,
    CannedReply,
    load_canned_replies,
    offered_first,
    pick,
)
from bot.settings import get_brand

PROJECT_DIR = Path(__file__).resolve().parents[3]
LANGUAGES = ("it", "en")


def test_the_brands_file_has_every_reply_in_every_brand_language():
    languages = get_brand().languages
    replies = load_canned_replies(PROJECT_DIR / "canned_replies.yml", languages)
    keys = list(dict.fromkeys(r.key for r in replies))
    assert len(keys) >= 3
    assert [(r.key, r.language) for r in replies] == [(k, c) for k in keys for c in languages]
    italian = {r.key: r for r in replies if r.language == "it"}
    assert italian["refund_started"].title == "Rimborso avviato"
    assert italian["sorry_delay"].text.startswith("Ciao {first_name}, mi dispiace")
    assert "tuo ordine" in italian["sorry_delay"].text  # "tu", like the bot


def test_filled_with_what_the_ticket_has_and_the_rest_left_visible():
    reply = CannedReply("k", "en", "T", "Hi {first_name}, order {order_number}: {tracking_url}")
    assert reply.filled({"first_name": "Piera", "order_number": "10023",
                         "tracking_url": None}) == "Hi Piera, order 10023: {tracking_url}"


REPLIES = [CannedReply("delay", "it", "Ritardo", "Ciao"),
           CannedReply("delay", "en", "Delay", "Hi"),
           CannedReply("photo", "it", "Foto", "Foto?"),
           CannedReply("photo", "en", "Photo", "Photo?")]


def test_the_tickets_language_is_offered_first_then_the_others():
    assert [(code, [r.title for r in replies]) for code, replies in
            offered_first(REPLIES, "en")] == [("en", ["Delay", "Photo"]),
                                               ("it", ["Ritardo", "Foto"])]
    assert [code for code, _ in offered_first(REPLIES, "it")] == ["it", "en"]
    assert [code for code, _ in offered_first(REPLIES, "de")] == ["it", "en"]  # file order


def test_a_reply_is_picked_in_the_language_asked_for_else_in_another():
    assert pick(REPLIES, "photo", "en").title == "Photo"
    assert pick(REPLIES, "photo", "it").title == "Foto"
    assert pick(REPLIES, "photo", "de").title == "Foto"
    assert pick(REPLIES, "nope", "en") is None and pick(REPLIES, None, "en") is None


def entry(key: str = "a", title: object = None, text: object = None) -> dict:
    return {"key": key, "title": {"it": "A", "en": "A"} if title is None else title,
            "text": {"it": "x", "en": "x"} if text is None else text}


def file_of(*entries: dict) -> str:
    return yaml.safe_dump({"replies": list(entries)}, allow_unicode=True)


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ("replies: [{key: a, title: A}]", "needs exactly key, title and text"),
        (file_of(entry("A B")), "not a unique lower-case name"),
        (file_of(entry(), entry()), "unique"),
        (file_of(entry(text={"it": "Ciao {name}", "en": "Hi {name}"})),
         r"replies\[0\] \(a\): text in 'it': unknown placeholder \{name\}"),
        ("replies: nope", "expected a list"),
        ("replies: [", "not valid YAML"),
        # a brand language missing: the key and the language are named
        (file_of(entry(), entry("late", text={"it": "Ciao"})),
         r"replies\[1\] \(late\): text in 'en' is missing"),
        (file_of(entry("late", title={"en": "Late"})), r"\(late\): title in 'it' is missing"),
        (file_of(entry("late", title="Late")),
         r"\(late\): title must be given in every brand language \(it: \.\.\., en: \.\.\.\)"),
        (file_of(entry(text={"it": "x", "en": "x", "de": "x"})),
         r"text in 'de': not a brand language \(it, en\)"),
        (file_of(entry(text={"it": "  ", "en": "x"})), "text in 'it' must not be empty"),
        (file_of(entry(text={"it": "Ciao", "en": "Hi {first_name}"})),
         r"text in 'en' has the placeholders \{first_name\}, but in 'it' none"),
    ],
)
def test_mistakes_in_the_file_are_named(tmp_path, content, complaint):
    path = tmp_path / "canned_replies.yml"
    path.write_text(content)
    with pytest.raises(CannedRepliesError, match=complaint):
        load_canned_replies(path, LANGUAGES)


def test_a_file_for_the_brands_languages_loads_in_their_order(tmp_path):
    path = tmp_path / "canned_replies.yml"
    path.write_text(file_of(entry(title={"en": "Late", "it": "Ritardo"})))
    assert load_canned_replies(path, LANGUAGES) == [CannedReply("a", "it", "Ritardo", "x"),
                                                    CannedReply("a", "en", "Late", "x")]


def test_no_file_no_canned_replies(tmp_path):
    assert load_canned_replies(tmp_path / "missing.yml", LANGUAGES) == []


def test_the_desk_does_not_start_on_a_reply_missing_a_brand_language(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from bot.desk.app import main

    (tmp_path / "canned_replies.yml").write_text(file_of(entry("late", text={"it": "Ciao"})))
    monkeypatch.setattr("bot.settings.get_settings", lambda: SimpleNamespace(project_dir=tmp_path))
    # the desk's start installs log redaction for the whole process: not in the test runner
    monkeypatch.setattr("bot.handoff.log_redaction.install_log_redaction", lambda: None)
    with pytest.raises(SystemExit, match=r"^nightdesk desk: canned_replies.yml: replies\[0\] "
                                         r"\(late\): text in 'en' is missing"):
        main([])
