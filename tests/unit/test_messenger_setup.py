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

from bot.messenger.fake_graph import FakeGraphApi, FakeGraphServer

PROJECT_DIR = Path(__file__).resolve().parents[2]
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


def expected_body() -> dict[str, Any]:
    """The profile Meta documents, written out from brand.yml's raw YAML."""
    raw = yaml.safe_load(REAL_BRAND.read_text(encoding="utf-8"))["messenger"]
    menu = [
        {"type": "web_url", "title": item["title"], "url": item["url"]} if "url" in item
        else {"type": "postback", "title": item["title"], "payload": item["payload"]}
        for item in raw["persistent_menu"]
    ]
    return {
        "get_started": {"payload": "GET_STARTED"},
        "greeting": [{"locale": "default", "text": raw["greeting"].strip()}],
        "ice_breakers": [{"locale": "default", "call_to_actions": [
            {"question": item["question"], "payload": item["payload"]}
            for item in raw["ice_breakers"]
        ]}],
        "persistent_menu": [{"locale": "default", "composer_input_disabled": False,
                             "call_to_actions": menu}],
    }


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
    # What the page shows, spelled out once more.
    assert call.json["get_started"] == {"payload": "GET_STARTED"}
    assert "automated" in call.json["greeting"][0]["text"]
    assert {"type": "postback", "title": "Talk to a person", "payload": "/human_request"} in (
        call.json["persistent_menu"][0]["call_to_actions"]
    )
    assert "Messenger Profile set" in result.stdout
    assert "Talk to a person" in result.stdout
    assert TOKEN not in result.stdout + result.stderr


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
