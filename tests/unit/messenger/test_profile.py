"""The `messenger` section of brand.yml, the Messenger Profile body, and the fake's checks."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.language import Wording, load_wording
from bot.messenger.graph_errors import GraphSendError
from bot.messenger.profile import MissingTokenError, messenger_profile_body, set_up_profile
from bot.messenger.translate import is_intent_trigger
from bot.settings import MessengerSettings
from bot.settings.brand import (
    Brand,
    BrandError,
    IceBreaker,
    Localized,
    MenuItem,
    MessengerProfile,
    load_brand,
)
from tests.fakes.fake_graph import FakeGraphApi
from tests.fakes.fake_graph_server import FakeGraphServer

PROJECT_DIR = Path(__file__).resolve().parents[3]
REAL_BRAND = PROJECT_DIR / "brand.yml"
REAL_WORDING = PROJECT_DIR / "wording.yml"
DELETE = object()
TOKEN = "profile-test-token-4711"
EVERY_LANGUAGE = "give it in every brand language (it: ..., en: ...)"


def real_data() -> dict[str, Any]:
    return yaml.safe_load(REAL_BRAND.read_text(encoding="utf-8"))


def real_brand() -> Brand:
    return load_brand(REAL_BRAND)


def real_wording(brand: Brand) -> Wording:
    return load_wording(REAL_WORDING, brand.languages)


def steps(key_path: str) -> list[str | int]:
    """Split "messenger.persistent_menu[2].title.en" into its keys and indexes."""
    return [int(index) if index else name
            for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", key_path)]


def write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "brand.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def changed(tmp_path: Path, key_path: str, value: object) -> Path:
    """The real brand.yml with one value replaced, added or deleted."""
    data = real_data()
    *parents, last = steps(key_path)
    target: Any = data
    for step in parents:
        target = target[step]
    if value is DELETE:
        del target[last]
    else:
        target[last] = value
    return write(tmp_path, data)


def error_for(path: Path) -> BrandError:
    with pytest.raises(BrandError) as caught:
        load_brand(path)
    return caught.value


def both(it: str, en: str) -> dict[str, str]:
    """A brand text in both brand languages, as brand.yml writes it."""
    return {"it": it, "en": en}


def menu_item(it: str, en: str, payload: str) -> dict[str, Any]:
    return {"title": both(it, en), "payload": payload}


def localized(raw: dict[str, Any]) -> Localized[Any]:
    """The Localized a raw `{it: ..., en: ...}` mapping should load as (texts stripped)."""
    return Localized({code: text.strip() if isinstance(text, str) else tuple(text)
                      for code, text in raw.items()})


# --------------------------------------------------------------------- good sections


def test_real_brand_file_has_a_complete_messenger_section() -> None:
    raw = real_data()["messenger"]
    brand = real_brand()
    profile = brand.messenger

    assert isinstance(profile, MessengerProfile)
    assert brand.languages == ("it", "en")
    assert profile.greeting == localized(raw["greeting"])
    assert tuple(profile.greeting.by_language) == brand.languages
    assert re.search(r"\bautomated\b", profile.greeting.of("en"), re.IGNORECASE)
    assert re.search(r"\bassistente virtuale\b", profile.greeting.of("it"), re.IGNORECASE)
    for code in brand.languages:
        assert len(profile.greeting.of(code)) <= 160, code
    assert profile.ice_breakers == tuple(
        IceBreaker(localized(item["question"]), item["payload"]) for item in raw["ice_breakers"]
    )
    assert 1 <= len(profile.ice_breakers) <= 4
    assert profile.persistent_menu == tuple(
        MenuItem(localized(item["title"]), item.get("payload"), item.get("url"))
        for item in raw["persistent_menu"]
    )
    human = MenuItem(Localized(both("Parla con una persona", "Talk to a person")),
                     "/human_request")
    assert human in profile.persistent_menu
    assert any(item.url is not None for item in profile.persistent_menu)


def test_a_localized_text_gives_each_language_its_form() -> None:
    question = real_brand().messenger.ice_breakers[0].question
    assert question.of("it") == "Dov'è il mio ordine?"
    assert question.of("en") == "Where is my order?"
    assert question.of(None) == question.of("fr") == "Dov'è il mio ordine?"  # the default


def test_every_payload_of_the_real_file_is_an_intent_the_bot_knows() -> None:
    domain = yaml.safe_load((PROJECT_DIR / "domain.yml").read_text(encoding="utf-8"))
    intents = {name if isinstance(name, str) else next(iter(name)) for name in domain["intents"]}
    profile = real_brand().messenger
    payloads = [item.payload for item in profile.ice_breakers]
    payloads += [item.payload for item in profile.persistent_menu if item.payload]
    assert len(payloads) >= 5
    for payload in payloads:
        assert is_intent_trigger(payload), payload
        assert payload[1:] in intents, payload


def test_section_at_the_limits_loads(tmp_path: Path) -> None:
    english = "Hello {{user_full_name}}, this is our automated assistant. "
    english += "x" * (160 - len(english))
    italian = "Ciao {{user_full_name}}, sono l'assistente virtuale del negozio. "
    italian += "x" * (160 - len(italian))
    entity_payload = '/inform{"order_number": "10023"}'
    section = {
        "greeting": both(italian, english),
        "ice_breakers": [{"question": both("D" * 80, "Q" * 80), "payload": entity_payload}],
        "persistent_menu": [
            menu_item(f"Voce {n:02d}".ljust(30, "."), f"Item {n:02d}".ljust(30, "."),
                      f"/intent_{n}")
            for n in range(19)
        ] + [menu_item("Parla con una persona", "Talk to a person", "/human_request")],
        "order_card_image": "https://cdn.example.com/p/{sku}/main.jpg",
    }
    data = real_data()
    data["messenger"] = section
    profile = load_brand(write(tmp_path, data)).messenger
    assert len(profile.greeting.of("it")) == len(profile.greeting.of("en")) == 160
    assert profile.ice_breakers == (
        IceBreaker(Localized(both("D" * 80, "Q" * 80)), entity_payload),
    )
    assert len(profile.persistent_menu) == 20
    for item in profile.persistent_menu[:19]:
        assert len(item.title.of("it")) == len(item.title.of("en")) == 30


def test_the_same_words_in_two_languages_are_not_a_duplicate(tmp_path: Path) -> None:
    """Uniqueness is per language: "FAQ" may be both the Italian and the English title."""
    data = real_data()
    data["messenger"]["persistent_menu"][4]["title"] = both("FAQ", "FAQ")
    data["messenger"]["ice_breakers"][1]["question"] = both(
        "Where is my order?", "How long does shipping take?"
    )
    profile = load_brand(write(tmp_path, data)).messenger
    assert profile.persistent_menu[4].title == Localized(both("FAQ", "FAQ"))
    assert profile.ice_breakers[1].question.of("it") == "Where is my order?"
    assert profile.ice_breakers[0].question.of("en") == "Where is my order?"


@pytest.mark.parametrize(
    "greeting",
    [
        "Hi! I'm Nora, an automated assistant.",
        "Hi {{user_first_name}}, you're chatting with our BOT.",
        "Our chatbot answers at night.",
        "I'm Nora, a virtual   assistant.",
        "Ciao {{user_last_name}}! AI assistant here.",
    ],
)
def test_greetings_that_say_they_are_automated(tmp_path: Path, greeting: str) -> None:
    profile = load_brand(changed(tmp_path, "messenger.greeting.en", greeting)).messenger
    assert profile.greeting.of("en") == greeting
    assert profile.greeting.of("it") == real_data()["messenger"]["greeting"]["it"].strip()


@pytest.mark.parametrize(
    "greeting",
    [
        "Ciao! Sono Nora, l'assistente virtuale.",
        "Ciao {{user_first_name}}! Sono l'assistente automatico di Northwind.",
        "Buonasera, ti risponde la nostra Assistente Digitale.",
        "Ciao! Qui risponde un servizio automatico, giorno e notte.",
        "Ciao! Ti risponde una procedura automatica.",
        "Ciao {{user_full_name}}, sono un bot.",
        "Il nostro chatbot ti risponde subito.",
    ],
)
def test_italian_greetings_that_say_they_are_automated(tmp_path: Path, greeting: str) -> None:
    profile = load_brand(changed(tmp_path, "messenger.greeting.it", greeting)).messenger
    assert profile.greeting.of("it") == greeting
    assert profile.greeting.of("en") == real_data()["messenger"]["greeting"]["en"].strip()


# ------------------------------------------------------------------------- mistakes

TOO_MANY_BREAKERS = [{"question": both(f"Domanda {n}?", f"Question {n}?"), "payload": "/greet"}
                     for n in range(5)]
NO_HUMAN_MENU = [menu_item("Traccia il mio ordine", "Track my order", "/order_status"),
                 {"title": both("Centro assistenza", "Help centre"),
                  "url": "https://northwind-footwear.example/help"}]
MENU_OF_21 = [menu_item(f"Voce {n}", f"Item {n}", f"/intent_{n}") for n in range(20)] + [
    menu_item("Parla con una persona", "Talk to a person", "/human_request")
]

CASES = [
    # the greeting, in English
    ("messenger.greeting.en", "Hi {{user_first_name}}! How can we help?", "messenger.greeting.en",
     "must tell the customer they are talking to an automated assistant"),
    ("messenger.greeting.en", "Hi! I'm Nora, your assistant.", "messenger.greeting.en",
     "automated assistant"),
    ("messenger.greeting.en", "Welcome to Abbott's shoe shop, we reply at once.",
     "messenger.greeting.en", "automated assistant"),
    ("messenger.greeting.en", "Our automated assistant is here. " + "x" * 128,
     "messenger.greeting.en", "is 161 characters long; Messenger allows at most 160"),
    ("messenger.greeting.en", "Hi {{first_name}}, I'm a bot.", "messenger.greeting.en",
     "{{first_name}} is not a Messenger placeholder"),
    ("messenger.greeting.en", "   ", "messenger.greeting.en", "must not be empty"),
    ("messenger.greeting.en", DELETE, "messenger.greeting.en",
     "missing: every brand language needs its form"),
    # the greeting, in Italian
    ("messenger.greeting.it", "Ciao! Come possiamo aiutarti?", "messenger.greeting.it",
     "must tell the customer they are talking to an automated assistant"),
    ("messenger.greeting.it", "Ciao {{user_first_name}}! Sono Nora, la tua assistente.",
     "messenger.greeting.it", 'in Italian "assistente virtuale"'),
    ("messenger.greeting.it", "Ciao! Rispondiamo automaticamente.", "messenger.greeting.it",
     "automated assistant"),
    ("messenger.greeting.it", "Sono l'assistente virtuale. " + "x" * 133,
     "messenger.greeting.it", "is 161 characters long; Messenger allows at most 160"),
    ("messenger.greeting.it", "Ciao {{nome}}, sono un bot.", "messenger.greeting.it",
     "{{nome}} is not a Messenger placeholder"),
    ("messenger.greeting.it", "", "messenger.greeting.it", "must not be empty"),
    ("messenger.greeting.it", DELETE, "messenger.greeting.it",
     "missing: every brand language needs its form"),
    # the greeting's languages
    ("messenger.greeting", "Hi! I'm Nora, an automated assistant.", "messenger.greeting",
     EVERY_LANGUAGE),
    ("messenger.greeting.fr", "Bonjour, je suis un bot.", "messenger.greeting.fr",
     "is not a brand language (it, en)"),
    ("messenger.greeting", DELETE, "messenger.greeting", "missing"),
    # ice breakers
    ("messenger.ice_breakers", TOO_MANY_BREAKERS, "messenger.ice_breakers",
     "must list 1 to 4 questions (Messenger shows at most 4), got 5"),
    ("messenger.ice_breakers", [], "messenger.ice_breakers", "must list 1 to 4 questions"),
    ("messenger.ice_breakers", "Where is my order?", "messenger.ice_breakers",
     "expected a list"),
    ("messenger.ice_breakers[1].question.en", "W" * 81, "messenger.ice_breakers[1].question.en",
     "is 81 characters long; Messenger allows at most 80"),
    ("messenger.ice_breakers[1].question.it", "D" * 81, "messenger.ice_breakers[1].question.it",
     "is 81 characters long; Messenger allows at most 80"),
    ("messenger.ice_breakers[2].question.en", "where is my ORDER?",
     "messenger.ice_breakers[2].question.en", "is already asked by messenger.ice_breakers[0]"),
    ("messenger.ice_breakers[2].question.it", "dov'è il mio ORDINE?",
     "messenger.ice_breakers[2].question.it", "is already asked by messenger.ice_breakers[0]"),
    ("messenger.ice_breakers[1].question", "How long does shipping take?",
     "messenger.ice_breakers[1].question", EVERY_LANGUAGE),
    ("messenger.ice_breakers[1].question.en", DELETE, "messenger.ice_breakers[1].question.en",
     "missing: every brand language needs its form"),
    ("messenger.ice_breakers[0].payload", "order_status", "messenger.ice_breakers[0].payload",
     'expected an intent trigger starting with "/"'),
    ("messenger.ice_breakers[0].payload", "/", "messenger.ice_breakers[0].payload",
     'starting with "/"'),
    ("messenger.ice_breakers[3].payload", "/" + "a" * 1000, "messenger.ice_breakers[3].payload",
     "is 1001 characters long; Messenger allows at most 1000"),
    ("messenger.ice_breakers[0].questoin", "Hi?", "messenger.ice_breakers[0].questoin",
     "did you mean question?"),
    ("messenger.ice_breakers[1].payload", DELETE, "messenger.ice_breakers[1].payload",
     "missing"),
    # the persistent menu
    ("messenger.persistent_menu", NO_HUMAN_MENU, "messenger.persistent_menu",
     'must have an item with payload "/human_request"'),
    ("messenger.persistent_menu[3].payload", "/handoff", "messenger.persistent_menu",
     'must have an item with payload "/human_request"'),
    ("messenger.persistent_menu", MENU_OF_21, "messenger.persistent_menu",
     "must list 1 to 20 items (Messenger shows at most 20), got 21"),
    ("messenger.persistent_menu", [], "messenger.persistent_menu", "must list 1 to 20 items"),
    ("messenger.persistent_menu[0].title.en", "Track my order and every parcel",
     "messenger.persistent_menu[0].title.en",
     "is 31 characters long; Messenger allows at most 30"),
    ("messenger.persistent_menu[0].title.it", "Traccia il mio ordine e i pacchi",
     "messenger.persistent_menu[0].title.it",
     "is 32 characters long; Messenger allows at most 30"),
    ("messenger.persistent_menu[2].title.en", "talk to a PERSON",
     "messenger.persistent_menu[3].title.en",
     '"Talk to a person" is already used by messenger.persistent_menu[2]'),
    ("messenger.persistent_menu[2].title.it", "parla con una PERSONA",
     "messenger.persistent_menu[3].title.it",
     '"Parla con una persona" is already used by messenger.persistent_menu[2]'),
    ("messenger.persistent_menu[0].title", "Track my order",
     "messenger.persistent_menu[0].title", EVERY_LANGUAGE),
    ("messenger.persistent_menu[0].title.it", DELETE, "messenger.persistent_menu[0].title.it",
     "missing: every brand language needs its form"),
    ("messenger.persistent_menu[0].title.de", "Meine Bestellung",
     "messenger.persistent_menu[0].title.de", "is not a brand language (it, en)"),
    ("messenger.persistent_menu[4].url", "http://northwind-footwear.example/help",
     "messenger.persistent_menu[4].url", "expected a web address starting with https://"),
    ("messenger.persistent_menu[4].url", "northwind-footwear.example/help",
     "messenger.persistent_menu[4].url", "starting with https://"),
    ("messenger.persistent_menu[4].url", "https://", "messenger.persistent_menu[4].url",
     "starting with https://"),
    ("messenger.persistent_menu[1].url", "https://northwind-footwear.example/shipping",
     "messenger.persistent_menu[1].url", "either payload"),
    ("messenger.persistent_menu[1].payload", DELETE, "messenger.persistent_menu[1].payload",
     "missing (give payload"),
    ("messenger.persistent_menu[3].payload", "/human request",
     "messenger.persistent_menu[3].payload", 'starting with "/"'),
    ("messenger.persistent_menu[0].paylod", "/x", "messenger.persistent_menu[0].paylod",
     "did you mean payload?"),
    ("messenger.persistent_menu[0].title", DELETE, "messenger.persistent_menu[0].title",
     "missing"),
    ("messenger.persistent_menu[0]", "Track my order", "messenger.persistent_menu[0]",
     "expected a mapping"),
    # the section itself
    ("messenger.get_started", "GET_STARTED", "messenger.get_started", "is not configurable"),
    ("messenger.composer_input_disabled", True, "messenger.composer_input_disabled",
     "unknown key"),
    ("messenger", DELETE, "messenger", "missing"),
    ("messenger", "yes", "messenger", "expected a mapping"),
]


@pytest.mark.parametrize(("key_path", "value", "where", "problem"), CASES)
def test_mistake_is_reported_with_its_key_path(
    tmp_path: Path, key_path: str, value: object, where: str, problem: str
) -> None:
    path = changed(tmp_path, key_path, value)
    error = error_for(path)
    assert str(error).startswith(f"{path}: {where}: "), str(error)
    assert problem in str(error), str(error)
    assert error.key_path == where


def test_a_plain_string_greeting_is_refused_with_the_languages_to_give(tmp_path: Path) -> None:
    path = changed(tmp_path, "messenger.greeting", "Hi! I'm Nora, an automated assistant.")
    assert str(error_for(path)) == (
        f"{path}: messenger.greeting: give it in every brand language (it: ..., en: ...), "
        "got \"Hi! I'm Nora, an automated assistant.\""
    )


def test_an_italian_greeting_that_hides_the_bot_is_refused(tmp_path: Path) -> None:
    path = changed(tmp_path, "messenger.greeting.it", "Ciao! Come possiamo aiutarti?")
    error = error_for(path)
    assert error.key_path == "messenger.greeting.it"
    assert str(error) == (
        f"{path}: messenger.greeting.it: must tell the customer they are talking to an "
        'automated assistant (say "automated", "bot", "chatbot" or "virtual assistant"; in '
        'Italian "assistente virtuale" or "automatico"), got "Ciao! Come possiamo aiutarti?"'
    )


@pytest.mark.parametrize(("language", "title"),
                         [("en", "Track my order and its parcels"),
                          ("it", "Segui il mio ordine e il pacco")])
def test_thirty_character_title_is_fine(tmp_path: Path, language: str, title: str) -> None:
    assert len(title) == 30
    brand = load_brand(changed(tmp_path, f"messenger.persistent_menu[0].title.{language}", title))
    assert brand.messenger.persistent_menu[0].title.of(language) == title


def test_missing_human_request_message_reads_clearly(tmp_path: Path) -> None:
    path = changed(tmp_path, "messenger.persistent_menu", NO_HUMAN_MENU)
    assert str(error_for(path)) == (
        f'{path}: messenger.persistent_menu: must have an item with payload "/human_request" '
        '(such as "Talk to a person"), so a customer can always reach a person'
    )


# ----------------------------------------------------------------- the Graph body

REAL_LOCALES = [("default", "it"), ("it_IT", "it"), ("en_US", "en"), ("en_GB", "en")]
"""The Messenger locales of the real brand.yml and wording.yml, and their languages."""


def locales_of_the_files() -> list[tuple[str, str]]:
    """(locale, language) pairs read from the raw YAML of brand.yml and wording.yml."""
    brand = real_data()["brand"]
    wording = yaml.safe_load(REAL_WORDING.read_text(encoding="utf-8"))
    default = brand["default_language"]
    languages = [default] + [code for code in brand["languages"] if code != default]
    return [("default", default)] + [
        (locale, code) for code in languages
        for locale in wording[code]["messenger_locales"].split()
    ]


def expected_body(
    raw: dict[str, Any], locales: list[tuple[str, str]] | None = None
) -> dict[str, Any]:
    """The body Meta documents, written out from the raw YAML (not from our code).

    One entry per Messenger locale for greeting, ice breakers and menu, each in its language.
    """
    locales = locales_of_the_files() if locales is None else locales

    def menu(language: str) -> list[dict[str, str]]:
        items = []
        for item in raw["persistent_menu"]:
            title = item["title"][language]
            if "url" in item:
                items.append({"type": "web_url", "title": title, "url": item["url"]})
            else:
                items.append({"type": "postback", "title": title, "payload": item["payload"]})
        return items

    return {
        "get_started": {"payload": "GET_STARTED"},
        "greeting": [{"locale": locale, "text": raw["greeting"][language].strip()}
                     for locale, language in locales],
        "ice_breakers": [{
            "locale": locale,
            "call_to_actions": [{"question": item["question"][language],
                                 "payload": item["payload"]}
                                for item in raw["ice_breakers"]],
        } for locale, language in locales],
        "persistent_menu": [{
            "locale": locale,
            "composer_input_disabled": False,
            "call_to_actions": menu(language),
        } for locale, language in locales],
    }


def real_body() -> dict[str, Any]:
    brand = real_brand()
    return messenger_profile_body(brand.messenger, brand.languages, real_wording(brand))


def test_the_files_name_the_expected_locales() -> None:
    assert locales_of_the_files() == REAL_LOCALES


def test_body_of_the_real_brand_has_meta_shapes() -> None:
    body = real_body()
    assert body == expected_body(real_data()["messenger"], REAL_LOCALES)
    assert {"type": "postback", "title": "Parla con una persona", "payload": "/human_request"} in (
        body["persistent_menu"][0]["call_to_actions"]
    )
    assert {"type": "postback", "title": "Talk to a person", "payload": "/human_request"} in (
        body["persistent_menu"][2]["call_to_actions"]
    )


def test_body_has_the_default_locale_in_italian_and_one_entry_per_messenger_locale() -> None:
    body = real_body()
    for field in ("greeting", "ice_breakers", "persistent_menu"):
        assert [entry["locale"] for entry in body[field]] == [
            "default", "it_IT", "en_US", "en_GB"
        ], field
    greetings = {entry["locale"]: entry["text"] for entry in body["greeting"]}
    assert greetings["default"] == greetings["it_IT"]
    assert greetings["default"].startswith(
        "Ciao {{user_first_name}}! Sono Nora, l'assistente virtuale di Northwind Footwear."
    )
    assert greetings["en_US"] == greetings["en_GB"]
    assert greetings["en_US"].startswith(
        "Hi {{user_first_name}}! I'm Nora, Northwind Footwear's automated assistant."
    )
    questions = {entry["locale"]: [q["question"] for q in entry["call_to_actions"]]
                 for entry in body["ice_breakers"]}
    italian_questions = ["Dov'è il mio ordine?", "Quanto ci mette la spedizione?",
                         "Come faccio un reso o un cambio?", "Posso parlare con una persona?"]
    english_questions = ["Where is my order?", "How long does shipping take?",
                         "How do I return or exchange shoes?", "Can I talk to a person?"]
    assert questions == {"default": italian_questions, "it_IT": italian_questions,
                         "en_US": english_questions, "en_GB": english_questions}
    titles = {entry["locale"]: [item["title"] for item in entry["call_to_actions"]]
              for entry in body["persistent_menu"]}
    italian_titles = ["Traccia il mio ordine", "Tempi e costi di spedizione", "Resi e cambi",
                      "Parla con una persona", "Centro assistenza"]
    english_titles = ["Track my order", "Shipping times and costs", "Returns and exchanges",
                      "Talk to a person", "Help centre"]
    assert titles == {"default": italian_titles, "it_IT": italian_titles,
                      "en_US": english_titles, "en_GB": english_titles}
    # payloads and links are the same in every locale; only the words change
    for field in ("ice_breakers", "persistent_menu"):
        shapes = [[{key: value for key, value in item.items() if key not in ("question", "title")}
                   for item in entry["call_to_actions"]] for entry in body[field]]
        assert all(shape == shapes[0] for shape in shapes), field


HAND_MADE = MessengerProfile(
    greeting=Localized(both("Ciao {{user_first_name}}, sono un bot.",
                            "Hi {{user_first_name}}, I'm a bot.")),
    ice_breakers=(IceBreaker(Localized(both("Dov'è il mio ordine?", "Where is my order?")),
                             "/order_status"),),
    persistent_menu=(
        MenuItem(Localized(both("Parla con una persona", "Talk to a person")),
                 payload="/human_request"),
        MenuItem(Localized(both("Negozio", "Shop")), url="https://shop.example/"),
    ),
)


def hand_made_entries(locale: str, language: str) -> dict[str, Any]:
    italian = language == "it"
    return {
        "greeting": {"locale": locale, "text": "Ciao {{user_first_name}}, sono un bot."
                     if italian else "Hi {{user_first_name}}, I'm a bot."},
        "ice_breakers": {"locale": locale, "call_to_actions": [
            {"question": "Dov'è il mio ordine?" if italian else "Where is my order?",
             "payload": "/order_status"}]},
        "persistent_menu": {"locale": locale, "composer_input_disabled": False,
                            "call_to_actions": [
                                {"type": "postback",
                                 "title": "Parla con una persona" if italian
                                 else "Talk to a person",
                                 "payload": "/human_request"},
                                {"type": "web_url", "title": "Negozio" if italian else "Shop",
                                 "url": "https://shop.example/"}]},
    }


def hand_made_body(locales: list[tuple[str, str]]) -> dict[str, Any]:
    entries = [hand_made_entries(locale, language) for locale, language in locales]
    return {"get_started": {"payload": "GET_STARTED"},
            **{field: [entry[field] for entry in entries]
               for field in ("greeting", "ice_breakers", "persistent_menu")}}


def test_body_of_a_hand_made_profile() -> None:
    wording = Wording({"it": {"messenger_locales": "it_IT it_CH"},
                       "en": {"messenger_locales": "en_US"}})
    assert messenger_profile_body(HAND_MADE, ("it", "en"), wording) == hand_made_body(
        [("default", "it"), ("it_IT", "it"), ("it_CH", "it"), ("en_US", "en")]
    )


def test_the_default_locale_follows_the_brands_default_language() -> None:
    wording = Wording({"it": {"messenger_locales": "it_IT"}, "en": {"messenger_locales": ""}})
    assert messenger_profile_body(HAND_MADE, ("en", "it"), wording) == hand_made_body(
        [("default", "en"), ("it_IT", "it")]
    )


def test_a_language_without_messenger_locales_still_has_the_default() -> None:
    wording = Wording({"it": {"messenger_locales": ""}, "en": {"messenger_locales": " "}})
    assert messenger_profile_body(HAND_MADE, ("it", "en"), wording) == hand_made_body(
        [("default", "it")]
    )


# ------------------------------------------------------------- sending, in process


def settings_for(base_url: str, token: str | None = TOKEN) -> MessengerSettings:
    return MessengerSettings(graph_api_url=base_url, graph_api_version="v21.0",
                             page_access_token=token)


def test_set_up_profile_sends_the_body_once() -> None:
    brand = real_brand()
    api = FakeGraphApi(TOKEN)

    async def scenario() -> dict[str, Any]:
        async with FakeGraphServer(api) as base_url:
            return await set_up_profile(brand.messenger, brand.languages, real_wording(brand),
                                        settings_for(base_url))

    sent = asyncio.run(scenario())
    calls = api.calls_to("me/messenger_profile", "POST")
    assert len(api.calls) == len(calls) == 1
    assert calls[0].path == "/v21.0/me/messenger_profile"
    assert calls[0].status == 200
    assert calls[0].json == sent == expected_body(real_data()["messenger"], REAL_LOCALES)
    assert api.messenger_profile == sent
    assert [entry["locale"] for entry in api.messenger_profile["greeting"]] == [
        "default", "it_IT", "en_US", "en_GB"
    ]


def test_set_up_profile_without_a_token_sends_nothing() -> None:
    brand = real_brand()
    with pytest.raises(MissingTokenError, match="PAGE_ACCESS_TOKEN is not set"):
        asyncio.run(set_up_profile(brand.messenger, brand.languages, real_wording(brand),
                                   settings_for("http://127.0.0.1:9", token=None)))


def test_set_up_profile_reports_a_refusal_without_the_token() -> None:
    brand = real_brand()
    api = FakeGraphApi(TOKEN)
    api.fail_next(1, 400, code=100, message=f"(#100) bad profile for token {TOKEN}")

    async def scenario() -> None:
        async with FakeGraphServer(api) as base_url:
            await set_up_profile(brand.messenger, brand.languages, real_wording(brand),
                                 settings_for(base_url))

    with pytest.raises(GraphSendError) as caught:
        asyncio.run(scenario())
    assert caught.value.status == 400 and caught.value.attempts == 1
    assert TOKEN not in str(caught.value)
    assert len(api.calls) == 1 and api.messenger_profile == {}


# ------------------------------------------------- the fake checks profiles like Graph


def post_profile(body: dict[str, Any], api: FakeGraphApi | None = None) -> GraphSendError | None:
    """Sends `body` as it is to the fake; the error Graph-style, or None when accepted."""
    from bot.messenger.graph_client import GraphClient

    api = api or FakeGraphApi(TOKEN)

    async def scenario() -> None:
        async with FakeGraphServer(api) as base_url, GraphClient(
            base_url, TOKEN, max_attempts=1
        ) as client:
            await client.set_messenger_profile(body)

    try:
        asyncio.run(scenario())
    except GraphSendError as error:
        return error
    return None


def good_body() -> dict[str, Any]:
    return expected_body(real_data()["messenger"], REAL_LOCALES)


def test_fake_accepts_the_real_body() -> None:
    api = FakeGraphApi(TOKEN)
    assert post_profile(good_body(), api) is None
    assert api.messenger_profile == good_body()


def test_fake_accepts_a_body_in_the_default_locale_only() -> None:
    body = good_body()
    for field in ("greeting", "ice_breakers", "persistent_menu"):
        body[field] = body[field][:1]
    assert post_profile(body) is None


def _menu(body: dict[str, Any], entry: int = 0) -> list[dict[str, Any]]:
    return body["persistent_menu"][entry]["call_to_actions"]


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda b: _menu(b)[0].update(title="T" * 31), "[title] must be at most 30"),
        (lambda b: _menu(b, 3)[1].update(title="T" * 31),
         "persistent_menu[3][call_to_actions][1][title] must be at most 30"),
        (lambda b: _menu(b).extend([_menu(b)[0]] * 16), "between 1 and 20"),
        (lambda b: _menu(b, 2).extend([_menu(b, 2)[0]] * 16),
         "persistent_menu[2][call_to_actions] must have between 1 and 20"),
        (lambda b: _menu(b)[0].update(type="nested"), "must be one of postback, web_url"),
        (lambda b: _menu(b).append({"type": "web_url", "title": "Old site", "url": "ftp://x"}),
         "valid URL"),
        (lambda b: b["persistent_menu"][0].update(locale="fr_FR"), "must include the"),
        (lambda b: b["persistent_menu"].pop(0), "must include the"),
        (lambda b: b["persistent_menu"][3].update(locale="en_US"),
         "param persistent_menu has the locale"),
        (lambda b: b.pop("get_started"), "Get Started button"),
        (lambda b: b["greeting"][0].update(locale="de_DE"), "must include the"),
        (lambda b: b["greeting"].pop(0), "must include the"),
        (lambda b: b["greeting"][1].update(locale="default"), "param greeting has the locale"),
        (lambda b: b["greeting"][0].update(text="x" * 161), "at most 160"),
        (lambda b: b["greeting"][2].update(text="x" * 161),
         "greeting[2][text] must be at most 160"),
        (lambda b: b["greeting"][3].pop("text"), "greeting[3][text] is required"),
        (lambda b: b["ice_breakers"][0]["call_to_actions"].append(
            {"question": "Fifth?", "payload": "/greet"}), "between 1 and 4"),
        (lambda b: b["ice_breakers"][2]["call_to_actions"].append(
            {"question": "Fifth?", "payload": "/greet"}),
         "ice_breakers[2][call_to_actions] must have between 1 and 4"),
        (lambda b: b["ice_breakers"][0].update(locale="de_DE"), "must include the"),
        (lambda b: b["ice_breakers"].pop(0), "must include the"),
        (lambda b: b["ice_breakers"].append({"question": "Old?", "payload": "/greet"}),
         "mixes"),
        (lambda b: b["ice_breakers"][0]["call_to_actions"][0].pop("payload"),
         "[payload] is required"),
        (lambda b: b["ice_breakers"][1]["call_to_actions"][0].pop("payload"),
         "ice_breakers[1][call_to_actions][0][payload] is required"),
    ],
)
def test_fake_refuses_what_graph_refuses(spoil: Any, message: str) -> None:
    body = good_body()
    spoil(body)
    error = post_profile(body)
    assert error is not None and error.status == 400
    assert message in str(error)


def test_fake_accepts_a_menu_when_get_started_was_set_before() -> None:
    api = FakeGraphApi(TOKEN)
    body = good_body()
    assert post_profile({"get_started": body.pop("get_started")}, api) is None
    assert post_profile({"persistent_menu": body["persistent_menu"]}, api) is None
    assert set(api.messenger_profile) == {"get_started", "persistent_menu"}
    assert len(api.messenger_profile["persistent_menu"]) == len(REAL_LOCALES)


# --------------------------------------------------------------------- the order card's picture


def test_order_card_picture_is_filled_with_the_product_code(tmp_path: Path) -> None:
    path = changed(tmp_path, "messenger.order_card_image", "https://cdn.example.com/{sku}.jpg")
    profile = load_brand(path).messenger
    assert profile.order_card_image_for("NW-RUN-42") == "https://cdn.example.com/NW-RUN-42.jpg"
    assert profile.order_card_image_for("a b/c") == "https://cdn.example.com/a%20b%2Fc.jpg"
    assert profile.order_card_image_for(None) == ""


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ("http://cdn.example.com/{sku}.jpg", "https"),
        ("https://cdn.example.com/{product}.jpg", "{product}"),
        ("not a url", "https://"),
    ],
)
def test_order_card_picture_mistakes_are_named(tmp_path: Path, value: str, complaint: str) -> None:
    error = error_for(changed(tmp_path, "messenger.order_card_image", value))
    assert "messenger.order_card_image" in str(error) and complaint in str(error)
