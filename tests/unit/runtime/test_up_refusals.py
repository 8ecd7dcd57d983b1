"""`nightdesk up` refuses to start a layout anyone could talk into, run as an operator would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[3]


def up(tmp_path: Path, **environ: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "NIGHTDESK_HOME": str(PROJECT_DIR),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'up.db'}",
           "RASA_AUTH_TOKEN": "a-secret-token-of-our-own", **environ}
    return subprocess.run([sys.executable, "-m", "bot.cli", "up"], env=env, cwd=PROJECT_DIR,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("rest", ["open", ""])
def test_an_open_rest_channel_on_every_interface_stops_nightdesk_up_before_anything_starts(
        tmp_path, rest):
    refused = up(tmp_path, RASA_URL="http://0.0.0.0:5999", REST_CHANNEL=rest)
    assert refused.returncode == 2
    assert "refusing to start: reachable without authentication: the REST channel" in \
        refused.stderr
    assert "REST_CHANNEL=off" in refused.stderr
    assert "Starting" not in refused.stdout and not (tmp_path / "up.db").exists()


@pytest.mark.parametrize(("environ", "message"), [
    ({}, "DATABASE_URL must be PostgreSQL"),
    ({"DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/nightdesk_nowhere"},
     "set REDIS_URL"),
])
def test_several_processes_without_postgresql_and_redis_are_refused_before_anything_starts(
        tmp_path, environ, message):
    refused = subprocess.run(
        [sys.executable, "-m", "bot.cli", "up", "--processes", "2"],
        env={**os.environ, "NIGHTDESK_HOME": str(PROJECT_DIR), "REDIS_URL": "",
             "DATABASE_URL": f"sqlite:///{tmp_path / 'up.db'}",
             "RASA_AUTH_TOKEN": "a-secret-token-of-our-own", **environ},
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2
    assert "nightdesk: refusing to start: --processes 2" in refused.stderr
    assert message in refused.stderr
    assert "Starting" not in refused.stdout and not (tmp_path / "up.db").exists()
