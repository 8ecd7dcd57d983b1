"""The Graph rate-limit pause kept in Redis, so one process's "too many calls" pauses all.

The pause is one key per page whose time to live is what is left of it: `pause_for` sets it
in one Lua script that only ever lengthens it (Redis's own clock, not each host's), `wait`
reads its time to live and sleeps that long, then looks again. When Redis cannot be reached
the process's own pause (`fallback`: `bot.messenger.graph_pause.LocalPause`) stands in, a warning is
logged, and Redis is tried again after `retry_after_seconds`: calls go on, paused per
process only, rather than stopping because Redis did.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import redis.asyncio as redis_async
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

KEY_PREFIX = "nightdesk:graph-pause:"

_LENGTHEN = """
local left = redis.call('PTTL', KEYS[1])
local wanted = tonumber(ARGV[1])
if left < wanted then
  redis.call('SET', KEYS[1], '1', 'PX', wanted)
  return wanted
end
return left
"""


class ProcessPause(Protocol):
    """The process's own pause, which stands in while Redis is down."""

    def remaining(self) -> float:
        """Seconds left of its pause."""

    async def pause_for(self, seconds: float) -> None:
        """Starts or lengthens its pause."""


class RedisPause:
    """The page's Graph pause, shared by every process on one Redis.

    Args:
        redis_url: `REDIS_URL` (redis:// or rediss://).
        page: what the pause is for (the page's access token's hash, or its id): processes
            of one page share it, another page's calls are not paused by it.
        fallback: the process's own pause, kept in step, used while Redis is down.
        retry_after_seconds: after Redis failed, how long the process pause stands in.
        sleep: the sleep (injected in tests).
    """

    def __init__(self, redis_url: str, page: str, fallback: ProcessPause,
                 retry_after_seconds: float = 5.0,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self._url = redis_url
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = (
            weakref.WeakKeyDictionary())
        self._key = f"{KEY_PREFIX}{page}"
        self._retry_after = retry_after_seconds
        self._sleep = sleep
        self._local = fallback
        self._down_until = 0.0

    def _client(self) -> Any:
        """The running event loop's connection pool (a pool belongs to the loop that made it)."""
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None:
            client = redis_async.Redis.from_url(self._url, socket_timeout=2,
                                                socket_connect_timeout=2)
            self._clients[loop] = client
        return client

    def _redis_down(self, error: RedisError) -> None:
        if time.monotonic() >= self._down_until:
            logger.warning("Graph pause: Redis failed (%s); pausing this process only for "
                           "%.0f s", type(error).__name__, self._retry_after)
        self._down_until = time.monotonic() + self._retry_after

    def _redis_up(self) -> bool:
        return time.monotonic() >= self._down_until

    async def remaining(self) -> float:
        """Seconds left of the pause in force (0 when none)."""
        if self._redis_up():
            try:
                left_ms = await self._client().pttl(self._key)
                return max(0.0, left_ms / 1000) if left_ms > 0 else 0.0
            except RedisError as error:
                self._redis_down(error)
        return self._local.remaining()

    async def wait(self) -> None:
        """Sleeps until no process's pause is in force."""
        while (left := await self.remaining()) > 0:
            await self._sleep(left)

    async def pause_for(self, seconds: float) -> None:
        """Starts or lengthens the pause for every process (and this one's own)."""
        await self._local.pause_for(seconds)
        if not self._redis_up():
            return
        try:
            await self._client().eval(_LENGTHEN, 1, self._key, max(1, int(seconds * 1000)))
        except RedisError as error:
            self._redis_down(error)

    async def close(self) -> None:
        """Closes this event loop's connection pool."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.close()
