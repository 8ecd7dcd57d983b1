"""Readiness: whether a process can do its job now, check by check, each within a timeout.

A `Check` is a name and an async probe that returns when all is well and raises otherwise
(`NotReady` with a reason of ours, or any error, reported by its class name only: never a
URL, a host or a secret). `Readiness.report` runs the checks together, each bounded by
`timeout_seconds`; a check still running from an earlier call is waited for, never started
twice, so a database that hangs does not pile up threads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

Probe = Callable[[], Awaitable[None]]

DEFAULT_TIMEOUT_SECONDS = 2.0
OK = "ok"


class NotReady(Exception):
    """A check's reason for not being ready (a fixed text of ours, safe to show)."""


@dataclass(frozen=True)
class Check:
    """One readiness check: its name in the answer, and its probe."""

    name: str
    probe: Probe


@dataclass(frozen=True)
class ReadinessReport:
    """The outcome of every check: "ok", or why not."""

    checks: dict[str, str]

    @property
    def ready(self) -> bool:
        """Whether every check passed."""
        return all(outcome == OK for outcome in self.checks.values())

    @property
    def status(self) -> int:
        """200 when ready, else 503."""
        return 200 if self.ready else 503

    def body(self) -> dict[str, Any]:
        """The JSON answer: ``{"ready": bool, "checks": {name: outcome}}``."""
        return {"ready": self.ready, "checks": dict(self.checks)}


CheckSource = Iterable[Check] | Callable[[], Iterable[Check]]


class Readiness:
    """Runs a process's checks.

    Args:
        checks: the checks, or what gives them when asked (for checks that appear once
            the process's services are built).
        timeout_seconds: the longest one check may take.
    """

    def __init__(self, checks: CheckSource, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
                 ) -> None:
        self._checks = checks if callable(checks) else tuple(checks)
        self.timeout_seconds = timeout_seconds
        self._running: dict[str, tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = {}

    def checks(self) -> list[Check]:
        """The checks as of now."""
        source = self._checks
        return list(source() if callable(source) else source)

    async def report(self) -> ReadinessReport:
        """Runs every check (at once), each within the timeout."""
        checks = self.checks()
        outcomes = await asyncio.gather(*(self._outcome(check) for check in checks))
        return ReadinessReport(dict(zip((c.name for c in checks), outcomes, strict=True)))

    async def _outcome(self, check: Check) -> str:
        loop = asyncio.get_running_loop()
        running = self._running.get(check.name)
        if running is None or running[0] is not loop or running[1].done():
            running = (loop, asyncio.ensure_future(check.probe()))
            self._running[check.name] = running
        try:
            await asyncio.wait_for(asyncio.shield(running[1]), self.timeout_seconds)
        except asyncio.TimeoutError:
            return "timeout"
        except NotReady as reason:
            return f"not ready: {reason}"
        except Exception as error:  # noqa: BLE001 - reported by class only, nothing secret
            return f"failed: {type(error).__name__}"
        return OK


def liveness() -> dict[str, bool]:
    """The healthz answer: the process serves HTTP."""
    return {"alive": True}


def database_check(engine: Engine, name: str = "database") -> Check:
    """The database answers ``SELECT 1`` (in a worker thread)."""

    def select_one() -> None:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1")).scalar()

    async def probe() -> None:
        await asyncio.to_thread(select_one)

    return Check(name, probe)


def redis_check(url: str, timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS,
                name: str = "redis") -> Check:
    """Redis answers PING (one client, its connections reused)."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=timeout_seconds,
                                  socket_timeout=timeout_seconds)

    async def probe() -> None:
        if not await asyncio.to_thread(client.ping):
            raise NotReady("no PONG")

    return Check(name, probe)


def condition_check(name: str, condition: Callable[[], bool], reason: str) -> Check:
    """A check of the process's own state (a model loaded, services built)."""

    async def probe() -> None:
        if not condition():
            raise NotReady(reason)

    return Check(name, probe)
