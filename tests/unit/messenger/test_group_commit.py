"""Group commit: POSTs that arrive together share a transaction, each gets its own answer."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import pytest

from bot.messenger.event_types import InboundEvent
from bot.messenger.events import parse_webhook
from bot.messenger.group_commit import GroupCommit
from bot.messenger.inbox import Inbox
from bot.store import create_db_engine, ensure_schema


def event(mid: str, psid: str = "p1", timestamp: int = 1) -> InboundEvent:
    body = {"object": "page", "entry": [{"id": "104", "time": timestamp, "messaging": [{
        "sender": {"id": psid}, "recipient": {"id": "104"}, "timestamp": timestamp,
        "message": {"mid": mid, "text": "hi"},
    }]}]}
    (parsed,) = parse_webhook(body)
    return parsed


class SlowInbox:
    """Stands in for the inbox: each store takes a while; records the batches it got."""

    def __init__(self, fail: bool = False) -> None:
        self.batches: list[list[str]] = []
        self.fail = fail
        self.lock = threading.Lock()

    def store(self, events: list[InboundEvent]) -> list[str]:
        time.sleep(0.05)
        with self.lock:
            self.batches.append([e.event_id for e in events])
        if self.fail:
            raise RuntimeError("database is down")
        return [e.event_id for e in events]

    def store_each(self, events: list[InboundEvent]) -> list[str]:
        return self.store(events)


def test_posts_arriving_during_a_commit_share_the_next_one():
    inbox = SlowInbox()
    intake = GroupCommit(inbox)  # type: ignore[arg-type]

    async def twenty_posts():
        return await asyncio.gather(*(intake.store([event(f"m{i}")]) for i in range(20)))

    answers = asyncio.run(twenty_posts())
    assert answers == [[f"m{i}"] for i in range(20)]
    assert len(inbox.batches) <= 2  # the first POST's commit, then everyone else's
    assert sorted(sum(inbox.batches, [])) == sorted(f"m{i}" for i in range(20))


def test_a_database_error_fails_every_post_of_its_batch_and_the_next_batch_still_runs():
    inbox = SlowInbox(fail=True)
    intake = GroupCommit(inbox)  # type: ignore[arg-type]

    async def posts():
        return await asyncio.gather(
            intake.store([event("a")]), intake.store([event("b")]), return_exceptions=True
        )

    results = asyncio.run(posts())
    assert all(isinstance(r, RuntimeError) for r in results)
    inbox.fail = False
    assert asyncio.run(intake.store([event("c")])) == ["c"]


def test_the_same_delivery_twice_in_one_batch_is_new_for_the_first_post_only(tmp_path: Path):
    engine = create_db_engine(f"sqlite:///{tmp_path / 'inbox.db'}")
    ensure_schema(engine)
    intake = GroupCommit(Inbox(engine))

    async def posts():
        return await asyncio.gather(
            intake.store([event("first")]),
            intake.store([event("dup"), event("x", psid="p2")]),
            intake.store([event("dup")]),
            intake.store([event("first")]),
        )

    first, second, third, fourth = asyncio.run(posts())
    assert first == ["first"]
    assert second == ["dup", "x"]
    assert third == [] and fourth == []


def test_nothing_to_store_touches_nothing():
    inbox = SlowInbox()
    assert asyncio.run(GroupCommit(inbox).store([])) == []  # type: ignore[arg-type]
    assert inbox.batches == []


@pytest.mark.parametrize("posts", [1, 5])
def test_each_post_gets_only_its_own_ids(posts: int):
    inbox = SlowInbox()
    intake = GroupCommit(inbox)  # type: ignore[arg-type]

    async def run():
        return await asyncio.gather(*(
            intake.store([event(f"{n}.{k}") for k in range(3)]) for n in range(posts)
        ))

    assert asyncio.run(run()) == [[f"{n}.{k}" for k in range(3)] for n in range(posts)]
