"""The supervisor of `nightdesk up`: restarts, pauses, the crash budget, stopping.

Most tests drive fake processes with a fake clock (nothing sleeps); the last ones start
real tiny HTTP servers on free loopback ports, and one of them is killed with SIGKILL.
"""

from __future__ import annotations

import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.runtime.processes import ManagedProcess, StartupError, answers
from bot.runtime.supervisor import (
    Child,
    Supervisor,
    SupervisorGaveUp,
    TeamChannelNotifier,
    describe_exit,
)
from bot.settings import TeamChannelSettings


class FakeClock:
    """Monotonic seconds that move only when the supervisor pauses or a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        assert self.now < 1000 + 86_400, "a day has passed in the test: it would never end"


class FakeProcess:
    """What the supervisor uses of a Popen; it stops on the first signal."""

    def __init__(self) -> None:
        self.returncode: int | None = None
        self.signals: list[int] = []

    def poll(self) -> int | None:
        return self.returncode

    def send_signal(self, sig: int) -> None:
        self.signals.append(sig)
        self.returncode = -sig

    def wait(self, timeout: float | None = None) -> int | None:
        return self.returncode

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class FakeStarter:
    """A child's start function that keeps every process it started."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.started: list[FakeProcess] = []

    def __call__(self) -> ManagedProcess:
        process = FakeProcess()
        self.started.append(process)
        return ManagedProcess(self.name, process, f"http://{self.name}.test/health")  # type: ignore[arg-type]

    @property
    def current(self) -> FakeProcess:
        return self.started[-1]

    def crash(self, returncode: int = 1) -> None:
        self.current.returncode = returncode


class Team:
    """The notifier: keeps what the team would have been told."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, str]] = []

    def __call__(self, subject: str, body: str) -> None:
        self.messages.append((subject, body))


class Rig:
    """Fake children under a supervisor with a fake clock."""

    def __init__(self, *names: str, ready_timeout: float = 30, **timing: float) -> None:
        self.clock = FakeClock()
        self.team = Team()
        self.down: set[str] = set()
        self.starters = {name: FakeStarter(name) for name in names}
        self.supervisor = Supervisor(
            [Child(starter, ready_timeout) for starter in self.starters.values()],
            self.team, clock=self.clock, sleep=self.clock.sleep,
            probe=lambda url: url not in self.down, **timing,
        )

    def __getitem__(self, name: str) -> FakeStarter:
        return self.starters[name]

    def after(self, seconds: float) -> None:
        """Lets `seconds` pass, then the supervisor looks once."""
        self.clock.now += seconds
        self.supervisor.check()

    def crash_and_measure_pause(self, name: str, limit: float = 1000) -> float:
        """Crashes the child; the seconds until the supervisor started it again."""
        starter = self[name]
        before = len(starter.started)
        starter.crash(-signal.SIGKILL)
        crashed_at = self.clock.now
        self.supervisor.check()
        while len(starter.started) == before:
            assert self.clock.now - crashed_at < limit, "never restarted"
            self.after(0.25)
        self.supervisor.check()  # it answers: ready again
        return self.clock.now - crashed_at


def test_a_crashed_child_is_logged_restarted_after_the_pause_and_waited_for(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rig = Rig("Rasa server", "desk")
    rig.supervisor.start()
    rig["Rasa server"].crash(-signal.SIGKILL)
    rig.down.add("http://Rasa server.test/health")

    rig.after(0.1)
    err = capsys.readouterr().err
    assert "Rasa server stopped unexpectedly (killed by signal SIGKILL" in err
    assert "restarting it in 1 s" in err
    assert len(rig["Rasa server"].started) == 1

    rig.after(1)
    assert len(rig["Rasa server"].started) == 2
    rig.after(0.5)
    assert "is back" not in capsys.readouterr().err  # not answering yet
    rig.down.clear()
    rig.after(0.5)
    assert "Rasa server is back" in capsys.readouterr().err
    assert len(rig["desk"].started) == 1  # the others are left alone
    assert [subject for subject, _ in rig.team.messages] == [
        "nightdesk: the Rasa server crashed and is being restarted"
    ]
    assert "killed by signal SIGKILL" in rig.team.messages[0][1]


def test_an_exit_code_is_reported_as_such(capsys: pytest.CaptureFixture[str]) -> None:
    rig = Rig("desk")
    rig.supervisor.start()
    rig["desk"].crash(3)
    rig.after(0.1)
    assert "desk stopped unexpectedly (exit code 3" in capsys.readouterr().err


def test_the_pause_doubles_with_each_crash_up_to_the_cap() -> None:
    rig = Rig("Rasa server", max_restarts=100)
    rig.supervisor.start()
    pauses = [rig.crash_and_measure_pause("Rasa server") for _ in range(9)]
    assert pauses == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert len(rig.team.messages) == 1  # one crash series, told once


def test_the_pause_timings_are_constructor_arguments() -> None:
    rig = Rig("actions", backoff_base=0.5, backoff_cap=3, max_restarts=100)
    rig.supervisor.start()
    pauses = [rig.crash_and_measure_pause("actions") for _ in range(5)]
    assert pauses == [0.5, 1, 2, 3, 3]


def test_the_pause_resets_after_a_stable_period_and_the_team_hears_of_the_new_series() -> None:
    rig = Rig("Rasa server", stable_after=300)
    rig.supervisor.start()
    assert [rig.crash_and_measure_pause("Rasa server") for _ in range(3)] == [1, 2, 4]
    rig.after(299)  # not quite stable
    assert rig.crash_and_measure_pause("Rasa server") == 8
    assert len(rig.team.messages) == 1
    rig.after(300)
    assert rig.crash_and_measure_pause("Rasa server") == 1
    assert len(rig.team.messages) == 2


def test_gives_up_loudly_after_the_crash_budget_and_stops_the_others(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rig = Rig("action server", "Rasa server", max_restarts=5, restart_window=600)
    with pytest.raises(SupervisorGaveUp), rig.supervisor:
        for _ in range(5):
            rig.crash_and_measure_pause("Rasa server")
        rig["Rasa server"].crash(-signal.SIGSEGV)
        rig.supervisor.run()

    err = capsys.readouterr().err
    assert ("GIVING UP: the Rasa server crashed again (killed by signal SIGSEGV) after 5 "
            "restarts within 10 min") in err
    assert rig["action server"].current.signals == [signal.SIGINT]  # stopped cleanly
    assert len(rig["Rasa server"].started) == 6  # no seventh start
    subjects = [subject for subject, _ in rig.team.messages]
    assert subjects == ["nightdesk: the Rasa server crashed and is being restarted",
                        "nightdesk: GAVE UP on the Rasa server, the bot is DOWN"]
    assert "GIVING UP" in rig.team.messages[-1][1]


def test_only_restarts_within_the_window_count_toward_the_budget() -> None:
    rig = Rig("Rasa server", max_restarts=5, restart_window=600, stable_after=10_000)
    rig.supervisor.start()
    for _ in range(5):
        rig.crash_and_measure_pause("Rasa server")
    rig.after(601)  # the five restarts are now older than the window
    assert rig.crash_and_measure_pause("Rasa server") == 32  # same series: the pause grows on
    for _ in range(4):
        rig.crash_and_measure_pause("Rasa server")
    rig["Rasa server"].crash()
    with pytest.raises(SupervisorGaveUp):
        rig.supervisor.check()


def test_a_restarted_child_that_never_answers_is_stopped_and_counts_as_a_crash(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rig = Rig("desk", ready_timeout=20)
    rig.supervisor.start()
    rig["desk"].crash()
    rig.down.add("http://desk.test/health")
    rig.after(0)
    rig.after(1)
    hung = rig["desk"].current
    rig.after(20)
    assert hung.returncode is None
    rig.after(0.5)
    assert hung.signals == [signal.SIGINT]
    assert "desk stopped unexpectedly (not ready 20 s after its restart" in capsys.readouterr().err
    rig.after(2)
    assert len(rig["desk"].started) == 3


def test_start_fails_when_a_child_exits_and_stops_the_others() -> None:
    rig = Rig("action server", "Rasa server")
    rig.down.add("http://Rasa server.test/health")

    def exits_while_loading(seconds: float) -> None:
        rig.clock.sleep(seconds)
        rig["Rasa server"].crash(1)

    rig.supervisor._sleep = exits_while_loading  # the model load fails
    with pytest.raises(StartupError, match="Rasa server exited \\(exit code 1\\)"):
        rig.supervisor.start()
    assert rig["action server"].current.signals == [signal.SIGINT]


def test_start_fails_when_a_child_does_not_answer_in_time() -> None:
    rig = Rig("Rasa server", ready_timeout=300)
    rig.down.add("http://Rasa server.test/health")
    with pytest.raises(StartupError, match="not ready after 300 s"):
        rig.supervisor.start()
    assert rig.clock.now == pytest.approx(1300.5)
    assert rig["Rasa server"].current.signals == [signal.SIGINT]


def test_ctrl_c_stops_every_child_cleanly() -> None:
    rig = Rig("action server", "Rasa server", "desk")

    def interrupted(_: float) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt), rig.supervisor:
        rig.supervisor._sleep = interrupted
        rig.supervisor.run()
    for starter in rig.starters.values():
        assert starter.current.signals == [signal.SIGINT]
    assert rig.team.messages == []


def test_describe_exit() -> None:
    assert describe_exit(0) == "exit code 0"
    assert describe_exit(2) == "exit code 2"
    assert describe_exit(-signal.SIGKILL) == "killed by signal SIGKILL"
    assert describe_exit(-signal.SIGTERM) == "killed by signal SIGTERM"


# Real child processes: tiny HTTP servers on free loopback ports.


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _http_child(name: str, directory: Path) -> Callable[[], ManagedProcess]:
    """A start function for a Python HTTP server on a port chosen once, kept across restarts."""
    port = _free_port()

    def start() -> ManagedProcess:
        process = subprocess.Popen(
            [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
             "--directory", str(directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        return ManagedProcess(name, process, f"http://127.0.0.1:{port}/")

    return start


class Watching:
    """A supervisor of real children, running in a thread as `nightdesk up` runs it."""

    def __init__(self, supervisor: Supervisor, team: Team) -> None:
        self.supervisor = supervisor
        self.team = team
        self.thread = threading.Thread(target=supervisor.run, daemon=True)

    def stop_watching(self) -> None:
        self.supervisor.request_stop()
        self.thread.join(5)
        assert not self.thread.is_alive()


@pytest.fixture()
def watching(tmp_path: Path) -> Iterator[Watching]:
    # as `nightdesk up` does: SIGINT reaches the children even when this process was started
    # in the background by a script, which makes a process and its children ignore it
    interrupt = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield from _watching(tmp_path)
    finally:
        signal.signal(signal.SIGINT, interrupt)


def _watching(tmp_path: Path) -> Iterator[Watching]:
    team = Team()
    supervisor = Supervisor(
        [Child(_http_child("web one", tmp_path), 10), Child(_http_child("web two", tmp_path), 10)],
        team, backoff_base=0.05, poll_interval=0.05,
    )
    with supervisor:
        watching = Watching(supervisor, team)
        watching.thread.start()
        try:
            yield watching
        finally:
            watching.stop_watching()


def test_a_real_child_killed_with_sigkill_comes_back_and_answers(
    watching: Watching, capsys: pytest.CaptureFixture[str],
) -> None:
    supervisor, team = watching.supervisor, watching.team
    victim, other = supervisor.processes
    assert answers(victim.ready_url)

    os.kill(victim.process.pid, signal.SIGKILL)

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        current = supervisor.processes[0]
        if current is not victim and "web one is back" in capsys.readouterr().err:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the killed child did not come back")
    assert current.process.pid != victim.process.pid
    assert victim.process.returncode == -signal.SIGKILL
    assert answers(current.ready_url)
    assert supervisor.processes[1] is other and other.process.poll() is None
    assert len(team.messages) == 1 and "killed by signal SIGKILL" in team.messages[0][1]


def test_a_clean_stop_ends_every_real_child(watching: Watching) -> None:
    supervisor = watching.supervisor
    processes = supervisor.processes
    assert all(answers(managed.ready_url) for managed in processes)
    watching.stop_watching()
    supervisor.stop_all()
    assert [managed.process.returncode for managed in processes] == [0, 0]  # SIGINT: clean
    assert watching.team.messages == []
    assert not any(answers(managed.ready_url, timeout=0.5) for managed in processes)


# The team channel the desk uses carries the supervisor's messages too.


class _Webhook(http.server.BaseHTTPRequestHandler):
    received: list[dict[str, str]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        length = int(self.headers["Content-Length"])
        self.received.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *_: object) -> None:
        pass


def test_the_team_channel_notifier_posts_to_the_team_webhook() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Webhook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        notify = TeamChannelNotifier(TeamChannelSettings(webhook_url=url), "http://desk.test")
        notify("nightdesk: the Rasa server crashed", "The Rasa server stopped unexpectedly.")
        notify.wait(10)
    finally:
        server.shutdown()
        server.server_close()
    assert _Webhook.received == [{"text": "The Rasa server stopped unexpectedly."}]


def test_the_team_channel_notifier_without_targets_sends_nothing() -> None:
    notify = TeamChannelNotifier(TeamChannelSettings(), "http://desk.test")
    notify("subject", "body")
    notify.wait(1)


def test_a_restart_that_cannot_even_spawn_counts_as_a_crash(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rig = Rig("Rasa server")
    rig.supervisor.start()
    starter = rig["Rasa server"]

    def no_fork() -> ManagedProcess:
        raise OSError(11, "Resource temporarily unavailable")

    rig.supervisor._watched[0].child = Child(no_fork, 30)
    starter.crash()
    rig.after(0)
    rig.after(1)
    err = capsys.readouterr().err
    assert ("Rasa server stopped unexpectedly (could not be started: [Errno 11] Resource "
            "temporarily unavailable") in err
    assert "restarting it in 2 s" in err
    rig.supervisor._watched[0].child = Child(starter, 30)
    rig.after(2)
    assert len(starter.started) == 2
