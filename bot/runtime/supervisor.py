"""Keeping `nightdesk up`'s child processes running through the night.

`nightdesk up` starts the action server, the Rasa server, the Messenger webhook receiver and
the agents' desk (each with its start function in `bot.runtime.processes`). The `Supervisor`
polls every child: one that exits when nobody asked it to is logged (name, exit code or
signal) and started again after a pause that doubles with each crash of a series (1 s, 2 s,
4 s ... up to 60 s); a child that has stayed up for the stable period (5 minutes) starts a
new series, with the shortest pause again. The team channel hears once per crash series.
After too many restarts of one child in a short time (5 within 10 minutes) the supervisor
gives up loudly, on stderr and to the team, and `nightdesk up` stops everything and exits
non-zero, so that whatever runs it (systemd, for one) can start the whole stack again.

Every timing is a constructor argument, and the clock, the pause and the ready check are
injectable, so the tests neither sleep nor read the wall clock.
"""

from __future__ import annotations

import asyncio
import signal
import smtplib
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, TextIO

import aiohttp

from bot.runtime.processes import (
    ManagedProcess,
    StartupError,
    answers,
    start_action_server,
    start_desk,
    start_messenger_ingress,
    start_rasa_server,
)
from bot.settings import Settings, TeamChannelSettings

BACKOFF_BASE_SECONDS = 1.0
"""The pause before the first restart of a crash series; it doubles with each crash."""
BACKOFF_CAP_SECONDS = 60.0
"""The longest pause between two restarts."""
STABLE_AFTER_SECONDS = 300.0
"""A child that crashes after this long up starts a new series (shortest pause, team told)."""
MAX_RESTARTS = 5
"""Restarts of one child allowed within RESTART_WINDOW_SECONDS; one crash more and we give up."""
RESTART_WINDOW_SECONDS = 600.0
"""The window over which MAX_RESTARTS is counted."""
POLL_SECONDS = 0.5
"""How often every child is looked at."""


class SupervisorGaveUp(RuntimeError):
    """A child kept crashing: everything is to be stopped and `nightdesk up` to exit non-zero."""


class Notifier(Protocol):
    """Tells the team something (a subject line and a short text)."""

    def __call__(self, subject: str, body: str) -> None:
        """Sends the message, or queues it; never raises."""


def _tell_nobody(subject: str, body: str) -> None:
    """The notifier when no team channel is configured."""


@dataclass(frozen=True)
class Child:
    """How to start one child and how long it may take to answer its ready URL."""

    start: Callable[[], ManagedProcess]
    ready_timeout: float


@dataclass
class _Watched:
    """One child and what the supervisor knows about it."""

    child: Child
    managed: ManagedProcess
    started_at: float
    ready: bool = False
    restart_at: float | None = None
    """When a crashed child is to be started again; None while it runs."""
    crashes_in_series: int = 0
    restarts: deque[float] = field(default_factory=deque)
    """When it was restarted, within the restart window."""


def describe_exit(returncode: int) -> str:
    """'exit code 1' or 'killed by signal SIGKILL' (Popen gives a signal as a negative code)."""
    if returncode >= 0:
        return f"exit code {returncode}"
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        name = str(-returncode)
    return f"killed by signal {name}"


def _duration(seconds: float) -> str:
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


class Supervisor:
    """Starts the children, restarts the ones that crash, stops them all.

    Use it as a context manager: entering starts every child and returns once all answer
    their ready URL (`StartupError` otherwise, after stopping them); `run()` watches until
    `request_stop()` or a KeyboardInterrupt (Ctrl-C; `nightdesk up` turns SIGTERM into one),
    or raises `SupervisorGaveUp`; leaving stops every child, in the reverse order.

    Args:
        children: what to start, in order.
        notify: tells the team; the default tells nobody.
        backoff_base: the pause before the first restart of a series, in seconds.
        backoff_cap: the longest pause.
        stable_after: seconds up after which a crash starts a new series.
        max_restarts: restarts of one child allowed within `restart_window`.
        restart_window: seconds over which `max_restarts` is counted.
        poll_interval: seconds between two looks at the children.
        clock: monotonic seconds; for tests.
        sleep: the pause between two looks; for tests.
        probe: whether a ready URL answers; for tests.
        stderr: where the supervisor writes what happens (sys.stderr by default).
    """

    def __init__(
        self,
        children: Sequence[Child],
        notify: Notifier = _tell_nobody,
        *,
        backoff_base: float = BACKOFF_BASE_SECONDS,
        backoff_cap: float = BACKOFF_CAP_SECONDS,
        stable_after: float = STABLE_AFTER_SECONDS,
        max_restarts: int = MAX_RESTARTS,
        restart_window: float = RESTART_WINDOW_SECONDS,
        poll_interval: float = POLL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        probe: Callable[[str], bool] = answers,
        stderr: TextIO | None = None,
    ) -> None:
        self._children = list(children)
        self._notify = notify
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._stable_after = stable_after
        self._max_restarts = max_restarts
        self._restart_window = restart_window
        self._poll_interval = poll_interval
        self._clock = clock
        self._sleep = sleep
        self._probe = probe
        self._stderr = stderr
        self._watched: list[_Watched] = []
        self._stop = threading.Event()

    def __enter__(self) -> Supervisor:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop_all()

    @property
    def processes(self) -> list[ManagedProcess]:
        """The children's current processes, in start order."""
        return [watched.managed for watched in self._watched]

    def start(self) -> None:
        """Starts every child and returns once all answer.

        Raises:
            StartupError: a child exited or did not answer in time (all are stopped then).
        """
        try:
            for child in self._children:
                self._watched.append(_Watched(child, child.start(), self._clock()))
            while not all(watched.ready for watched in self._watched):
                for watched in self._watched:
                    self._check_start(watched)
                if not all(watched.ready for watched in self._watched):
                    self._sleep(self._poll_interval)
        except BaseException:
            self.stop_all()
            raise

    def run(self) -> None:
        """Watches the children until `request_stop()`.

        Raises:
            SupervisorGaveUp: a child crashed too often; the others are still running.
        """
        while not self._stop.is_set():
            self.check()
            self._sleep(self._poll_interval)

    def request_stop(self) -> None:
        """Makes `run()` return after its current look (from another thread, say)."""
        self._stop.set()

    def stop_all(self) -> None:
        """Stops every child, the last started first."""
        for watched in reversed(self._watched):
            watched.managed.stop()

    def check(self) -> None:
        """One look at every child: restart the due ones, notice crashes and readiness."""
        for watched in self._watched:
            self._check(watched)

    def _check_start(self, watched: _Watched) -> None:
        managed = watched.managed
        if watched.ready:
            return
        if managed.process.poll() is not None:
            raise StartupError(
                f"{managed.name} exited ({describe_exit(managed.process.returncode)})")
        if self._probe(managed.ready_url):
            watched.ready = True
        elif self._clock() - watched.started_at > watched.child.ready_timeout:
            raise StartupError(
                f"{managed.name} was not ready after {watched.child.ready_timeout:.0f} s")

    def _check(self, watched: _Watched) -> None:
        now = self._clock()
        if watched.restart_at is not None:
            if now >= watched.restart_at:
                self._restart(watched, now)
            return
        managed = watched.managed
        returncode = managed.process.poll()
        if returncode is not None:
            self._crashed(watched, now, describe_exit(returncode))
        elif not watched.ready:
            if self._probe(managed.ready_url):
                watched.ready = True
                self._say(f"{managed.name} is back: it answers again "
                          f"({_duration(round(now - watched.started_at, 1))} after its restart).")
            elif now - watched.started_at > watched.child.ready_timeout:
                managed.stop()
                self._crashed(watched, now,
                              f"not ready {watched.child.ready_timeout:.0f} s after its restart")

    def _crashed(self, watched: _Watched, now: float, how: str) -> None:
        name = watched.managed.name
        up_for = now - watched.started_at
        new_series = up_for >= self._stable_after or not watched.crashes_in_series
        if up_for >= self._stable_after:
            watched.crashes_in_series = 0
        while watched.restarts and now - watched.restarts[0] > self._restart_window:
            watched.restarts.popleft()
        if len(watched.restarts) >= self._max_restarts:
            self._give_up(name, how, len(watched.restarts))
        pause = min(self._backoff_base * 2 ** watched.crashes_in_series, self._backoff_cap)
        watched.crashes_in_series += 1
        watched.restart_at = now + pause
        self._say(f"{name} stopped unexpectedly ({how}, up {_duration(round(up_for, 1))}); "
                  f"restarting it in {_duration(pause)}.")
        if new_series:
            self._notify(
                f"nightdesk: the {name} crashed and is being restarted",
                f"The {name} stopped unexpectedly ({how}). nightdesk up is restarting it "
                f"(first try in {_duration(pause)}). You will hear again only if it keeps "
                f"crashing: after {self._max_restarts} restarts within "
                f"{_duration(self._restart_window)}, nightdesk up gives up and stops.",
            )

    def _restart(self, watched: _Watched, now: float) -> None:
        watched.restarts.append(now)
        watched.started_at = now
        watched.ready = False
        watched.restart_at = None
        try:
            watched.managed = watched.child.start()
        except OSError as error:  # no fork, no executable: as good as a crash at once
            self._crashed(watched, now, f"could not be started: {error}")

    def _give_up(self, name: str, how: str, restarts: int) -> None:
        message = (
            f"GIVING UP: the {name} crashed again ({how}) after {restarts} restarts within "
            f"{_duration(self._restart_window)}. Stopping everything; see var/logs/ for its "
            "output."
        )
        self._say(message)
        self._notify(f"nightdesk: GAVE UP on the {name}, the bot is DOWN",
                     f"{message} nightdesk up has stopped; the bot does not answer until it is "
                     "started again.")
        raise SupervisorGaveUp(message)

    def _say(self, text: str) -> None:
        stream = self._stderr or sys.stderr
        print(f"nightdesk [{time.strftime('%Y-%m-%d %H:%M:%S')}]: {text}", file=stream,
              flush=True)


def product_children(settings: Settings, model: Path, log_dir: Path) -> list[Child]:
    """What `nightdesk up` runs: the action server, Rasa, the webhook receiver, the desk."""
    children = [
        Child(lambda: start_action_server(settings, log_dir / "actions.log"), 300),
        Child(lambda: start_rasa_server(settings, model, log_dir / "rasa.log"), 300),
    ]
    if settings.messenger.configured:
        children.append(
            Child(lambda: start_messenger_ingress(settings, log_dir / "ingress.log"), 300))
    children.append(Child(lambda: start_desk(settings, log_dir / "desk.log"), 60))
    return children


class TeamChannelNotifier:
    """The supervisor's messages to the team, through the desk's team channel.

    The desk's `TeamChannel` (TEAM_WEBHOOK_URL and/or e-mail to SUPPORT_EMAIL) does the
    sending; its transport needs neither the database nor a ticket. Each message goes out in
    a background thread, so a slow webhook never delays a restart; `wait()` lets the last
    ones finish before the process exits. What fails is said on stderr, by error name only
    (a webhook URL is a secret).
    """

    def __init__(self, team: TeamChannelSettings, desk_url: str,
                 stderr: TextIO | None = None) -> None:
        from bot.desk.team_channel import TeamChannel

        self._channel = TeamChannel(None, None, team, desk_url)  # type: ignore[arg-type]
        self._stderr = stderr
        self._threads: list[threading.Thread] = []

    def __call__(self, subject: str, body: str) -> None:
        """Sends the message to every configured target, in the background."""
        if not self._channel.targets:
            return
        thread = threading.Thread(target=self._send, args=(subject, body), daemon=True)
        self._threads.append(thread)
        thread.start()

    def wait(self, timeout: float = 20) -> None:
        """Waits (at most `timeout` seconds in all) for the messages still being sent."""
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _send(self, subject: str, body: str) -> None:
        for target in self._channel.targets:
            try:
                if target == "webhook":
                    asyncio.run(self._channel.post_webhook(body))
                else:
                    self._channel.send_email(subject, body)
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError,
                    smtplib.SMTPException, RuntimeError) as error:
                print(f"nightdesk: the team was not told through {target} "
                      f"({type(error).__name__})", file=self._stderr or sys.stderr, flush=True)
