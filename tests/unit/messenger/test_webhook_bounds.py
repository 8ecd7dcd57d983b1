"""Signed but malformed webhook bodies: a clear 4xx (or a 200 with the odd item recorded), never
a 5xx, and never at the cost of a good event posted alongside.

Everything goes through the real receiver (`bot.messenger.ingress`) on loopback, with bodies
signed with the app secret, into a real inbox on SQLite.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from bot.messenger.body_checks import MAX_DEPTH, MAX_EVENTS_PER_BODY
from bot.messenger.inbox import Inbox
from bot.messenger.ingress import WEBHOOK_PATH, create_app
from bot.settings import MessengerSettings, load_settings
from bot.store import create_db_engine, ensure_schema
from bot.store.tables import InboxEventRow
from tests.messenger_payloads import APP_SECRET, VERIFY_TOKEN, dm, signed


@pytest.fixture()
def receiver(tmp_path: Path) -> Iterator[tuple[Any, Any]]:
    """What builds the receiver's app (one per event loop), and its database engine."""
    engine = create_db_engine(f"sqlite:///{tmp_path / 'inbox.db'}")
    ensure_schema(engine)
    settings = load_settings({"NIGHTDESK_HOME": str(tmp_path), "RASA_URL": "http://127.0.0.1:9"})
    settings = dataclasses.replace(settings, messenger=MessengerSettings(
        page_access_token="token", app_secret=APP_SECRET, verify_token=VERIFY_TOKEN))
    inbox = Inbox(engine)
    yield (lambda: create_app(settings, inbox)), engine


async def _post_all(app: web.Application, bodies: list[tuple[bytes, dict[str, str]]]) -> list[int]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}{WEBHOOK_PATH}"
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:

            async def one(raw: bytes, headers: dict[str, str]) -> int:
                async with session.post(url, data=raw, headers=headers) as answer:
                    await answer.read()
                    return answer.status

            return list(await asyncio.gather(*(one(raw, headers) for raw, headers in bodies)))
    finally:
        await runner.cleanup()


def post(receiver: tuple[Any, Any], *bodies: tuple[bytes, dict[str, str]]) -> list[int]:
    return asyncio.run(_post_all(receiver[0](), list(bodies)))


def rows(receiver: tuple[Any, Any]) -> list[Any]:
    with receiver[1].connect() as connection:
        return list(connection.execute(select(InboxEventRow.__table__)).mappings())


def nested(depth: int) -> bytes:
    return b'{"object":"page","entry":' + b"[" * depth + b"]" * depth + b"}"


def with_raw_text(text_json: str, psid: str = "9100000000000001") -> bytes:
    """A DM body whose text is the given JSON string literal, written by hand."""
    body = json.dumps(dm("placeholder", psid)).replace('"placeholder"', text_json)
    return body.encode()


def test_nesting_deeper_than_the_limit_is_a_400_whatever_the_depth(receiver):
    statuses = post(receiver, signed(nested(1000)), signed(nested(MAX_DEPTH + 5)),
                    signed(nested(100_000)))
    assert statuses == [400, 400, 400]
    assert rows(receiver) == []


@pytest.mark.parametrize("value", ["1e400", "-1e400", str(10**20), "-5", "\"soon\"",
                                   "1e308", "NaN", "Infinity", "-Infinity"])
def test_an_impossible_timestamp_never_gives_a_5xx(receiver, value):
    body = json.dumps(dm("hello", "9100000000000002"))
    body = body.replace('"timestamp": ', f'"timestamp": {value}, "x": ', 1)
    (status,) = post(receiver, signed(body.encode()))
    if value in ("NaN", "Infinity", "-Infinity"):
        assert status == 400  # not JSON at all
        return
    assert status == 200
    (row,) = rows(receiver)
    assert 0 <= row["timestamp"] <= 4_102_444_800_000


def test_an_infinite_entry_time_is_read_as_missing(receiver):
    body = dm("hello", "9100000000000003")
    body["entry"][0]["time"] = "__INF__"
    for item in body["entry"][0]["messaging"]:
        item.pop("timestamp", None)
    raw = json.dumps(body).replace('"__INF__"', "-1e400").encode()
    assert post(receiver, signed(raw)) == [200]
    assert rows(receiver)[0]["status"] == "pending"


def test_a_lone_surrogate_in_a_text_is_mended_and_the_message_kept(receiver):
    assert post(receiver, signed(with_raw_text('"ciao \\ud800 ok"'))) == [200]
    (row,) = rows(receiver)
    assert row["status"] == "pending"
    assert "ciao \ufffd ok" in json.loads(row["payload"])["message"]["text"]


def test_a_lone_surrogate_in_a_key_or_a_sender_id_costs_only_that_item(receiver):
    body = json.dumps(dm("hello", "9100000000000004"))
    in_key = body.replace('"text"', '"te\\udfffxt"', 1).encode()
    in_sender = body.replace('"9100000000000004"', '"91\\ud800"', 1).encode()
    assert post(receiver, signed(in_key), signed(in_sender)) == [200, 200]
    stored = rows(receiver)
    assert len(stored) == 2
    assert {row["status"] for row in stored} == {"ignored"}
    assert all(row["error"] for row in stored)  # why it was not answered


def test_over_long_ids_are_recorded_not_stored_as_customers(receiver):
    body = dm("hello", "9" * 500)
    assert post(receiver, signed(body)) == [200]
    (row,) = rows(receiver)
    assert row["status"] == "ignored" and "not a valid id" in row["error"]
    body = dm("hello", "9100000000000005")
    body["entry"][0]["id"] = "1" * 100
    assert post(receiver, signed(body)) == [200]
    assert len(rows(receiver)) == 2


def test_a_compressed_body_is_a_415_and_a_broken_one_too(receiver):
    raw, headers = signed(dm("hello", "9100000000000006"))
    good = zlib.compress(raw)
    statuses = post(
        receiver,
        (good, {**headers, "Content-Encoding": "deflate"}),
        (b"\x78\x9c broken", {**headers, "Content-Encoding": "deflate"}),
        (raw, {**headers, "Content-Encoding": "gzip"}),
    )
    assert statuses == [415, 415, 415]
    assert rows(receiver) == []


def test_not_utf8_or_not_json_is_a_400(receiver):
    assert post(receiver, signed(b'{"object":"page","entry":["\xff"]}'),
                signed(b'{"object":"page",')) == [400, 400]


def test_a_body_with_too_many_events_is_a_413_and_stores_nothing(receiver):
    body = dm("hello", "9100000000000007")
    item = body["entry"][0]["messaging"][0]
    items = []
    for number in range(MAX_EVENTS_PER_BODY + 1):
        copy = json.loads(json.dumps(item))
        copy["message"]["mid"] = f"m_many_{number}"
        items.append(copy)
    body["entry"][0]["messaging"] = items
    assert post(receiver, signed(body)) == [413]
    assert rows(receiver) == []


def test_valid_dms_posted_among_poison_bodies_all_get_their_200(receiver):
    good = [signed(dm(f"hello {n}", f"92000000000{n:05d}")) for n in range(30)]
    poison = [
        signed(nested(1000)),
        signed(with_raw_text('"\\udc00"', "9300000000000001")),
        signed(dm("x", "9" * 300)),
        signed(json.dumps(dm("x", "9300000000000002")).replace('"timestamp": ',
                                                                 '"timestamp": 1e400, "y": ')
               .encode()),
    ] * 8
    mixed = [body for pair in zip(good, poison, strict=False) for body in pair] + good[len(poison):]
    statuses = post(receiver, *mixed)
    assert all(status < 500 for status in statuses)
    assert [s for s, body in zip(statuses, mixed, strict=True) if body in good] == [200] * 30
    pending = {row["conversation_id"] for row in rows(receiver) if row["status"] == "pending"}
    assert {f"92000000000{n:05d}" for n in range(30)} <= pending
    assert "9300000000000001" in pending  # the mended surrogate text is a real message too
