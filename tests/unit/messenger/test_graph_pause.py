"""The page-wide Graph pause: a rate limit heard by one call pauses the page's other calls.

In one process (`LocalPause`, shared by every client) and across processes on real Redis
(`RedisPause`), with real GraphClients against the fake Graph API on loopback. Sleeps are
injected: they record what was waited and move the pause's clock, nothing waits for real.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
import redis

from bot.messenger.graph_client import GraphClient
from bot.messenger.graph_errors import GraphSendError
from bot.messenger.graph_pause import LocalPause
from bot.store.redis_pause import KEY_PREFIX, RedisPause
from tests.fakes.fake_graph import FakeGraphApi
from tests.fakes.fake_graph_server import FakeGraphServer

TOKEN = "page-token-123"
PSID = "6543219876543210"
BACKOFF = 0.4  # the first retry's wait; up to half again of jitter


class FakeTime:
    """A monotonic clock and a sleep that moves it, recording every sleep."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def client(base_url: str, pause, **options) -> GraphClient:
    return GraphClient(base_url, TOKEN, backoff_seconds=BACKOFF, timeout_seconds=2.0,
                       pause=pause, **options)


def test_a_local_pause_only_ever_lengthens_and_is_waited_out():
    time = FakeTime()
    pause = LocalPause(clock=time.clock, sleep=time.sleep)

    async def scenario():
        await pause.wait()
        assert time.slept == []
        await pause.pause_for(5)
        await pause.pause_for(1)  # a shorter pause does not cut the longer one
        assert pause.remaining() == 5
        time.now += 2
        await pause.wait()
        assert time.slept == [3]
        assert pause.remaining() == 0

    asyncio.run(scenario())


@pytest.mark.parametrize(("status", "code"), [(429, None), (400, 613), (400, 4), (403, 32)])
def test_a_rate_limit_pauses_the_other_conversations_calls(status, code):
    time = FakeTime()
    shared = LocalPause(clock=time.clock, sleep=time.sleep)
    api = FakeGraphApi(TOKEN)

    async def scenario():
        async with FakeGraphServer(api) as base_url:
            first, second = client(base_url, shared, max_attempts=1), client(base_url, shared)
            api.fail_next(1, status, code=code)
            with pytest.raises(GraphSendError):
                await first.send_text(PSID, "Hello")
            await second.send_text(PSID, "Your parcel is on its way")
            await first.close()
            await second.close()

    asyncio.run(scenario())
    [waited] = time.slept
    assert BACKOFF <= waited <= BACKOFF * 1.5
    assert api.sent_texts() == ["Your parcel is on its way"]


def test_a_server_error_pauses_only_the_call_that_had_it():
    time = FakeTime()
    shared = LocalPause(clock=time.clock, sleep=time.sleep)
    api = FakeGraphApi(TOKEN)

    async def scenario():
        async with FakeGraphServer(api) as base_url:
            first, second = client(base_url, shared, max_attempts=1), client(base_url, shared)
            api.fail_next(1, 503)
            with pytest.raises(GraphSendError):
                await first.sender_action(PSID, "typing_on")
            await second.sender_action(PSID, "typing_on")
            await first.close()
            await second.close()

    asyncio.run(scenario())
    assert time.slept == []


@pytest.fixture
def page() -> str:
    """A page key of the test's own in the shared Redis."""
    return f"test-{uuid.uuid4().hex}"


def _pttl(redis_url: str, page: str) -> int:
    connection = redis.Redis.from_url(redis_url)
    try:
        return connection.pttl(f"{KEY_PREFIX}{page}")
    finally:
        connection.close()


def test_a_pause_in_redis_is_seen_by_every_process_and_only_lengthens(redis_url, page):
    async def scenario():
        one = RedisPause(redis_url, page, fallback=LocalPause())
        other = RedisPause(redis_url, page, fallback=LocalPause())
        assert await other.remaining() == 0
        await one.pause_for(30)
        await other.pause_for(1)  # shorter: the 30 s stand
        left = await other.remaining()
        await one.close()
        await other.close()
        return left

    left = asyncio.run(scenario())
    assert 20 < left <= 30
    assert 20_000 < _pttl(redis_url, page) <= 30_000
    redis.Redis.from_url(redis_url).delete(f"{KEY_PREFIX}{page}")


def test_a_rate_limit_in_one_process_pauses_the_other_through_redis(redis_url, page):
    """Two processes' clients (each its own RedisPause): the second waits out the first's."""
    api = FakeGraphApi(TOKEN)
    slept: list[float] = []
    key = f"{KEY_PREFIX}{page}"

    async def sleep_until_the_pause_ends(seconds: float) -> None:
        slept.append(seconds)  # what Redis said was left; the pause ends "now"
        await asyncio.to_thread(redis.Redis.from_url(redis_url).delete, key)

    async def scenario():
        in_one = RedisPause(redis_url, page, fallback=LocalPause())
        in_other = RedisPause(redis_url, page, fallback=LocalPause(),
                              sleep=sleep_until_the_pause_ends)
        async with FakeGraphServer(api) as base_url:
            first = client(base_url, in_one, max_attempts=1)
            second = client(base_url, in_other)
            api.fail_next(1, 400, code=613)
            with pytest.raises(GraphSendError):
                await first.send_text(PSID, "Hello")
            await second.send_text(PSID, "Your parcel is on its way")
            await first.close()
            await second.close()
        await in_one.close()
        await in_other.close()

    asyncio.run(scenario())
    [waited] = slept
    assert 0 < waited <= BACKOFF * 1.5
    assert api.sent_texts() == ["Your parcel is on its way"]
    assert _pttl(redis_url, page) == -2  # gone


def test_without_redis_the_process_pause_stands_in(page, caplog):
    time = FakeTime()
    local = LocalPause(clock=time.clock, sleep=time.sleep)

    async def scenario():
        pause = RedisPause("redis://127.0.0.1:1/0", page, fallback=local, sleep=time.sleep)
        await pause.pause_for(4)
        assert await pause.remaining() == 4
        await pause.wait()
        await pause.close()

    asyncio.run(scenario())
    assert time.slept == [4]
    assert "pausing this process only" in caplog.text
