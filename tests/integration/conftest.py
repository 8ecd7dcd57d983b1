"""The running product for end-to-end tests: action server + Rasa server on loopback.

Started once per test session on their own ports with their own SQLite database and the
model in models/ (trained first if there is none that matches the data).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.runtime.shell import send
from bot.settings import Settings, load_settings
from tests.fakes.fake_graph import DEFAULT_TOKEN, FakeGraphApi
from tests.fakes.fake_graph_server import FakeGraphServer
from tests.frozen_time import NIGHT

PROJECT_DIR = Path(__file__).resolve().parents[2]

FAKE_PROFILE = {"first_name": "Giulia", "last_name": "Bianchi", "profile_pic": ""}
"""The Graph profile of every test customer."""

PORT_OFFSET = int(os.environ.get("NIGHTDESK_E2E_PORT_OFFSET", "0"))
"""Added to every test server port, so two checkouts can run the end-to-end tests at once."""


def port(number: int) -> int:
    """A test server port, shifted by NIGHTDESK_E2E_PORT_OFFSET."""
    return number + PORT_OFFSET


@dataclass
class Stack:
    """The running servers and how to talk to them."""

    settings: Settings
    environ: dict[str, str]
    log_dir: Path

    def send(self, sender: str, text: str, first_name: str | None = None,
             language: str | None = None) -> list[dict[str, Any]]:
        """One message through the REST channel (as `nightdesk shell` sends it); the replies.

        `language` is the channel's hint for a new conversation (the brand's default else).
        """
        return send(self.settings.rasa_url, sender, text, first_name, language)

    def say(self, sender: str, text: str, first_name: str | None = None,
            language: str | None = None) -> str:
        """The bot's replies to one message, joined into one string."""
        return "\n".join(r.get("text", "") for r in self.send(sender, text, first_name,
                                                               language))

    def tracker(self, sender: str) -> dict[str, Any]:
        """The conversation's tracker from Rasa's HTTP API."""
        url = (
            f"{self.settings.rasa_url}/conversations/{sender}/tracker"
            f"?token={self.settings.rasa_auth_token}"
        )
        with urllib.request.urlopen(url, timeout=30) as response:
            return json.loads(response.read())

    def nightdesk(self, *args: str) -> subprocess.CompletedProcess:
        """Runs the `nightdesk` CLI against this stack."""
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", *args],
            env=self.environ, capture_output=True, text=True, timeout=120, cwd=PROJECT_DIR,
        )


def stack_environment(tmp: Path, rasa_port: int, action_port: int, **extra: str) -> dict[str, str]:
    """Environment variables for an isolated stack."""
    env = dict(os.environ)
    env.update(
        NIGHTDESK_HOME=str(PROJECT_DIR),
        DATABASE_URL=f"sqlite:///{tmp / 'nightdesk.db'}",
        RASA_URL=f"http://127.0.0.1:{rasa_port}",
        RASA_AUTH_TOKEN="test-token-" + uuid.uuid4().hex[:8],
        ACTION_SERVER_URL=f"http://127.0.0.1:{action_port}/webhook",
        ORDERS_BACKEND="sql",
        RASA_TELEMETRY_ENABLED="false",
        NIGHTDESK_FROZEN_NOW=NIGHT,
    )
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def model_path() -> Path:
    """The model to test: the newest in models/, trained if none matches the data."""
    from bot.runtime.training import train_if_needed

    return train_if_needed(load_settings(stack_environment(Path("/tmp"), 1, 1)))


def start_stack(
    tmp: Path, environ: dict[str, str], model: Path, debug: bool = False
) -> Iterator[Stack]:
    """Seeds the demo shop, starts both servers, yields the stack, stops them."""
    from bot.orders.seed import seed_demo_shop
    from bot.runtime.processes import running_servers
    from bot.store import create_db_engine

    settings = load_settings(environ)
    seed_demo_shop(create_db_engine(settings.database_url), settings.clock()())
    log_dir = tmp / "logs"
    with running_servers(settings, model, log_dir=log_dir, timeout=400, debug=debug):
        yield Stack(settings, environ, log_dir)


@pytest.fixture(scope="session")
def fake_graph() -> Iterator[FakeGraphApi]:
    """The local fake Graph API every test stack sends Messenger calls to."""
    server = FakeGraphServer(FakeGraphApi(profiles={}, default_profile=FAKE_PROFILE))
    server.start_in_thread()
    try:
        yield server.api
    finally:
        server.stop_thread()


def messenger_environment(graph: FakeGraphApi, ingress_port: int) -> dict[str, str]:
    """The Messenger settings of a test stack: our secrets, the fake Graph API, the receiver."""
    from tests import messenger_payloads

    return {
        "GRAPH_API_URL": graph.base_url or "",
        "PAGE_ACCESS_TOKEN": DEFAULT_TOKEN,
        "APP_SECRET": messenger_payloads.APP_SECRET,
        "VERIFY_TOKEN": messenger_payloads.VERIFY_TOKEN,
        "META_APP_ID": messenger_payloads.APP_ID,
        "MESSENGER_INGRESS_PORT": str(ingress_port),
    }


@pytest.fixture(scope="session")
def stack(
    tmp_path_factory: pytest.TempPathFactory, model_path: Path, fake_graph: FakeGraphApi
) -> Iterator[Stack]:
    """Action server and Rasa server on an SQLite database with a seeded demo shop.

    Messenger is configured against the fake Graph API.
    """
    tmp = tmp_path_factory.mktemp("stack")
    # Rasa's debug log includes every message: the privacy test needs to see it redacted
    environ = stack_environment(
        tmp, port(15005), port(15055), **messenger_environment(fake_graph, port(15006)),
        # every conversation of this stack proves Rasa sends the action server its secret
        ACTION_SERVER_TOKEN="test-actions-" + uuid.uuid4().hex[:8],
    )
    yield from start_stack(tmp, environ, model_path, debug=True)


@pytest.fixture
def sender() -> str:
    """A fresh conversation id."""
    return f"test-{uuid.uuid4().hex[:10]}"
