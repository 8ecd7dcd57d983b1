"""Rasa's lock store across processes, on a real Redis: Rasa's races, and ours closed."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from types import SimpleNamespace

import pytest
import redis
from rasa.core.lock_store import InMemoryLockStore, LockError, LockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from bot.store import lock_store as lock_store_module
from bot.store.lock_store import ProductLockStore

CONVERSATION = "6912345678901234"


@pytest.fixture
def prefix(redis_url: str) -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    name = "t" + uuid.uuid4().hex[:12]
    yield name
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"{name}:*"):
        client.delete(key)
    client.close()


def rasa_store(redis_url: str, prefix: str) -> RedisLockStore:
    parts = redis.connection.parse_url(redis_url)
    return RedisLockStore(host=parts["host"], port=parts["port"], db=parts["db"],
                          key_prefix=prefix)


def ours(redis_url: str, prefix: str, **kwargs: float) -> ProductLockStore:
    store = ProductLockStore(redis_url=redis_url, key_prefix=prefix, **kwargs)
    assert isinstance(store, ProductLockStore)
    return store


# --- Rasa's RedisLockStore: the races ------------------------------------------------------


def test_rasa_store_gives_two_processes_the_same_ticket(redis_url: str, prefix: str) -> None:
    first, second = rasa_store(redis_url, prefix), rasa_store(redis_url, prefix)
    read = first.get_or_create_lock
    second_ticket: list[int] = []

    def read_then_let_the_other_process_issue(conversation_id: str):  # noqa: ANN202
        lock = read(conversation_id)  # the first process has read the queue ...
        second_ticket.append(second.issue_ticket(conversation_id))  # ... the second issues
        return lock

    first.get_or_create_lock = read_then_let_the_other_process_issue  # type: ignore[method-assign]
    first_ticket = first.issue_ticket(CONVERSATION)

    assert first_ticket == second_ticket[0]  # one number for two messages
    lock = second.get_lock(CONVERSATION)
    assert lock is not None
    assert not lock.is_locked(first_ticket) and not lock.is_locked(second_ticket[0])


def test_rasa_store_cleanup_erases_a_ticket_issued_meanwhile(
    redis_url: str, prefix: str
) -> None:
    first, second = rasa_store(redis_url, prefix), rasa_store(redis_url, prefix)
    held = first.issue_ticket(CONVERSATION)
    read = first.get_lock
    waiting: list[int] = []

    def read_then_let_the_other_process_issue(conversation_id: str):  # noqa: ANN202
        lock = read(conversation_id)
        if not waiting:
            waiting.append(second.issue_ticket(conversation_id))
        return lock

    first.get_lock = read_then_let_the_other_process_issue  # type: ignore[method-assign]
    first.cleanup(CONVERSATION, held)  # the first process's turn ends

    with pytest.raises(LockError):  # the second process's message is lost
        asyncio.run(second._acquire_lock(CONVERSATION, waiting[0], 0.01))


# --- ours -----------------------------------------------------------------------------------


def test_two_stores_issuing_at_once_never_share_a_ticket(redis_url: str, prefix: str) -> None:
    stores = [ours(redis_url, prefix), ours(redis_url, prefix)]
    start = threading.Barrier(2)
    issued: list[list[int]] = [[], []]

    def issue(which: int) -> None:
        start.wait()
        for _ in range(200):
            issued[which].append(stores[which].issue_ticket(CONVERSATION))

    threads = [threading.Thread(target=issue, args=(which,)) for which in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    every = issued[0] + issued[1]
    assert len(set(every)) == 400
    lock = stores[0].get_lock(CONVERSATION)
    assert lock is not None and len(lock.tickets) == 400


def test_two_processes_never_run_one_conversation_at_once(redis_url: str, prefix: str) -> None:
    """Two stores (each its own thread, event loop and connection), four tasks each."""
    counter = redis.Redis.from_url(redis_url)
    inside_key, turns_key = f"{prefix}:inside", f"{prefix}:turns"
    overlaps: list[int] = []

    async def turns(store: ProductLockStore) -> None:
        async def one_task() -> None:
            client = store._client()
            for _ in range(15):
                async with store.lock(CONVERSATION):
                    if await client.incr(inside_key) != 1:
                        overlaps.append(1)
                    await asyncio.sleep(0.002)
                    await client.incr(turns_key)
                    await client.decr(inside_key)

        await asyncio.gather(*(one_task() for _ in range(4)))
        await store.close()

    def process() -> None:
        asyncio.run(turns(ours(redis_url, prefix)))

    threads = [threading.Thread(target=process) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert overlaps == []
    assert int(counter.get(turns_key)) == 2 * 4 * 15
    assert not list(counter.scan_iter(f"{prefix}:lock:*"))  # the last one out cleaned up
    counter.close()


def test_waiting_messages_are_served_in_the_order_they_asked(
    redis_url: str, prefix: str
) -> None:
    stores = [ours(redis_url, prefix), ours(redis_url, prefix)]
    served: list[int] = []

    async def main() -> None:
        held = asyncio.Event()
        release = asyncio.Event()

        async def holder() -> None:
            async with stores[0].lock(CONVERSATION):
                held.set()
                await release.wait()

        async def waiter(number: int) -> None:
            async with stores[number % 2].lock(CONVERSATION):
                served.append(number)

        first = asyncio.create_task(holder())
        await held.wait()
        waiters = []
        for number in range(1, 6):
            waiters.append(asyncio.create_task(waiter(number)))
            await asyncio.sleep(0.03)  # each has its ticket before the next one asks
        release.set()
        await asyncio.gather(first, *waiters)
        for store in stores:
            await store.close()

    asyncio.run(main())
    assert served == [1, 2, 3, 4, 5]


def test_a_turn_longer_than_the_lease_keeps_the_conversation(
    redis_url: str, prefix: str
) -> None:
    slow, other = ours(redis_url, prefix, lease_seconds=0.3), ours(redis_url, prefix)
    events: list[str] = []

    async def main() -> None:
        held = asyncio.Event()

        async def long_turn() -> None:
            async with slow.lock(CONVERSATION):
                held.set()
                await asyncio.sleep(1.0)  # more than three leases
                events.append("slow turn ends")

        async def next_message() -> None:
            await held.wait()
            async with other.lock(CONVERSATION):
                events.append("next message runs")

        await asyncio.gather(long_turn(), next_message())
        await slow.close()
        await other.close()

    asyncio.run(main())
    assert events == ["slow turn ends", "next message runs"]


def test_a_dead_process_frees_the_conversation_when_its_lease_ends(
    redis_url: str, prefix: str
) -> None:
    dead = ours(redis_url, prefix)
    dead.issue_ticket(CONVERSATION, lock_lifetime=0.2)  # issued, then its process died
    alive = ours(redis_url, prefix)

    async def main() -> bool:
        async with alive.lock(CONVERSATION, lock_lifetime=5):
            lock = alive.get_lock(CONVERSATION)
            await alive.close()
            return lock is not None and len(lock.tickets) == 1

    assert asyncio.run(main())  # served: the dead ticket had expired and was dropped


def test_a_message_that_waited_the_whole_lifetime_fails(redis_url: str, prefix: str) -> None:
    holder, waiter = ours(redis_url, prefix), ours(redis_url, prefix)
    holder.issue_ticket(CONVERSATION, lock_lifetime=30)

    async def main() -> None:
        try:
            async with waiter.lock(CONVERSATION, lock_lifetime=0.1):
                pass
        finally:
            await waiter.close()

    with pytest.raises(LockError):
        asyncio.run(main())
    lock = holder.get_lock(CONVERSATION)
    assert lock is not None and [ticket.number for ticket in lock.tickets] == [1]


def test_without_redis_answers_go_on_serialized_in_the_process() -> None:
    store = ProductLockStore(redis_url="redis://127.0.0.1:1/0", retry_after_seconds=60)
    order: list[str] = []

    async def main() -> None:
        async def turn(name: str) -> None:
            async with store.lock(CONVERSATION):
                order.append(f"{name} in")
                await asyncio.sleep(0.01)
                order.append(f"{name} out")

        await asyncio.gather(turn("a"), turn("b"))
        await store.close()

    asyncio.run(main())
    assert order == ["a in", "a out", "b in", "b out"]
    assert store.fallbacks == 2  # the first failed on Redis, the second did not try


def test_the_sync_interface_is_atomic_too(redis_url: str, prefix: str) -> None:
    store = ours(redis_url, prefix)
    first = store.issue_ticket(CONVERSATION)
    second = store.issue_ticket(CONVERSATION)
    lock = store.get_lock(CONVERSATION)
    assert lock is not None and not lock.is_locked(first) and lock.is_locked(second)
    assert store.is_someone_waiting(CONVERSATION)
    store.cleanup(CONVERSATION, first)
    lock = store.get_lock(CONVERSATION)
    assert lock is not None and not lock.is_locked(second)
    store.cleanup(CONVERSATION, second)
    assert store.get_lock(CONVERSATION) is None
    assert not store.is_someone_waiting(CONVERSATION)


def test_rasa_builds_it_from_the_endpoint_entry(redis_url: str, prefix: str) -> None:
    store = LockStore.create(EndpointConfig(
        type="bot.store.lock_store.ProductLockStore", redis_url=redis_url, key_prefix=prefix,
        lease_seconds=4,
    ))
    assert isinstance(store, ProductLockStore) and isinstance(store, RedisLockStore)
    assert store.lease_seconds == 4
    assert store.keys_of("c1") == [f"{prefix}:lock:{{c1}}:q", f"{prefix}:lock:{{c1}}:e",
                                   f"{prefix}:lock:{{c1}}:n"]


def test_without_a_redis_url_it_is_rasas_in_memory_store(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(lock_store_module, "get_settings",
                        lambda: SimpleNamespace(redis_url=None))
    store = LockStore.create(EndpointConfig(type="bot.store.lock_store.ProductLockStore"))
    assert type(store) is InMemoryLockStore
