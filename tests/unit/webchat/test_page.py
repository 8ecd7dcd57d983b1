"""The web chat's request checks and its page, without a server."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

from bot.settings import get_settings
from bot.settings.brand import Localized, load_brand
from bot.webchat.chat_request import (
    ChatRequestError,
    parse_chat_request,
)
from bot.webchat.page import (
    initials,
    load_static_files,
    page_config,
    page_language,
    render_page,
)


def body(**fields) -> bytes:
    return json.dumps(fields).encode()


def test_a_tapped_chip_with_its_text_and_name_becomes_metadata():
    request = parse_chat_request(
        body(payload="/order_status",
             display_text="Where's my order?", first_name=" Marta ")
    )
    assert request.text == "/order_status"
    assert request.metadata() == {"first_name": "Marta", "display_text": "Where's my order?"}


def test_the_same_command_typed_is_only_words():
    request = parse_chat_request(body(message=" /order_status "))
    assert request.text == "order_status"


@pytest.mark.parametrize(
    "typed",
    ["ciao, quanto costa la spedizione in Germania?! I'm Nora", "anna@example.com",
     "+39 347 765 4321", "Buongiorno", "👍", "https://x.it", "A" * 65, "Anna " * 20],
)
def test_a_name_field_that_is_not_a_first_name_is_dropped_not_refused(typed):
    request = parse_chat_request(
        body(message="quanto costa la spedizione?", first_name=typed)
    )
    assert request.first_name is None
    assert request.metadata() == {}
    assert request.message == "quanto costa la spedizione?"


def test_a_typed_first_name_is_capitalised():
    request = parse_chat_request(
        body(message="hi", first_name="marta rossi")
    )
    assert request.metadata() == {"first_name": "Marta"}


def test_blank_optional_fields_are_left_out():
    request = parse_chat_request(
        body(message="hi", display_text=None, first_name="  ")
    )
    assert request.metadata() == {}


@pytest.mark.parametrize(("sent", "language"), [("en", "en"), (" it ", "it"), ("fr", "fr")])
def test_the_pages_language_goes_to_the_bot_as_metadata(sent, language):
    request = parse_chat_request(body(message="ciao", language=sent))
    assert request.language == language
    assert request.metadata() == {"language": language}


@pytest.mark.parametrize("sent", [None, "", "   "])
def test_no_language_is_fine(sent):
    request = parse_chat_request(body(message="ciao", language=sent))
    assert request.language is None
    assert "language" not in request.metadata()
    assert "language" not in parse_chat_request(
        body(message="ciao")
    ).metadata()


@pytest.mark.parametrize(
    ("sent", "complaint"),
    [
        ("eng", "'language' is longer than 2 characters"),
        ("italiano", "'language' is longer than 2 characters"),
        ("e", "'language' must be a two-letter language code"),
        ("EN", "'language' must be a two-letter language code"),
        ("e1", "'language' must be a two-letter language code"),
        ("<b", "'language' must be a two-letter language code"),
        (42, "'language' must be a string"),
        (["it"], "'language' must be a string"),
    ],
)
def test_a_bad_language_is_refused(sent, complaint):
    with pytest.raises(ChatRequestError, match=re.escape(complaint)):
        parse_chat_request(body(message="ciao", language=sent))


@pytest.mark.parametrize(
    ("raw", "complaint"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (body(), "'message'"),
        (body(message="   "), "'message'"),
        (body(message=42), "'message'"),
        (body(message="x" * 2001), "longer than 2000"),
        (body(message="hi", first_name=["A"]), "'first_name'"),
    ],
)
def test_bad_requests_say_what_is_wrong(raw, complaint):
    with pytest.raises(ChatRequestError, match=re.escape(complaint)):
        parse_chat_request(raw)


@pytest.mark.parametrize(
    "sent", ["wc-0123456789ab", "2450917735066123", "", None, 42, {"id": "x"}],
)
def test_a_request_that_names_its_conversation_is_refused_whatever_the_id(sent):
    # the conversation comes from the session cookie: a page never chooses it (a Messenger
    # customer's PSID in "sender" would otherwise reach that customer's conversation)
    with pytest.raises(ChatRequestError, match="session cookie"):
        parse_chat_request(body(sender=sent, message="hi"))
    with pytest.raises(ChatRequestError, match="session cookie"):
        parse_chat_request(body(payload="/order_status", sender=sent))


def test_a_chat_request_has_no_conversation_field():
    request = parse_chat_request(body(message="hi"))
    assert not hasattr(request, "sender")
    with pytest.raises(ChatRequestError, match="session cookie"):
        parse_chat_request(body(sender="wc-0123456789ab", message="hi"))


def test_initials_stand_in_for_a_missing_avatar():
    assert initials("Nora") == "N"
    assert initials("ada lovelace bot") == "AL"
    assert initials("  ") == "?"


@pytest.fixture()
def brand():
    return load_brand(get_settings().brand_file)


def config_of(page):
    return json.loads(page.split('id="nightdesk-config">')[1].split("</script>")[0])


def test_the_page_carries_the_brand_and_its_messenger_profile(brand):
    config = page_config(brand, "/webhooks/webchat")
    assert config["webhook"] == "/webhooks/webchat/webhook"
    assert config["session"] == "/webhooks/webchat/session"
    assert config["agentMessages"] == "/webhooks/webchat/agent_messages"
    assert config["botName"] == brand.bot_name and config["avatarUrl"] == brand.avatar_url
    assert config["language"] == brand.language == "it"
    assert list(config["languages"]) == list(brand.languages) == ["it", "en"]
    for code, words in config["languages"].items():
        assert [b["payload"] for b in words["iceBreakers"]] == [
            i.payload for i in brand.messenger.ice_breakers
        ], code
        assert [b["title"] for b in words["iceBreakers"]] == [
            i.question.of(code) for i in brand.messenger.ice_breakers
        ], code
        assert [(m["title"], m["payload"], m["url"]) for m in words["menu"]] == [
            (m.title.of(code), m.payload, m.url) for m in brand.messenger.persistent_menu
        ], code
        assert any(item["payload"] == "/human_request" for item in words["menu"]), code
        assert words["greeting"] == brand.messenger.greeting.of(code)
        assert words["texts"] == brand.web_chat.for_language(code)
    page = render_page(brand, "/webhooks/webchat")
    assert f"<title>{brand.bot_name} · {brand.name}</title>" in page
    assert 'href="/webhooks/webchat/static/chat.css"' in page
    assert "{{" not in page.replace("{{user_first_name}}", "")


def test_every_language_has_its_own_words(brand):
    words = page_config(brand, "/webhooks/webchat")["languages"]
    italian, english = words["it"], words["en"]
    assert italian["greeting"].startswith("Ciao {{user_first_name}}! Sono Nora")
    assert "assistente virtuale" in italian["greeting"]
    assert english["greeting"].startswith("Hi {{user_first_name}}! I'm Nora")
    assert italian["iceBreakers"][0] == {"title": "Dov'è il mio ordine?",
                                         "payload": "/order_status"}
    assert english["iceBreakers"][0] == {"title": "Where is my order?",
                                         "payload": "/order_status"}
    assert {"title": "Parla con una persona", "payload": "/human_request", "url": None} in (
        italian["menu"])
    assert {"title": "Talk to a person", "payload": "/human_request", "url": None} in (
        english["menu"])
    assert italian["texts"]["send"] == "Invia" and english["texts"]["send"] == "Send"
    assert italian["texts"]["status"] == "Assistente automatico · risponde subito"
    assert english["texts"]["status"] == "Automated assistant · replies instantly"
    assert italian["texts"]["typing"] == "{bot} sta scrivendo"
    assert set(italian["texts"]) == set(english["texts"]) >= {
        "status", "new_chat", "new_chat_hint", "your_name", "message_label", "send", "menu",
        "retry", "open", "card_button", "team", "typing", "not_delivered", "unreachable",
    }


@pytest.mark.parametrize(("asked", "lang"), [(None, "it"), ("it", "it"), ("en", "en"),
                                             ("fr", "it"), ('"><script>', "it")])
def test_the_page_is_rendered_in_its_language(brand, asked, lang):
    page = render_page(brand, "/webhooks/webchat", asked)
    assert f'<html lang="{lang}">' in page
    assert page.count("<html") == 1
    config = config_of(page)
    assert config["language"] == lang
    assert page_config(brand, "/webhooks/webchat", asked)["language"] == lang
    # every language rides along: the page follows the conversation's language
    assert set(config["languages"]) == {"it", "en"}
    assert config["languages"][lang]["texts"] == brand.web_chat.for_language(lang)
    assert "<script>" not in page.split("<head>")[0]


def test_the_page_keeps_no_words_of_its_own(brand):
    """The shell has no fixed English: every text comes from brand.yml in the page's language."""
    page = render_page(brand, "/webhooks/webchat", "it")
    shell = page.split('id="nightdesk-config">')[0]
    for english in ("Automated assistant", "replies instantly", "New chat",
                    "Start a new conversation", "Your first name", ">Send<", 'aria-label="Send"',
                    'aria-label="Message"'):
        assert english not in shell, english
    config = config_of(page)
    assert config["languages"]["it"]["texts"]["new_chat"] == "Nuova chat"
    assert config["languages"]["en"]["texts"]["new_chat"] == "New chat"


@pytest.mark.parametrize(
    ("asked", "accept_language", "language"),
    [
        # ?lang= wins, in any case, when the brand speaks it
        ("en", "it-IT,it;q=0.9", "en"),
        ("EN", None, "en"),
        ("it", "en-GB,en;q=0.9", "it"),
        # otherwise the browser's preference, by q-value, then by position
        (None, "en-GB,en;q=0.9,it;q=0.8", "en"),
        (None, "it;q=0.2, en;q=0.8", "en"),
        (None, "en;q=0.3, it", "it"),
        (None, "de-DE,de;q=0.9,it;q=0.5,en;q=0.3", "it"),
        (None, "de-DE,de;q=0.9,en-US;q=0.5,it;q=0.3", "en"),
        (None, "en;q=0.5, it;q=0.5", "en"),
        (None, "it;q=0.5, en;q=0.5", "it"),
        (None, "EN-us", "en"),
        (None, "en;q=nonsense, it;q=0.1", "it"),
        ("fr", "en-US,en;q=0.9", "en"),  # a language the brand lacks is not asked for
        ("", "en", "en"),
        # else the brand's default language
        (None, None, "it"),
        (None, "", "it"),
        (None, "fr-FR,fr;q=0.9,de;q=0.8", "it"),
        (None, "*", "it"),
        ("fr", None, "it"),
        ("english", "x", "it"),
    ],
)
def test_page_language(brand, asked, accept_language, language):
    assert page_language(brand, asked, accept_language) == language


def test_page_language_reads_only_the_first_twenty_preferences(brand):
    header = ",".join(["de"] * 20 + ["en"])
    assert page_language(brand, None, header) == "it"
    assert page_language(brand, None, ",".join(["de"] * 19 + ["en"])) == "en"


def test_the_page_language_follows_the_brands_default(brand):
    english_first = replace(brand, languages=("en", "it"))
    assert page_language(english_first, None, None) == "en"
    assert page_language(english_first, None, "fr") == "en"
    assert page_language(english_first, "it", None) == "it"
    assert '<html lang="en">' in render_page(english_first, "/webhooks/webchat")


def test_brand_text_cannot_break_out_of_the_page(brand):
    hostile = replace(brand, name="Shoes</script><script>alert(1)</script>{{base}}",
                      bot_name="<b>Nora</b>")
    page = render_page(hostile, "/webhooks/webchat")
    assert "<script>alert(1)" not in page and "<b>Nora" not in page
    config_json = page.split('id="nightdesk-config">')[1].split("</script>")[0]
    assert json.loads(config_json)["brandName"] == hostile.name
    assert "&lt;b&gt;Nora&lt;/b&gt;" in page  # the title, escaped
    assert "{{base}}" in json.loads(config_json)["brandName"]


def test_localized_brand_text_cannot_break_out_of_the_page(brand):
    greeting = Localized({"it": "Ciao</script><script>alert(1)</script>, sono un bot",
                          "en": "Hi <!-- {{config}} --> I'm a bot"})
    hostile = replace(brand, messenger=replace(brand.messenger, greeting=greeting))
    for language in ("it", "en"):
        page = render_page(hostile, "/webhooks/webchat", language)
        assert "<script>alert(1)" not in page and "<!--" not in page
        config = config_of(page)
        assert config["languages"]["it"]["greeting"] == greeting.of("it")
        assert config["languages"]["en"]["greeting"] == greeting.of("en")


def test_the_page_files_are_served_with_their_types():
    files = load_static_files()
    assert set(files) == {"chat.css", "chat.js"}
    assert files["chat.js"].content_type.startswith("text/javascript")
    assert b"innerHTML" not in files["chat.js"].body  # every text goes in as text
