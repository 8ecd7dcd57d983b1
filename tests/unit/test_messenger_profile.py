"""The `messenger` section of brand.yml, the Messenger Profile body, and the fake's checks."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.messenger.fake_graph import FakeGraphApi, FakeGraphServer
from bot.messenger.graph_client import GraphSendError
from bot.messenger.profile import MissingTokenError, messenger_profile_body, set_up_profile
from bot.messenger.translate import is_intent_trigger
from bot.settings import MessengerSettings
from bot.settings.brand import (
    BrandError,
    IceBreaker,
    MenuItem,
    MessengerProfile,
    load_brand,
)

PROJECT_DIR = Path(__file__).resolve().parents[2]
REAL_BRAND = PROJECT_DIR / "brand.yml"
DELETE = object()
TOKEN = "profile-test-token-4711"


def real_data() -> dict[str, Any]:
    return yaml.safe_load(REAL_BRAND.read_text(encoding="utf-8"))


def steps(key_path: str) -> list[str | int]:
    """Split "messenger.persistent_menu[2].title" into its keys and indexes."""
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


def menu_item(title: str, payload: str) -> dict[str, str]:
    return {"title": title, "payload": payload}


# --------------------------------------------------------------------- good sections


def test_real_brand_file_has_a_complete_messenger_section() -> None:
    raw = real_data()["messenger"]
    profile = load_brand(REAL_BRAND).messenger

    assert isinstance(profile, MessengerProfile)
    assert profile.greeting == raw["greeting"].strip()
    assert re.search(r"\bautomated\b", profile.greeting, re.IGNORECASE)
    assert len(profile.greeting) <= 160
    assert profile.ice_breakers == tuple(
        IceBreaker(item["question"], item["payload"]) for item in raw["ice_breakers"]
    )
    assert 1 <= len(profile.ice_breakers) <= 4
    assert profile.persistent_menu == tuple(
        MenuItem(item["title"], item.get("payload"), item.get("url"))
        for item in raw["persistent_menu"]
    )
    assert MenuItem("Talk to a person", "/human_request") in profile.persistent_menu
    assert any(item.url is not None for item in profile.persistent_menu)


def test_every_payload_of_the_real_file_is_an_intent_the_bot_knows() -> None:
    domain = yaml.safe_load((PROJECT_DIR / "domain.yml").read_text(encoding="utf-8"))
    intents = {name if isinstance(name, str) else next(iter(name)) for name in domain["intents"]}
    profile = load_brand(REAL_BRAND).messenger
    payloads = [item.payload for item in profile.ice_breakers]
    payloads += [item.payload for item in profile.persistent_menu if item.payload]
    assert len(payloads) >= 5
    for payload in payloads:
        assert is_intent_trigger(payload), payload
        assert payload[1:] in intents, payload


def test_section_at_the_limits_loads(tmp_path: Path) -> None:
    greeting = "Hello {{user_full_name}}, this is our automated assistant. "
    greeting += "x" * (160 - len(greeting))
    entity_payload = '/inform{"order_number": "10023"}'
    section = {
        "greeting": greeting,
        "ice_breakers": [{"question": "Q" * 80, "payload": entity_payload}],
        "persistent_menu": [menu_item(f"Item {n:02d}".ljust(30, "."), f"/intent_{n}")
                            for n in range(19)]
        + [menu_item("Talk to a person", "/human_request")],
        "order_card_image": "https://cdn.example.com/p/{sku}/main.jpg",
    }
    data = real_data()
    data["messenger"] = section
    profile = load_brand(write(tmp_path, data)).messenger
    assert len(profile.greeting) == 160
    assert profile.ice_breakers == (IceBreaker("Q" * 80, entity_payload),)
    assert len(profile.persistent_menu) == 20
    assert all(len(item.title) == 30 for item in profile.persistent_menu[:19])


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
    assert load_brand(changed(tmp_path, "messenger.greeting", greeting)).messenger.greeting == (
        greeting
    )


# ------------------------------------------------------------------------- mistakes

TOO_MANY_BREAKERS = [{"question": f"Question {n}?", "payload": "/greet"} for n in range(5)]
NO_HUMAN_MENU = [menu_item("Track my order", "/order_status"),
                 {"title": "Help centre", "url": "https://northwind-footwear.example/help"}]
MENU_OF_21 = [menu_item(f"Item {n}", f"/intent_{n}") for n in range(20)] + [
    menu_item("Talk to a person", "/human_request")
]

CASES = [
    # the greeting
    ("messenger.greeting", "Hi {{user_first_name}}! How can we help?", "messenger.greeting",
     "must tell the customer they are talking to an automated assistant"),
    ("messenger.greeting", "Hi! I'm Nora, your assistant.", "messenger.greeting",
     "automated assistant"),
    ("messenger.greeting", "Welcome to Abbott's shoe shop, we reply at once.",
     "messenger.greeting", "automated assistant"),
    ("messenger.greeting", "Our automated assistant is here. " + "x" * 128, "messenger.greeting",
     "is 161 characters long; Messenger allows at most 160"),
    ("messenger.greeting", "Hi {{first_name}}, I'm a bot.", "messenger.greeting",
     "{{first_name}} is not a Messenger placeholder"),
    ("messenger.greeting", "   ", "messenger.greeting", "must not be empty"),
    ("messenger.greeting", DELETE, "messenger.greeting", "missing"),
    # ice breakers
    ("messenger.ice_breakers", TOO_MANY_BREAKERS, "messenger.ice_breakers",
     "must list 1 to 4 questions (Messenger shows at most 4), got 5"),
    ("messenger.ice_breakers", [], "messenger.ice_breakers", "must list 1 to 4 questions"),
    ("messenger.ice_breakers", "Where is my order?", "messenger.ice_breakers",
     "expected a list"),
    ("messenger.ice_breakers[1].question", "W" * 81, "messenger.ice_breakers[1].question",
     "is 81 characters long; Messenger allows at most 80"),
    ("messenger.ice_breakers[2].question", "where is my ORDER?",
     "messenger.ice_breakers[2].question", "is already asked by messenger.ice_breakers[0]"),
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
    ("messenger.persistent_menu[0].title", "Track my order and every parcel",
     "messenger.persistent_menu[0].title",
     "is 31 characters long; Messenger allows at most 30"),
    ("messenger.persistent_menu[2].title", "talk to a PERSON", "messenger.persistent_menu[3].title",
     '"Talk to a person" is already used by messenger.persistent_menu[2]'),
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


def test_thirty_character_title_is_fine(tmp_path: Path) -> None:
    title = "Track my order and its parcels"
    assert len(title) == 30
    brand = load_brand(changed(tmp_path, "messenger.persistent_menu[0].title", title))
    assert brand.messenger.persistent_menu[0].title == title


def test_missing_human_request_message_reads_clearly(tmp_path: Path) -> None:
    path = changed(tmp_path, "messenger.persistent_menu", NO_HUMAN_MENU)
    assert str(error_for(path)) == (
        f'{path}: messenger.persistent_menu: must have an item with payload "/human_request" '
        '(such as "Talk to a person"), so a customer can always reach a person'
    )


# ----------------------------------------------------------------- the Graph body


def expected_body(raw: dict[str, Any]) -> dict[str, Any]:
    """The body Meta documents, written out from the raw YAML (not from our code)."""
    menu = []
    for item in raw["persistent_menu"]:
        if "url" in item:
            menu.append({"type": "web_url", "title": item["title"], "url": item["url"]})
        else:
            menu.append({"type": "postback", "title": item["title"], "payload": item["payload"]})
    return {
        "get_started": {"payload": "GET_STARTED"},
        "greeting": [{"locale": "default", "text": raw["greeting"].strip()}],
        "ice_breakers": [{
            "locale": "default",
            "call_to_actions": [{"question": item["question"], "payload": item["payload"]}
                                for item in raw["ice_breakers"]],
        }],
        "persistent_menu": [{
            "locale": "default",
            "composer_input_disabled": False,
            "call_to_actions": menu,
        }],
    }


def test_body_of_the_real_brand_has_meta_shapes() -> None:
    body = messenger_profile_body(load_brand(REAL_BRAND).messenger)
    assert body == expected_body(real_data()["messenger"])
    assert {"type": "postback", "title": "Talk to a person", "payload": "/human_request"} in (
        body["persistent_menu"][0]["call_to_actions"]
    )


def test_body_of_a_hand_made_profile() -> None:
    profile = MessengerProfile(
        greeting="Hi {{user_first_name}}, I'm a bot.",
        ice_breakers=(IceBreaker("Where is my order?", "/order_status"),),
        persistent_menu=(
            MenuItem("Talk to a person", payload="/human_request"),
            MenuItem("Shop", url="https://shop.example/"),
        ),
    )
    assert messenger_profile_body(profile) == {
        "get_started": {"payload": "GET_STARTED"},
        "greeting": [{"locale": "default", "text": "Hi {{user_first_name}}, I'm a bot."}],
        "ice_breakers": [{"locale": "default", "call_to_actions": [
            {"question": "Where is my order?", "payload": "/order_status"}]}],
        "persistent_menu": [{"locale": "default", "composer_input_disabled": False,
                             "call_to_actions": [
                                 {"type": "postback", "title": "Talk to a person",
                                  "payload": "/human_request"},
                                 {"type": "web_url", "title": "Shop",
                                  "url": "https://shop.example/"}]}],
    }


# ------------------------------------------------------------- sending, in process


def settings_for(base_url: str, token: str | None = TOKEN) -> MessengerSettings:
    return MessengerSettings(graph_api_url=base_url, graph_api_version="v21.0",
                             page_access_token=token)


def test_set_up_profile_sends_the_body_once() -> None:
    profile = load_brand(REAL_BRAND).messenger
    api = FakeGraphApi(TOKEN)

    async def scenario() -> dict[str, Any]:
        async with FakeGraphServer(api) as base_url:
            return await set_up_profile(profile, settings_for(base_url))

    sent = asyncio.run(scenario())
    calls = api.calls_to("me/messenger_profile", "POST")
    assert len(api.calls) == len(calls) == 1
    assert calls[0].path == "/v21.0/me/messenger_profile"
    assert calls[0].status == 200
    assert calls[0].json == sent == expected_body(real_data()["messenger"])
    assert api.messenger_profile == sent


def test_set_up_profile_without_a_token_sends_nothing() -> None:
    with pytest.raises(MissingTokenError, match="PAGE_ACCESS_TOKEN is not set"):
        asyncio.run(set_up_profile(load_brand(REAL_BRAND).messenger,
                                   settings_for("http://127.0.0.1:9", token=None)))


def test_set_up_profile_reports_a_refusal_without_the_token() -> None:
    api = FakeGraphApi(TOKEN)
    api.fail_next(1, 400, code=100, message=f"(#100) bad profile for token {TOKEN}")

    async def scenario() -> None:
        async with FakeGraphServer(api) as base_url:
            await set_up_profile(load_brand(REAL_BRAND).messenger, settings_for(base_url))

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
    return expected_body(real_data()["messenger"])


def test_fake_accepts_the_real_body() -> None:
    assert post_profile(good_body()) is None


def _menu(body: dict[str, Any]) -> list[dict[str, Any]]:
    return body["persistent_menu"][0]["call_to_actions"]


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda b: _menu(b)[0].update(title="T" * 31), "[title] must be at most 30"),
        (lambda b: _menu(b).extend([_menu(b)[0]] * 16), "between 1 and 20"),
        (lambda b: _menu(b)[0].update(type="nested"), "must be one of postback, web_url"),
        (lambda b: _menu(b).append({"type": "web_url", "title": "Old site", "url": "ftp://x"}),
         "valid URL"),
        (lambda b: b["persistent_menu"][0].update(locale="en_US"), "must include the"),
        (lambda b: b.pop("get_started"), "Get Started button"),
        (lambda b: b["greeting"][0].update(locale="it_IT"), "must include the"),
        (lambda b: b["greeting"][0].update(text="x" * 161), "at most 160"),
        (lambda b: b["ice_breakers"][0]["call_to_actions"].append(
            {"question": "Fifth?", "payload": "/greet"}), "between 1 and 4"),
        (lambda b: b["ice_breakers"][0].update(locale="de_DE"), "must include the"),
        (lambda b: b["ice_breakers"].append({"question": "Old?", "payload": "/greet"}),
         "mixes"),
        (lambda b: b["ice_breakers"][0]["call_to_actions"][0].pop("payload"),
         "[payload] is required"),
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
