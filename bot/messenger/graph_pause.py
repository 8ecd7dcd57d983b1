"""One pause of the page's Graph calls after Graph says "too many calls", for every sender.

A rate-limit answer (HTTP 429, error codes 4, 17, 32, 613) is about the page or the app, not
about the one call that got it: every conversation that goes on calling makes it worse. So
the first call to hear it pauses them all: `GraphPause.pause_for` starts (or lengthens, never
shortens) a pause, and every call first `wait`s until no pause is in force.

`LocalPause` is the pause of one process, which every Graph client of the process shares
(`process_pause`). With several processes (`REDIS_URL`) the composition root makes it
`bot.store.redis_pause.RedisPause` (`use_process_pause`), which keeps the pause in Redis so a
rate limit heard by one process pauses the others too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Protocol


class GraphPause(Protocol):
    """A pause shared by the page's Graph calls."""

    async def wait(self) -> None:
        """Returns once no pause is in force (at once when there is none)."""

    async def pause_for(self, seconds: float) -> None:
        """Pauses every call for `seconds` from now, unless a longer pause is in force."""


class LocalPause:
    """The pause of one process.

    Args:
        clock: monotonic seconds (injected in tests).
        sleep: the sleep (injected in tests).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._until = 0.0

    def remaining(self) -> float:
        """Seconds left of the pause in force (0 when none)."""
        return max(0.0, self._until - self._clock())

    async def wait(self) -> None:
        """Sleeps until the pause ends; a pause lengthened meanwhile is waited out too."""
        while (left := self.remaining()) > 0:
            await self._sleep(left)

    async def pause_for(self, seconds: float) -> None:
        """Starts or lengthens the pause."""
        self._until = max(self._until, self._clock() + max(0.0, seconds))


_process_pause: GraphPause = LocalPause()


def process_pause() -> GraphPause:
    """The pause every Graph client of this process shares unless given another."""
    return _process_pause


def use_process_pause(pause: GraphPause) -> GraphPause:
    """Makes `pause` the process's (the composition root does, once); returns the one before."""
    global _process_pause
    previous, _process_pause = _process_pause, pause
    return previous
