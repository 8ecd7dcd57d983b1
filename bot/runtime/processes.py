"""Starting the action server and the Rasa server, waiting until they answer, stopping them."""

from __future__ import annotations

import contextlib
import http.client
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bot.runtime.training import rasa_command, rasa_environment
from bot.settings import Settings


class StartupError(RuntimeError):
    """A server did not come up in time or exited during start-up."""


@dataclass
class ManagedProcess:
    """A child process with the URL that tells whether it is ready."""

    name: str
    process: subprocess.Popen
    ready_url: str

    def stop(self, grace_seconds: float = 15) -> None:
        """SIGINT (Rasa's clean shutdown), then SIGTERM, then SIGKILL."""
        if self.process.poll() is not None:
            return
        for sig, wait in ((signal.SIGINT, grace_seconds), (signal.SIGTERM, 5)):
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue
        self.process.kill()
        self.process.wait()


def listen_port(url: str) -> int:
    """The port a process we start for `url` listens on (80 when the URL names none)."""
    return urlsplit(url).port or 80


def listen_host(url: str) -> str:
    """The interface a process we start for `url` listens on (loopback when none)."""
    return urlsplit(url).hostname or "127.0.0.1"


def answers(url: str, timeout: float = 2) -> bool:
    """Whether `url` answers HTTP 200 right now (a refused or broken connection is a no)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (OSError, http.client.HTTPException):  # URLError, refused, reset, timed out
        return False


def wait_until_ready(managed: ManagedProcess, timeout: float) -> float:
    """Polls the ready URL; returns the seconds it took.

    Raises:
        StartupError: the process exited or did not answer within `timeout`.
    """
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if managed.process.poll() is not None:
            raise StartupError(f"{managed.name} exited with code {managed.process.returncode}")
        if answers(managed.ready_url):
            return time.monotonic() - started
        time.sleep(0.5)
    raise StartupError(f"{managed.name} was not ready after {timeout:.0f} s")


def start_action_server(settings: Settings, log_file: Path | None = None, *,
                        name: str = "action server", ready_path: str = "/health"
                        ) -> ManagedProcess:
    """`rasa run actions` on the port of ACTION_SERVER_URL."""
    url = settings.action_server_url
    command = [
        sys.executable, "-m", "bot.runtime.serve", "actions",
        "--actions", "actions", "--port", str(listen_port(url)),
    ]
    process = _spawn(_niced(command), settings, log_file)
    base = f"http://{listen_host(url)}:{str(listen_port(url))}"
    return ManagedProcess(name, process, f"{base}{ready_path}")


def start_messenger_ingress(settings: Settings, log_file: Path | None = None, *,
                            ready_path: str = "/health") -> ManagedProcess:
    """The Messenger webhook receiver on MESSENGER_INGRESS_HOST:MESSENGER_INGRESS_PORT."""
    command = [sys.executable, "-m", "bot.messenger.ingress"]
    process = _spawn(command, settings, log_file)
    return ManagedProcess(
        "Messenger webhook receiver", process, f"{settings.messenger.ingress_url}{ready_path}"
    )


def start_desk(settings: Settings, log_file: Path | None = None, *,
               ready_path: str = "/health") -> ManagedProcess:
    """The agents' desk (`bot.desk.app`) on the host and port of DESK_URL."""
    url = settings.desk_url
    command = [sys.executable, "-m", "bot.desk.app", "--host", listen_host(url),
               "--port", str(listen_port(url))]
    process = _spawn(command, settings, log_file)
    return ManagedProcess("agents' desk", process, f"{url}{ready_path}")


def start_haproxy(settings: Settings, haproxy: str, config: Path, ready_url: str,
                  log_file: Path | None = None) -> ManagedProcess:
    """HAProxy in the foreground (`haproxy -db -f <config>`), logging to its output."""
    process = _spawn([haproxy, "-db", "-f", str(config)], settings, log_file)
    return ManagedProcess("HAProxy", process, ready_url)


def start_rasa_server(
    settings: Settings, model: Path, log_file: Path | None = None, debug: bool = False, *,
    name: str = "Rasa server", ready_path: str | None = None,
) -> ManagedProcess:
    """`rasa run` with our channels, endpoints and HTTP API (token-protected).

    `debug` turns on Rasa's debug log, which includes every message (redacted by us).
    `ready_path` is the URL path that says it is ready (default: the HTTP API's /status).
    """
    project = settings.project_dir
    command = rasa_command(
        "run",
        "--model", str(model),
        "--endpoints", str(project / "endpoints.yml"),
        "--credentials", str(project / "credentials.yml"),
        "--interface", listen_host(settings.rasa_url),
        "--port", str(listen_port(settings.rasa_url)),
        "--enable-api",
        "--auth-token", settings.rasa_auth_token,
        *(["--debug"] if debug else []),
    )
    process = _spawn(_niced(command), settings, log_file)
    ready = (f"{settings.rasa_url}{ready_path}" if ready_path else
             f"{settings.rasa_url}/status?token={settings.rasa_auth_token}")
    return ManagedProcess(name, process, ready)


BOT_NICENESS = 10
"""How much lower the CPU priority of the Rasa and action servers is than the webhook
receiver's. NLU and dialogue are the heavy work; the receiver's 200 to Meta must not wait
behind them for a core (on a busy 2-core machine it did: ack p99 over 100 ms)."""


def _niced(command: list[str]) -> list[str]:
    nice = shutil.which("nice")
    return [nice, "-n", str(BOT_NICENESS), *command] if nice else command


def _spawn(command: list[str], settings: Settings, log_file: Path | None) -> subprocess.Popen:
    if log_file is None:
        return subprocess.Popen(
            command, cwd=settings.project_dir, env=rasa_environment(settings),
            start_new_session=True,
        )
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as output:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            command, cwd=settings.project_dir, env=rasa_environment(settings),
            stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )


@contextlib.contextmanager
def running_servers(
    settings: Settings,
    model: Path,
    log_dir: Path | None = None,
    timeout: float = 300,
    debug: bool = False,
) -> Iterator[tuple[ManagedProcess, ManagedProcess]]:
    """Starts the action server and the Rasa server, yields once both answer, then stops both.

    When Messenger is configured, the webhook receiver (`bot.messenger.ingress`) runs too.
    """
    started: list[ManagedProcess] = []
    try:
        actions = start_action_server(settings, log_dir / "actions.log" if log_dir else None)
        started.append(actions)
        rasa = start_rasa_server(
            settings, model, log_dir / "rasa.log" if log_dir else None, debug=debug
        )
        started.append(rasa)
        if settings.messenger.configured:
            started.append(
                start_messenger_ingress(settings, log_dir / "ingress.log" if log_dir else None)
            )
        for managed in started:
            wait_until_ready(managed, timeout)
        yield actions, rasa
    finally:
        for managed in reversed(started):
            managed.stop()


@contextlib.contextmanager
def running_desk(
    settings: Settings, log_dir: Path | None = None, timeout: float = 60
) -> Iterator[ManagedProcess]:
    """Starts the agents' desk, yields once it answers, then stops it."""
    desk = start_desk(settings, log_dir / "desk.log" if log_dir else None)
    try:
        wait_until_ready(desk, timeout)
        yield desk
    finally:
        desk.stop()


@contextlib.contextmanager
def running_action_server(
    settings: Settings, log_file: Path | None = None, timeout: float = 120
) -> Iterator[ManagedProcess]:
    """Starts only the action server; yields once it answers; stops it."""
    actions = start_action_server(settings, log_file)
    try:
        wait_until_ready(actions, timeout)
        yield actions
    finally:
        actions.stop()
