"""Rasa's lock store for several Rasa processes: a ticket lock per conversation on Redis.

endpoints.yml names `ProductLockStore`. Without `REDIS_URL` (one Rasa process) it is Rasa's
own `InMemoryLockStore`. With it, it is Rasa's `RedisLockStore` built from the URL, with
the ticket bookkeeping replaced, because Rasa's has races between processes:

* issuing a ticket reads the serialized lock (`get_lock`), appends a ticket and writes it
  back (`save_lock`): two processes issuing at the same moment both read the same queue,
  both take the same number, and the second write drops the first ticket, so both are
  "now serving" and one conversation runs in two processes at once;
* finishing a turn does the same read-modify-write (`finish_serving`) and then deletes the
  lock when it saw nobody waiting (`cleanup`): a ticket issued in between is erased, and its
  waiter fails with `LockError` ("lock does not exist anymore");
* a ticket expires `TICKET_LOCK_LIFETIME` (60 s) after it was issued whatever its holder is
  doing, so a turn longer than that lets the next message in beside it; expiry is compared
  with each host's own clock;
* a waiting message sleeps `wait_time_in_seconds` (1 s, what Rasa passes) between looks: up
  to a second added to its answer.

Here each operation is one Lua script, atomic in Redis, timed by Redis's own clock (`TIME`):
per conversation a counter issues ticket numbers, a sorted set holds the queue by number and
a hash each ticket's expiry. A ticket is a lease of `lease_seconds` (10 s) renewed while its
holder (or a waiter, for its place in the queue) is alive: every `lease_seconds / 3` while
the turn runs, at each look while it waits. A turn may take as long as it takes; a process
that dies frees the conversation within `lease_seconds`. Waiters look every `poll_seconds`
(20 ms), and give up with `LockError` after Rasa's `lock_lifetime`, as Rasa's store does.

Within a process the messages of a conversation first queue on an `asyncio.Lock` (first
come, first served), so a process holds at most one ticket per conversation. When Redis
cannot be reached, that process lock alone serializes the conversation (a warning is logged,
Redis is tried again after `retry_after_seconds`): answers go on, and the Messenger inbox
still gives each conversation to one process at a time; only two web chat messages of one
conversation sent at once to two processes could then overlap.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as redis_async
from rasa.core.lock import Ticket, TicketLock
from rasa.core.lock_store import (
    LOCK_LIFETIME,
    InMemoryLockStore,
    LockError,
    RedisLockStore,
)
from redis.connection import SSLConnection, parse_url
from redis.exceptions import RedisError

from bot.settings import get_settings

logger = logging.getLogger(__name__)

DEFAULT_KEY_PREFIX = "nightdesk"
DEFAULT_LEASE_SECONDS = 10.0
DEFAULT_POLL_SECONDS = 0.02
DEFAULT_RETRY_AFTER_SECONDS = 5.0
SOCKET_TIMEOUT_SECONDS = 1.0
"""How long one Redis call may take before the lock store treats Redis as down."""

_PRUNE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expiries = redis.call('HGETALL', KEYS[2])
for i = 1, #expiries, 2 do
  if tonumber(expiries[i + 1]) <= now then
    redis.call('HDEL', KEYS[2], expiries[i])
    redis.call('ZREM', KEYS[1], expiries[i])
  end
end
local function keep(lease)
  for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], 2 * lease) end
end
"""

_ISSUE = _PRUNE + """
local lease = tonumber(ARGV[1])
local ticket = redis.call('INCR', KEYS[3])
redis.call('ZADD', KEYS[1], ticket, ticket)
redis.call('HSET', KEYS[2], ticket, now + lease)
keep(lease)
return ticket
"""
"""Issues the next ticket: KEYS queue, expiries, counter; ARGV lease in ms."""

_LOOK = _PRUNE + """
local lease = tonumber(ARGV[2])
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return -1 end
redis.call('HSET', KEYS[2], ARGV[1], now + lease)
keep(lease)
local head = redis.call('ZRANGE', KEYS[1], 0, 0)
if head[1] == ARGV[1] then return 1 end
return 0
"""
"""Renews a ticket and says whether it is served: 1 served, 0 waiting, -1 expired.
ARGV ticket, lease in ms."""

_RELEASE = _PRUNE + """
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
local left = redis.call('ZCARD', KEYS[1])
if left == 0 then redis.call('DEL', KEYS[1], KEYS[2], KEYS[3]) end
return left
"""
"""Gives a ticket back; the last one out deletes the conversation's keys. ARGV ticket."""

_PRUNE_ONLY = _PRUNE + "return redis.call('ZCARD', KEYS[1])\n"


class _ProcessLocks:
    """Per-conversation `asyncio.Lock`s of this process, dropped when nobody holds one."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, conversation_id: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(conversation_id, (asyncio.Lock(), 0))
        self._locks[conversation_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[conversation_id]
            if users == 1:
                del self._locks[conversation_id]
            else:
                self._locks[conversation_id] = (lock, users - 1)


class ProductLockStore(RedisLockStore):
    """Rasa's lock store from the settings: Redis (`REDIS_URL`), else in memory.

    Rasa builds it from endpoints.yml as ``ProductLockStore(endpoint_config=...)``; extra
    keys of that entry (``lease_seconds``, ``poll_seconds``, ``key_prefix``) are passed on.
    Without a Redis URL the object made is Rasa's `InMemoryLockStore` (one process).

    Args:
        endpoint_config: Rasa's endpoint entry (only its extra keys are read).
        redis_url: the Redis to use; `REDIS_URL` from the settings when None.
        key_prefix: alphanumeric; the keys are ``<prefix>:lock:{<conversation>}:q|e|n``.
        lease_seconds: how long a ticket lives without being renewed.
        poll_seconds: how often a waiting message looks whether it is served.
        retry_after_seconds: after Redis failed, how long only the process lock is used.
    """

    def __new__(cls, endpoint_config: Any = None, **kwargs: Any) -> Any:  # noqa: D102
        options = {**_endpoint_options(endpoint_config), **kwargs}
        if not (options.get("redis_url") or get_settings().redis_url):
            return InMemoryLockStore()
        return super().__new__(cls)

    def __init__(
        self,
        endpoint_config: Any = None,
        *,
        redis_url: str | None = None,
        key_prefix: str | None = None,
        lease_seconds: float | None = None,
        poll_seconds: float | None = None,
        retry_after_seconds: float | None = None,
    ) -> None:
        options = _endpoint_options(endpoint_config)
        url = redis_url or options.get("redis_url") or get_settings().redis_url
        assert url  # __new__ made an in-memory store otherwise
        parts = parse_url(url)
        super().__init__(
            host=parts.get("host", "localhost"),
            port=int(parts.get("port", 6379)),
            db=int(parts.get("db", 0)),
            username=parts.get("username"),
            password=parts.get("password"),
            use_ssl=parts.get("connection_class") is SSLConnection,
            key_prefix=str(key_prefix or options.get("key_prefix") or DEFAULT_KEY_PREFIX),
            socket_timeout=SOCKET_TIMEOUT_SECONDS,
        )
        self.lease_seconds = float(lease_seconds or options.get("lease_seconds")
                                   or DEFAULT_LEASE_SECONDS)
        self.poll_seconds = float(poll_seconds or options.get("poll_seconds")
                                  or DEFAULT_POLL_SECONDS)
        self.retry_after_seconds = float(retry_after_seconds or options.get("retry_after_seconds")
                                         or DEFAULT_RETRY_AFTER_SECONDS)
        if self.lease_seconds <= 0 or self.poll_seconds <= 0:
            raise ValueError("lease_seconds and poll_seconds must be positive")
        self._url = url
        self._async: tuple[asyncio.AbstractEventLoop, redis_async.Redis] | None = None
        self._process_locks = _ProcessLocks()
        self._down_until = 0.0
        self.fallbacks = 0
        """How many turns ran under the process lock alone because Redis failed."""

    # --------------------------------------------------------------------- keys

    def keys_of(self, conversation_id: str) -> list[str]:
        """The conversation's queue, expiries and counter keys (one cluster slot)."""
        base = f"{self.key_prefix}{{{conversation_id}}}"
        return [f"{base}:q", f"{base}:e", f"{base}:n"]

    def _lease_ms(self, seconds: float | None = None) -> int:
        return max(1, int((seconds if seconds is not None else self.lease_seconds) * 1000))

    def _client(self) -> redis_async.Redis:
        """The asyncio client of the running event loop (Rasa's; a test's own)."""
        loop = asyncio.get_running_loop()
        if self._async is None or self._async[0] is not loop:
            client = redis_async.Redis.from_url(
                self._url, socket_timeout=SOCKET_TIMEOUT_SECONDS,
                socket_connect_timeout=SOCKET_TIMEOUT_SECONDS,
            )
            self._async = (loop, client)
        return self._async[1]

    # ------------------------------------------------------------ the async path

    @asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncIterator[TicketLock]:
        """Holds the conversation until the block ends (Rasa's interface).

        Args:
            conversation_id: the conversation.
            lock_lifetime: the longest a message waits for its turn before `LockError`.
            wait_time_in_seconds: Rasa's poll interval; `poll_seconds` is used when shorter.

        Raises:
            LockError: the message waited `lock_lifetime`, or its ticket expired meanwhile.
        """
        async with self._process_locks.hold(conversation_id):
            ticket = await self._issue(conversation_id)
            if ticket is None:
                yield TicketLock(conversation_id)
                return
            renewal: asyncio.Task[None] | None = None
            try:
                served = await self._wait_until_served(
                    conversation_id, ticket, lock_lifetime,
                    min(wait_time_in_seconds, self.poll_seconds),
                )
                if served:
                    renewal = asyncio.create_task(self._renew(conversation_id, ticket))
                yield TicketLock(conversation_id, _served_queue(ticket, self.lease_seconds))
            finally:
                if renewal is not None:
                    renewal.cancel()
                await self._release(conversation_id, ticket)

    async def _issue(self, conversation_id: str) -> int | None:
        """A ticket, or None when Redis is down (the process lock alone holds)."""
        if time.monotonic() < self._down_until:
            self.fallbacks += 1
            return None
        try:
            return int(await self._client().eval(
                _ISSUE, 3, *self.keys_of(conversation_id), self._lease_ms()))
        except (RedisError, OSError) as error:
            self._redis_failed(error)
            return None

    async def _wait_until_served(
        self, conversation_id: str, ticket: int, give_up_after: float, poll: float
    ) -> bool:
        """Waits for the ticket's turn; False when Redis failed meanwhile (go on alone)."""
        deadline = time.monotonic() + give_up_after
        while True:
            try:
                state = int(await self._client().eval(
                    _LOOK, 3, *self.keys_of(conversation_id), ticket, self._lease_ms()))
            except (RedisError, OSError) as error:
                self._redis_failed(error)
                return False
            if state == 1:
                return True
            if state == -1:
                raise LockError(f"Could not acquire lock for conversation_id "
                                f"'{conversation_id}': its ticket expired.")
            if time.monotonic() >= deadline:
                raise LockError(f"Could not acquire lock for conversation_id "
                                f"'{conversation_id}' within {give_up_after:g} s.")
            await asyncio.sleep(poll)

    async def _renew(self, conversation_id: str, ticket: int) -> None:
        """Renews the served ticket's lease until cancelled (the turn ended)."""
        while True:
            await asyncio.sleep(self.lease_seconds / 3)
            try:
                state = int(await self._client().eval(
                    _LOOK, 3, *self.keys_of(conversation_id), ticket, self._lease_ms()))
            except (RedisError, OSError) as error:
                logger.warning("lock store: a lease could not be renewed (%s)",
                               type(error).__name__)
                continue
            if state != 1:
                logger.error("lock store: a conversation's lease ran out during its turn "
                             "(its event loop was blocked for more than %g s)",
                             self.lease_seconds)
                return

    async def _release(self, conversation_id: str, ticket: int) -> None:
        """Gives the ticket back; a failure is left to the lease's expiry."""
        try:
            await self._client().eval(_RELEASE, 3, *self.keys_of(conversation_id), ticket)
        except (RedisError, OSError) as error:
            self._redis_failed(error)

    def _redis_failed(self, error: BaseException) -> None:
        """Redis is not answering: the process lock alone for `retry_after_seconds`."""
        self.fallbacks += 1
        if time.monotonic() >= self._down_until:
            logger.warning("lock store: Redis failed (%s); conversations are serialized in "
                           "this process only for %g s", type(error).__name__,
                           self.retry_after_seconds)
        self._down_until = time.monotonic() + self.retry_after_seconds

    async def close(self) -> None:
        """Closes the asyncio client of this event loop, if one was made."""
        if self._async is not None:
            _, client = self._async
            self._async = None
            await client.close()

    # ------------------------------------------- Rasa's synchronous interface

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Issues a ticket atomically (a lease of `lock_lifetime`, not renewed)."""
        try:
            return int(self.red.eval(_ISSUE, 3, *self.keys_of(conversation_id),
                                     self._lease_ms(lock_lifetime)))
        except RedisError as error:
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    async def _acquire_lock(
        self, conversation_id: str, ticket: int, wait_time_in_seconds: float
    ) -> TicketLock:
        """Waits for the ticket's turn (Rasa's base `lock` path), renewing it meanwhile."""
        if not await self._wait_until_served(conversation_id, ticket, LOCK_LIFETIME,
                                             wait_time_in_seconds):
            raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
        return TicketLock(conversation_id, _served_queue(ticket, self.lease_seconds))

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        """The conversation's queue as Rasa's `TicketLock` (for looking at it)."""
        queue_key, expiry_key, _ = self.keys_of(conversation_id)
        numbers = [int(number) for number in self.red.zrange(queue_key, 0, -1)]
        if not numbers:
            return None
        expiries = {int(number): int(ms) for number, ms in self.red.hgetall(expiry_key).items()}
        tickets = [Ticket(number, expiries.get(number, 0) / 1000) for number in numbers]
        return TicketLock(conversation_id, deque(tickets))

    def save_lock(self, lock: TicketLock) -> None:
        """Replaces the conversation's queue with `lock`'s, in one transaction."""
        queue_key, expiry_key, counter_key = self.keys_of(lock.conversation_id)
        pipe = self.red.pipeline(transaction=True)
        pipe.delete(queue_key, expiry_key)
        for ticket in lock.tickets:
            pipe.zadd(queue_key, {str(ticket.number): ticket.number})
            pipe.hset(expiry_key, str(ticket.number), int(ticket.expires * 1000))
        if lock.tickets:
            pipe.set(counter_key, max(ticket.number for ticket in lock.tickets))
            for key in (queue_key, expiry_key, counter_key):
                pipe.pexpire(key, 2 * self._lease_ms(LOCK_LIFETIME))
        pipe.execute()

    def delete_lock(self, conversation_id: str) -> None:
        """Deletes the conversation's keys."""
        self._log_deletion(conversation_id, bool(self.red.delete(*self.keys_of(conversation_id))))

    def update_lock(self, conversation_id: str) -> None:
        """Drops expired tickets, atomically."""
        self.red.eval(_PRUNE_ONLY, 3, *self.keys_of(conversation_id))

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        """Gives the ticket back, atomically (the last one out deletes the keys)."""
        self.red.eval(_RELEASE, 3, *self.keys_of(conversation_id), ticket_number)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Same as `finish_serving`: the release itself deletes an empty queue."""
        self.finish_serving(conversation_id, ticket_number)


def _endpoint_options(endpoint_config: Any) -> dict[str, Any]:
    """The extra keys of Rasa's endpoint entry (`EndpointConfig.kwargs`), if any."""
    kwargs = getattr(endpoint_config, "kwargs", None)
    return dict(kwargs) if isinstance(kwargs, dict) else {}


def _served_queue(ticket: int, lease_seconds: float) -> deque[Ticket]:
    """A one-ticket queue for the `TicketLock` handed to the holder (Rasa ignores it)."""
    return deque([Ticket(ticket, time.time() + lease_seconds)])
