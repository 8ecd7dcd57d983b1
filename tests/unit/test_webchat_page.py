"""The web chat's request checks and its page, without a server."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

from bot.settings import get_settings
from bot.settings.brand import load_brand
from bot.webchat.chat_request import ChatRequestError, parse_chat_request
from bot.webchat.page import initials, load_static_files, page_config, render_page


def body(**fields) -> bytes:
    return json.dumps(fields).encode()


def test_a_message_with_its_chip_text_and_name_becomes_metadata():
    request = parse_chat_request(
        body(sender="wc-0123456789ab", message=" /order_status ",
             display_text="Where's my order?", first_name=" Marta ")
    )
    assert request.message == "/order_status"
    assert request.metadata() == {"first_name": "Marta", "display_text": "Where's my order?"}


def test_blank_optional_fields_are_left_out():
    request = parse_chat_request(
        body(sender="wc-0123456789ab", message="hi", display_text=None, first_name="  ")
    )
    assert request.metadata() == {}


@pytest.mark.parametrize(
    ("raw", "complaint"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (body(message="hi"), "'sender'"),
        (body(sender="short", message="hi"), "'sender'"),
        (body(sender="wc-../../etc/passwd", message="hi"), "'sender'"),
        (body(sender="wc-0123456789ab"), "'message'"),
        (body(sender="wc-0123456789ab", message="   "), "'message'"),
        (body(sender="wc-0123456789ab", message=42), "'message'"),
        (body(sender="wc-0123456789ab", message="x" * 2001), "longer than 2000"),
        (body(sender="wc-0123456789ab", message="hi", first_name=["A"]), "'first_name'"),
        (body(sender="wc-0123456789ab", message="hi", first_name="A" * 65), "'first_name'"),
    ],
)
def test_bad_requests_say_what_is_wrong(raw, complaint):
    with pytest.raises(ChatRequestError, match=re.escape(complaint)):
        parse_chat_request(raw)


def test_initials_stand_in_for_a_missing_avatar():
    assert initials("Nora") == "N"
    assert initials("ada lovelace bot") == "AL"
    assert initials("  ") == "?"


@pytest.fixture()
def brand():
    return load_brand(get_settings().brand_file)


def test_the_page_carries_the_brand_and_its_messenger_profile(brand):
    config = page_config(brand, "/webhooks/webchat")
    assert config["webhook"] == "/webhooks/webchat/webhook"
    assert config["botName"] == brand.bot_name and config["avatarUrl"] == brand.avatar_url
    assert [b["payload"] for b in config["iceBreakers"]] == [
        i.payload for i in brand.messenger.ice_breakers
    ]
    assert any(item["payload"] == "/human_request" for item in config["menu"])
    page = render_page(brand, "/webhooks/webchat")
    assert f"<title>{brand.bot_name} · {brand.name}</title>" in page
    assert 'href="/webhooks/webchat/static/chat.css"' in page
    assert "{{" not in page.replace("{{user_first_name}}", "")


def test_brand_text_cannot_break_out_of_the_page(brand):
    hostile = replace(brand, name="Shoes</script><script>alert(1)</script>{{base}}",
                      bot_name="<b>Nora</b>")
    page = render_page(hostile, "/webhooks/webchat")
    assert "<script>alert(1)" not in page and "<b>Nora" not in page
    config_json = page.split('id="nightdesk-config">')[1].split("</script>")[0]
    assert json.loads(config_json)["brandName"] == hostile.name
    assert "&lt;b&gt;Nora&lt;/b&gt;" in page  # the title, escaped
    assert "{{base}}" in json.loads(config_json)["brandName"]


def test_the_page_files_are_served_with_their_types():
    files = load_static_files()
    assert set(files) == {"chat.css", "chat.js"}
    assert files["chat.js"].content_type.startswith("text/javascript")
    assert b"innerHTML" not in files["chat.js"].body  # every text goes in as text
