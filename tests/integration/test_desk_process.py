"""The desk as `nightdesk up` runs it: its own process on DESK_URL, and the first admin."""

from __future__ import annotations

import re
import subprocess
import sys
import urllib.request
from pathlib import Path

from bot.runtime.processes import running_desk
from bot.settings import load_settings
from tests.integration.conftest import PROJECT_DIR, port, stack_environment


def _environment(tmp_path: Path) -> dict[str, str]:
    env = stack_environment(tmp_path, port(15105), port(15155))
    env["DESK_URL"] = f"http://127.0.0.1:{port(15080)}"
    return env


def _first_admin_line(env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-c", "from bot.cli import _demo_admin_line; print(_demo_admin_line())"],
        env=env, cwd=PROJECT_DIR, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_desk_process_serves_the_login_page_and_the_first_admin_can_log_in(tmp_path):
    env = _environment(tmp_path)
    first = _first_admin_line(env)
    found = re.search(r"login (\S+), one-time password (\S+)", first)
    assert found, first
    login, password = found.groups()
    assert "log in with your desk account" in _first_admin_line(env)  # made only once

    settings = load_settings(env)
    with running_desk(settings, tmp_path / "logs"):
        with urllib.request.urlopen(f"{settings.desk_url}/login", timeout=10) as page:
            assert page.status == 200 and b"Log in" in page.read()
        from bot.desk.agents import AgentDirectory
        from bot.store import create_db_engine

        directory = AgentDirectory(create_db_engine(settings.database_url))
        assert directory.authenticate(login, password).role.value == "admin"
    assert password not in (tmp_path / "logs" / "desk.log").read_text()
