"""`nightdesk messenger setup` as a real process against the fake Graph API on loopback."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.fakes.fake_graph import FakeGraphApi
from tests.fakes.fake_graph_server import FakeGraphServer

PROJECT_DIR = Path(__file__).resolve().parents[3]
REAL_BRAND = PROJECT_DIR / "brand.yml"
TOKEN = "EAAsetup-secret-page-token-0042"
OUR_VARIABLES = {
    "NIGHTDESK_HOME", "BRAND_FILE", "DATABASE_URL", "GRAPH_API_URL", "GRAPH_API_VERSION",
    "PAGE_ACCESS_TOKEN", "APP_SECRET", "VERIFY_TOKEN", "META_APP_ID",
}


@pytest.fixture
def fake() -> Iterator[FakeGraphServer]:
    server = FakeGraphServer(FakeGraphApi(page_access_token=TOKEN))
    server.start_in_thread()
    try:
        yield server
    finally:
        server.stop_thread()


def run_setup(
    home: Path, *args: str, brand: Path = REAL_BRAND, **variables: str
) -> subprocess.CompletedProcess[str]:
    """Runs `python -m bot.cli messenger setup ARGS` with only the given settings.

    NIGHTDESK_HOME is an empty folder, so the developer's `.env` is not read.
    """
    env = {name: value for name, value in os.environ.items() if name not in OUR_VARIABLES}
    env.update(NIGHTDESK_HOME=str(home), BRAND_FILE=str(brand), **variables)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "messenger", "setup", *args],
        cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=60, check=False,
    )


LOCALES = [("default", "it"), ("it_IT", "it"), ("en_US", "en"), ("en_GB", "en")]
"""The Messenger locales of the real brand.yml and wording.yml: the default one in Italian."""


def expected_body(locales: list[tuple[str, str]] = LOCALES) -> dict[str, Any]:
    """The profile Meta documents, written out from brand.yml's raw YAML: one entry per locale."""
    raw = yaml.safe_load(REAL_BRAND.read_text(encoding="utf-8"))["messenger"]

    def menu(language: str) -> list[dict[str, str]]:
        return [
            {"type": "web_url", "title": item["title"][language], "url": item["url"]}
            if "url" in item
            else {"type": "postback", "title": item["title"][language],
                  "payload": item["payload"]}
            for item in raw["persistent_menu"]
        ]

    return {
        "get_started": {"payload": "GET_STARTED"},
        "greeting": [{"locale": locale, "text": raw["greeting"][language].strip()}
                     for locale, language in locales],
        "ice_breakers": [{"locale": locale, "call_to_actions": [
            {"question": item["question"][language], "payload": item["payload"]}
            for item in raw["ice_breakers"]
        ]} for locale, language in locales],
        "persistent_menu": [{"locale": locale, "composer_input_disabled": False,
                             "call_to_actions": menu(language)}
                            for locale, language in locales],
    }


def entry(body: dict[str, Any], field: str, locale: str) -> dict[str, Any]:
    """The entry of a localised profile field for one Messenger locale."""
    (found,) = [item for item in body[field] if item["locale"] == locale]
    return found


def test_setup_sends_exactly_the_brand_profile(tmp_path: Path, fake: FakeGraphServer) -> None:
    result = run_setup(tmp_path, GRAPH_API_URL=fake.base_url, PAGE_ACCESS_TOKEN=TOKEN,
                       APP_SECRET="app-secret-77")

    assert result.returncode == 0, result.stderr
    calls = fake.api.calls
    assert len(calls) == 1
    call = calls[0]
    assert (call.method, call.path, call.status) == ("POST", "/v19.0/me/messenger_profile", 200)
    assert call.json == expected_body()
    assert call.query["access_token"] == TOKEN
    proof = hmac.new(b"app-secret-77", TOKEN.encode(), hashlib.sha256).hexdigest()
    assert call.query["appsecret_proof"] == proof
    assert fake.api.messenger_profile == expected_body()
    # What the page shows, spelled out once more: Italian by default, English to en_* users.
    assert call.json["get_started"] == {"payload": "GET_STARTED"}
    for field in ("greeting", "ice_breakers", "persistent_menu"):
        assert [item["locale"] for item in call.json[field]] == [
            "default", "it_IT", "en_US", "en_GB"
        ], field
    assert "assistente virtuale" in entry(call.json, "greeting", "default")["text"]
    assert "assistente virtuale" in entry(call.json, "greeting", "it_IT")["text"]
    assert "automated" in entry(call.json, "greeting", "en_US")["text"]
    assert "automated" in entry(call.json, "greeting", "en_GB")["text"]
    for locale, title in [("default", "Parla con una persona"),
                          ("it_IT", "Parla con una persona"),
                          ("en_US", "Talk to a person"), ("en_GB", "Talk to a person")]:
        assert {"type": "postback", "title": title, "payload": "/human_request"} in (
            entry(call.json, "persistent_menu", locale)["call_to_actions"]
        ), locale
    assert entry(call.json, "ice_breakers", "en_GB")["call_to_actions"][0] == {
        "question": "Where is my order?", "payload": "/order_status"
    }
    assert entry(call.json, "ice_breakers", "default")["call_to_actions"][0] == {
        "question": "Dov'è il mio ordine?", "payload": "/order_status"
    }
    assert "Messenger Profile set" in result.stdout
    assert "Parla con una persona" in result.stdout  # the default locale's menu
    assert TOKEN not in result.stdout + result.stderr


def test_setup_uses_the_messenger_locales_of_the_wording_beside_the_brand_file(
    tmp_path: Path, fake: FakeGraphServer
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    brand = tmp_path / "brand.yml"
    brand.write_text(REAL_BRAND.read_text(encoding="utf-8"), encoding="utf-8")
    wording = yaml.safe_load((PROJECT_DIR / "wording.yml").read_text(encoding="utf-8"))
    wording["en"]["messenger_locales"] = "en_US"
    wording["it"]["messenger_locales"] = "it_IT it_CH"
    (tmp_path / "wording.yml").write_text(yaml.safe_dump(wording, allow_unicode=True),
                                          encoding="utf-8")
    locales = [("default", "it"), ("it_IT", "it"), ("it_CH", "it"), ("en_US", "en")]
    for extra in ((), ("--dry-run",)):
        result = run_setup(home, *extra, brand=brand, GRAPH_API_URL=fake.base_url,
                           PAGE_ACCESS_TOKEN=TOKEN)
        assert result.returncode == 0, result.stderr
        if extra:
            assert json.loads(result.stdout) == expected_body(locales)
    assert len(fake.api.calls) == 1
    assert fake.api.calls[0].json == expected_body(locales)


def test_graph_api_version_comes_from_the_settings(tmp_path: Path, fake: FakeGraphServer) -> None:
    result = run_setup(tmp_path, GRAPH_API_URL=fake.base_url, PAGE_ACCESS_TOKEN=TOKEN,
                       GRAPH_API_VERSION="v21.0")
    assert result.returncode == 0, result.stderr
    assert [call.path for call in fake.api.calls] == ["/v21.0/me/messenger_profile"]


def test_dry_run_prints_the_profile_and_calls_nothing(
    tmp_path: Path, fake: FakeGraphServer
) -> None:
    result = run_setup(tmp_path, "--dry-run", GRAPH_API_URL=fake.base_url,
                       PAGE_ACCESS_TOKEN=TOKEN)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected_body()
    assert fake.api.calls == []
    assert TOKEN not in result.stdout + result.stderr


def test_dry_run_needs_no_token(tmp_path: Path, fake: FakeGraphServer) -> None:
    result = run_setup(tmp_path, "--dry-run", GRAPH_API_URL=fake.base_url)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["get_started"] == {"payload": "GET_STARTED"}
    assert fake.api.calls == []


def test_missing_token_is_a_clear_error(tmp_path: Path, fake: FakeGraphServer) -> None:
    result = run_setup(tmp_path, GRAPH_API_URL=fake.base_url)

    assert result.returncode == 2
    assert "PAGE_ACCESS_TOKEN is not set" in result.stderr
    assert result.stdout == ""
    assert fake.api.calls == []


def test_empty_token_counts_as_missing(tmp_path: Path, fake: FakeGraphServer) -> None:
    result = run_setup(tmp_path, GRAPH_API_URL=fake.base_url, PAGE_ACCESS_TOKEN="   ")
    assert result.returncode == 2
    assert "PAGE_ACCESS_TOKEN is not set" in result.stderr
    assert fake.api.calls == []


def test_refused_token_fails_without_printing_it(tmp_path: Path, fake: FakeGraphServer) -> None:
    wrong = "EAAwrong-page-token-9913"
    result = run_setup(tmp_path, GRAPH_API_URL=fake.base_url, PAGE_ACCESS_TOKEN=wrong)

    assert result.returncode == 1
    assert "the Messenger Profile was not set" in result.stderr
    assert "HTTP 400" in result.stderr and "error code 190" in result.stderr
    assert wrong not in result.stdout + result.stderr
    assert len(fake.api.calls) == 1  # a 4xx is final: no retry
    assert fake.api.messenger_profile == {}


def test_graph_4xx_fails_and_hides_a_token_echoed_by_graph(
    tmp_path: Path, fake: FakeGraphServer
) -> None:
    fake.api.fail_next(1, 400, code=100, message=f"(#100) Invalid parameter near {TOKEN}")
    result = run_setup(tmp_path, GRAPH_API_URL=fake.base_url, PAGE_ACCESS_TOKEN=TOKEN)

    assert result.returncode == 1
    assert "HTTP 400, error code 100" in result.stderr
    assert "Invalid parameter near <token>" in result.stderr
    assert TOKEN not in result.stdout + result.stderr
    assert len(fake.api.calls) == 1
    assert fake.api.messenger_profile == {}


def test_graph_5xx_is_retried_then_fails(tmp_path: Path, fake: FakeGraphServer) -> None:
    fake.api.fail_next(10, 503)
    result = run_setup(tmp_path, GRAPH_API_URL=fake.base_url, PAGE_ACCESS_TOKEN=TOKEN)

    assert result.returncode == 1
    assert "HTTP 503" in result.stderr and "3 attempts" in result.stderr
    assert TOKEN not in result.stdout + result.stderr
    assert len(fake.api.calls) == 3
    assert fake.api.messenger_profile == {}


def test_graph_5xx_once_then_success(tmp_path: Path, fake: FakeGraphServer) -> None:
    fake.api.fail_next(1, 500)
    result = run_setup(tmp_path, GRAPH_API_URL=fake.base_url, PAGE_ACCESS_TOKEN=TOKEN)

    assert result.returncode == 0, result.stderr
    assert [call.status for call in fake.api.calls] == [500, 200]
    assert fake.api.messenger_profile == expected_body()


def test_unreachable_graph_fails_cleanly(tmp_path: Path) -> None:
    server = FakeGraphServer(FakeGraphApi(page_access_token=TOKEN))
    base_url = server.start_in_thread()
    server.stop_thread()  # nothing listens there any more
    result = run_setup(tmp_path, GRAPH_API_URL=base_url, PAGE_ACCESS_TOKEN=TOKEN)

    assert result.returncode == 1
    assert "connection failed" in result.stderr
    assert TOKEN not in result.stdout + result.stderr


def test_broken_messenger_section_is_reported_and_nothing_is_sent(
    tmp_path: Path, fake: FakeGraphServer
) -> None:
    data = yaml.safe_load(REAL_BRAND.read_text(encoding="utf-8"))
    data["messenger"]["persistent_menu"] = [
        item for item in data["messenger"]["persistent_menu"]
        if item.get("payload") != "/human_request"
    ]
    brand = tmp_path / "brand.yml"
    brand.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    for extra in ((), ("--dry-run",)):
        result = run_setup(tmp_path, *extra, brand=brand, GRAPH_API_URL=fake.base_url,
                           PAGE_ACCESS_TOKEN=TOKEN)
        assert result.returncode == 2
        expected = f'{brand}: messenger.persistent_menu: must have an item with payload "/hu'
        assert expected in result.stderr
        assert result.stdout == ""
    assert fake.api.calls == []


@pytest.mark.parametrize(
    ("language", "greeting", "problem"),
    [
        ("en", "Hi {{user_first_name}}! How can we help?", "automated assistant"),
        ("it", "Ciao! Come possiamo aiutarti?", 'in Italian "assistente virtuale"'),
    ],
)
def test_a_broken_greeting_is_reported_with_its_language_and_nothing_is_sent(
    tmp_path: Path, fake: FakeGraphServer, language: str, greeting: str, problem: str
) -> None:
    data = yaml.safe_load(REAL_BRAND.read_text(encoding="utf-8"))
    data["messenger"]["greeting"][language] = greeting
    brand = tmp_path / "brand.yml"
    brand.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    for extra in ((), ("--dry-run",)):
        result = run_setup(tmp_path, *extra, brand=brand, GRAPH_API_URL=fake.base_url,
                           PAGE_ACCESS_TOKEN=TOKEN)
        assert result.returncode == 2
        assert f"{brand}: messenger.greeting.{language}: must tell the customer" in result.stderr
        assert problem in result.stderr
        assert result.stdout == ""
    assert fake.api.calls == []


def test_a_greeting_in_one_language_only_is_reported(
    tmp_path: Path, fake: FakeGraphServer
) -> None:
    data = yaml.safe_load(REAL_BRAND.read_text(encoding="utf-8"))
    data["messenger"]["greeting"] = data["messenger"]["greeting"]["en"]
    brand = tmp_path / "brand.yml"
    brand.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    result = run_setup(tmp_path, brand=brand, GRAPH_API_URL=fake.base_url,
                       PAGE_ACCESS_TOKEN=TOKEN)
    assert result.returncode == 2
    assert (f"{brand}: messenger.greeting: give it in every brand language (it: ..., en: ...)"
            in result.stderr)
    assert fake.api.calls == []
