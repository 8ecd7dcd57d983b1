"""Webhook fuzz benchmark: 10,000 fuzzed signed bodies against the real receiver, never a 5xx.

Starts the webhook receiver (`python -m bot.messenger.ingress`) as its own process, on a
temporary SQLite inbox, with Messenger secrets in its environment, and POSTs 10,000 signed
bodies (fixed seed, 20 at a time): Meta's real event shapes (tests/fixtures/messenger/) with
fields mutated (random JSON values, huge numbers, lone surrogates written as JSON escapes,
very long strings, keys removed or added, lists for objects), random bytes, truncated JSON,
deep nesting, NaN/Infinity literals, batches of many entries or values, bodies over the size
limit, and valid DMs among them.

Prints the status codes by body kind, the 5xx count (target 0), timeouts, answer time
p50/p99, the receiver's logged tracebacks, the inbox rows by status, and then posts one valid
DM and shows that it is stored 'pending'.

Run with `make bench` (or `.venv/bin/python bench/webhook_fuzz.py [--seed N] [--bodies N]`);
about a minute on 2 cores. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy import create_engine, text

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from bot.messenger.body_checks import MAX_NODES  # noqa: E402
from bot.messenger.signature import sign  # noqa: E402
from bot.messenger.webhook import DEFAULT_MAX_BODY_BYTES  # noqa: E402

FIXTURES = PROJECT / "tests" / "fixtures" / "messenger"
APP_SECRET = "bench-fuzz-app-secret"
PAGE_ID = "104852338912345"
BODIES = 10_000
CONCURRENCY = 20
SEED = 20251122
TIMEOUT = 10.0
WEBHOOK_PATH = "/webhooks/messenger/webhook"

KINDS = [  # (kind, weight out of 100)
    ("meta-mutated", 45), ("valid-dm", 15), ("random-bytes", 8), ("truncated", 8),
    ("deep-nesting", 6), ("nan-infinity", 5), ("many-entries", 6), ("many-values", 4),
    ("over-size", 3),
]

RAW_TOKENS = [
    "1e400", "-1e400", "1E+999", "-0", "1e308", "-1e308", "5e-324", "9" * 5000,
    "-" + "9" * 4400, "1" + "0" * 400, "123456789012345678901234567890", '"\\ud800"',
    '"ciao \\udfff ok"', '"\\udc00\\ud800"', '"\\u0000"', '"\\ud83d"',
]
"""JSON text written as is into a body: what json.dumps cannot write itself."""

PLACEHOLDERS = [f"\ue000raw{index}\ue000" for index in range(len(RAW_TOKENS))]

KNOWN_KEYS = [
    "object", "entry", "id", "time", "messaging", "standby", "changes", "sender", "recipient",
    "timestamp", "message", "mid", "text", "attachments", "type", "payload", "url", "title",
    "sticker_id", "coordinates", "lat", "long", "quick_reply", "reply_to", "is_echo", "app_id",
    "metadata", "postback", "referral", "reaction", "action", "delivery", "mids", "watermark",
    "read", "pass_thread_control", "take_thread_control", "user_ref", "field", "value", "item",
    "verb", "comment_id", "post_id", "parent_id", "from", "created_time", "optin",
]
ODD_CHARACTERS = ["a", " ", "é", "\ud800", "\udfff", "\x00", "\n", "😀", "\u202e", "9"]
SPECIAL_NUMBERS: list[Any] = [0, -1, -(2**63), 2**31, 2**63, 2**64, 10**20, 10**400,
                              1763849400000, 1763849400, 4_102_444_800_001, 1e308, -1e308,
                              5e-324, -0.0, 1.5]


class Fuzzer:
    """Bodies of every kind from one seeded random generator."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.fixtures = {path.stem: json.loads(path.read_text())
                         for path in sorted(FIXTURES.glob("*.json"))}
        self.names = sorted(self.fixtures)
        self.dm_number = 0

    def odd_text(self) -> str:
        return "".join(self.rng.choice(ODD_CHARACTERS) for _ in range(self.rng.randint(0, 12)))

    def scalar(self) -> Any:
        rng = self.rng
        choice = rng.randrange(10)
        if choice == 0:
            return rng.choice([None, True, False])
        if choice == 1:
            return rng.randint(-(10**30), 10**30)
        if choice == 2:
            return rng.choice(SPECIAL_NUMBERS)
        if choice == 3:
            return rng.uniform(-1e300, 1e300)
        if choice == 4:
            return self.odd_text()
        if choice == 5:
            return rng.choice(["x" * 5000, "9" * 200, "é" * 30_000, "😀" * 2000])
        if choice == 6:
            return rng.choice(PLACEHOLDERS)
        if choice == 7:
            return rng.choice(KNOWN_KEYS + ["GET_STARTED", "page", "feed", "comment", PAGE_ID])
        return "".join(chr(rng.randint(32, 0x2FFF)) for _ in range(rng.randint(0, 20)))

    def json_value(self, depth: int = 0) -> Any:
        choice = self.rng.randrange(8)
        if depth >= 3 or choice < 5:
            return self.scalar()
        if choice == 5:
            return [self.json_value(depth + 1) for _ in range(self.rng.randint(0, 4))]
        return {self.key(): self.json_value(depth + 1) for _ in range(self.rng.randint(0, 4))}

    def key(self) -> str:
        return self.rng.choice(KNOWN_KEYS) if self.rng.random() < 0.6 else self.odd_text()

    def serialize(self, body: Any) -> bytes:
        raw = json.dumps(body)
        for placeholder, token in zip(PLACEHOLDERS, RAW_TOKENS, strict=True):
            raw = raw.replace(json.dumps(placeholder), token)
        return raw.encode()

    @staticmethod
    def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        found: list[tuple[Any, ...]] = []
        children = node.items() if isinstance(node, dict) else (
            enumerate(node) if isinstance(node, list) else ())
        for key, child in children:
            found.append((*prefix, key))
            found.extend(Fuzzer.paths(child, (*prefix, key)))
        return found

    def mutated(self) -> bytes:
        rng = self.rng
        body = copy.deepcopy(self.fixtures[rng.choice(self.names)])
        for _ in range(rng.randint(1, 4)):
            paths = self.paths(body)
            if not paths:
                break
            path = rng.choice(paths)
            parent = body
            for key in path[:-1]:
                parent = parent[key]
            key = path[-1]
            node = parent[key]
            mutation = rng.choice(["replace"] * 3 + ["delete", "add", "wrap", "unwrap",
                                                     "duplicate", "stringify"])
            if mutation == "delete":
                del parent[key]
            elif mutation == "add" and isinstance(node, dict):
                node[self.key()] = self.json_value()
            elif mutation == "wrap":
                parent[key] = [node]
            elif mutation == "unwrap" and isinstance(node, list):
                parent[key] = node[0] if node else {}
            elif mutation == "unwrap" and isinstance(node, dict):
                parent[key] = list(node.values())
            elif mutation == "duplicate" and isinstance(node, list) and node:
                node.append(copy.deepcopy(node[-1]))
            elif mutation == "stringify":
                parent[key] = node if isinstance(node, str) else json.dumps(node)
            else:
                parent[key] = self.json_value()
        return self.serialize(body)

    def valid_dm(self) -> tuple[bytes, str]:
        """A DM like Meta's, with its own customer and message id; the body and the mid."""
        self.dm_number += 1
        body = copy.deepcopy(self.fixtures["dm_text"])
        item = body["entry"][0]["messaging"][0]
        item["sender"]["id"] = f"97{self.dm_number:014d}"
        item["message"]["mid"] = f"m_bench_fuzz_{self.dm_number}"
        item["message"]["text"] = f"hello {self.dm_number}"
        return self.serialize(body), item["message"]["mid"]

    def body(self, kind: str) -> bytes:
        rng = self.rng
        if kind == "meta-mutated":
            return self.mutated()
        if kind == "random-bytes":
            return rng.randbytes(rng.randint(0, 600))
        if kind == "truncated":
            whole = self.serialize(self.fixtures[rng.choice(self.names)])
            return whole[:rng.randint(1, len(whole) - 1)]
        if kind == "deep-nesting":
            depth = rng.choice([rng.randint(1, 40), rng.randint(40, 5000)])
            opener = rng.choice(["[", '{"a":'])
            inner = (opener * depth + ("[]" if opener != "[" else "")
                     + ("]" if opener == "[" else "}") * depth)
            return f'{{"object":"page","entry":[{inner}]}}'.encode()
        if kind == "nan-infinity":
            constant = rng.choice(["NaN", "Infinity", "-Infinity"])
            raw = json.dumps(self.fixtures[rng.choice(["dm_text", "read", "quick_reply"])])
            return raw.replace('"timestamp": ', f'"timestamp": {constant}, "was": ', 1).encode()
        if kind == "many-entries":
            count, per_entry = rng.randint(1, 120), rng.choice([1, 2, 4])
            template = self.fixtures["dm_text"]["entry"][0]
            entries = []
            for number in range(count):
                entry = copy.deepcopy(template)
                entry["messaging"] = [copy.deepcopy(entry["messaging"][0])
                                      for _ in range(per_entry)]
                for index, item in enumerate(entry["messaging"]):
                    item["message"]["mid"] = f"m_many_{rng.getrandbits(64):x}_{number}_{index}"
                entries.append(entry)
            return self.serialize({"object": "page", "entry": entries})
        if kind == "many-values":
            extra = rng.randint(-5, 5)
            return b'{"object":"page","entry":[' + b"0," * (MAX_NODES + extra) + b"0]}"
        if kind == "over-size":
            size = DEFAULT_MAX_BODY_BYTES + rng.randint(-40, 50_000)
            return b'{"object":"page","entry":["' + b"a" * size + b'"]}'
        raise ValueError(kind)


def percentile(values: list[float], share: int) -> float:
    """The `share`th percentile (1-99) of `values`."""
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100)[share - 1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_receiver(tmp: Path, port: int) -> tuple[subprocess.Popen[bytes], Path, str]:
    database_url = f"sqlite:///{tmp / 'inbox.db'}"
    env = {
        **os.environ,
        "NIGHTDESK_HOME": str(PROJECT),
        "DATABASE_URL": database_url,
        "RASA_URL": "http://127.0.0.1:9",  # nothing listens: the wake-up simply fails
        "PAGE_ACCESS_TOKEN": "bench-page-token",
        "APP_SECRET": APP_SECRET,
        "VERIFY_TOKEN": "bench-verify-token",
        "MESSENGER_INGRESS_HOST": "127.0.0.1",
        "MESSENGER_INGRESS_PORT": str(port),
        "RASA_TELEMETRY_ENABLED": "false",
    }
    log = tmp / "ingress.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.messenger.ingress"], cwd=PROJECT, env=env,
        stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )
    return process, log, database_url


async def wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"the receiver exited with {process.returncode}")
            try:
                async with session.get(f"{url}/health") as answer:
                    if answer.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("the receiver did not answer /health within 60 s")


async def post_all(url: str, bodies: list[tuple[str, bytes]], reuse_for_oversize: bool
                   ) -> list[tuple[int | str, float]]:
    """POSTs every body, CONCURRENCY at a time; each one's status (or error) and time in ms."""
    results: list[tuple[int | str, float]] = [("not sent", 0.0)] * len(bodies)
    timeout = aiohttp.ClientTimeout(total=TIMEOUT)
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    # An over-limit body is answered 413 before it is read; the receiver closes that
    # connection, else the next request on it was read as the rest of the refused body and
    # timed out (13 in 10,000 before the fix). By default every body shares the kept-alive
    # connections, which checks the fix (--separate-connections-for-oversize does not).
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session, \
            aiohttp.ClientSession(timeout=timeout,
                                  connector=aiohttp.TCPConnector(force_close=True)) as closing:
        queue = list(range(len(bodies)))

        async def poster() -> None:
            while queue:
                index = queue.pop()
                kind, raw = bodies[index]
                headers = {"Content-Type": "application/json",
                           "X-Hub-Signature-256": sign(APP_SECRET, raw)}
                chosen = closing if kind == "over-size" and not reuse_for_oversize else session
                started = time.perf_counter()
                try:
                    async with chosen.post(url, data=raw, headers=headers) as answer:
                        await answer.read()
                        status: int | str = answer.status
                except asyncio.TimeoutError:
                    status = "timeout"
                except aiohttp.ClientError as error:
                    status = type(error).__name__
                results[index] = (status, (time.perf_counter() - started) * 1000)

        await asyncio.gather(*(poster() for _ in range(CONCURRENCY)))
    return results


def print_table(bodies: list[tuple[str, bytes]], results: list[tuple[int | str, float]]) -> None:
    by_kind: dict[str, Counter[int | str]] = defaultdict(Counter)
    for (kind, _), (status, _) in zip(bodies, results, strict=True):
        by_kind[kind][status] += 1
    columns = sorted({status for counts in by_kind.values() for status in counts}, key=str)
    header = f"{'body kind':<14}{'bodies':>7}" + "".join(f"{str(c):>9}" for c in columns)
    print(header)
    print("-" * len(header))
    for kind, _ in KINDS:
        counts = by_kind.get(kind, Counter())
        print(f"{kind:<14}{sum(counts.values()):>7}"
              + "".join(f"{counts.get(c, 0):>9}" for c in columns))
    total: Counter[int | str] = Counter(status for status, _ in results)
    print(f"{'all':<14}{len(results):>7}" + "".join(f"{total.get(c, 0):>9}" for c in columns))


async def run(args: argparse.Namespace, url: str, database_url: str, log: Path) -> None:
    fuzzer = Fuzzer(args.seed)
    kinds = [kind for kind, _ in KINDS]
    weights = [weight for _, weight in KINDS]
    bodies: list[tuple[str, bytes]] = []
    dm_mids: dict[int, str] = {}
    for index, kind in enumerate(fuzzer.rng.choices(kinds, weights, k=args.bodies)):
        if kind == "valid-dm":
            raw, dm_mids[index] = fuzzer.valid_dm()
        else:
            raw = fuzzer.body(kind)
        bodies.append((kind, raw))
    megabytes = sum(len(raw) for _, raw in bodies) / 1e6
    print(f"{len(bodies)} signed bodies ({megabytes:.1f} MB), seed {args.seed}, "
          f"{CONCURRENCY} at a time, {TIMEOUT:.0f} s client timeout")

    started = time.monotonic()
    results = await post_all(url, bodies, not args.separate_connections_for_oversize)
    elapsed = time.monotonic() - started
    print(f"posted in {elapsed:.1f} s ({len(bodies) / elapsed:.0f} bodies/s)\n")
    print_table(bodies, results)

    statuses = [status for status, _ in results]
    server_errors = sum(1 for s in statuses if isinstance(s, int) and s >= 500)
    timeouts = statuses.count("timeout")
    other = sum(1 for s in statuses if isinstance(s, str) and s != "timeout")
    times = [ms for status, ms in results if isinstance(status, int)]
    print(f"\n5xx answers:           {server_errors} (target 0)")
    print(f"timeouts:              {timeouts}   other client errors: {other}")
    print(f"answer time:           p50 {percentile(times, 50):6.1f} ms   "
          f"p99 {percentile(times, 99):6.1f} ms   max {max(times):6.1f} ms")
    for kind in ("valid-dm", "meta-mutated", "over-size"):
        kind_times = [ms for (k, _), (s, ms) in zip(bodies, results, strict=True)
                      if k == kind and isinstance(s, int)]
        print(f"  {kind:<20} p50 {percentile(kind_times, 50):6.1f} ms   "
              f"p99 {percentile(kind_times, 99):6.1f} ms")
    log_text = log.read_text(errors="replace")
    print(f"receiver log:          {log_text.count('Traceback')} tracebacks, "
          f"{log_text.count(' ERROR ')} ERROR lines")

    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = dict(connection.execute(text(
            "select status, count(*) from messenger_inbox group by status order by status")).all())
        pending_ids = set(connection.execute(text(
            "select event_id from messenger_inbox where status = 'pending'")).scalars())
    pending = len(pending_ids & set(dm_mids.values()))
    dm_ok = sum(1 for index in dm_mids if results[index][0] == 200)
    print(f"inbox rows by status:  {rows}")
    print(f"valid DMs in the mix:  {len(dm_mids)} posted, {dm_ok} answered 200, "
          f"{pending} stored pending")

    raw, mid = fuzzer.valid_dm()
    async with aiohttp.ClientSession() as session:
        headers = {"Content-Type": "application/json",
                   "X-Hub-Signature-256": sign(APP_SECRET, raw)}
        async with session.post(url, data=raw, headers=headers) as answer:
            status, reply = answer.status, await answer.text()
    with engine.connect() as connection:
        stored = connection.execute(text(
            "select status from messenger_inbox where event_id = :mid"), {"mid": mid}).scalar()
    print(f"one more valid DM:     {status} {reply}, stored {stored!r}")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--bodies", type=int, default=BODIES)
    parser.add_argument("--separate-connections-for-oversize", action="store_true",
                        help="send over-limit bodies on connections of their own (by default "
                             "they share the kept-alive connections, as Meta's would)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="nightdesk-bench-fuzz-"))
    print(f"receiver log and database (kept): {tmp}")
    port = free_port()
    process, log, database_url = start_receiver(tmp, port)
    url = f"http://127.0.0.1:{port}"
    try:
        asyncio.run(wait_healthy(url, process))
        asyncio.run(run(args, f"{url}{WEBHOOK_PATH}", database_url, log))
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


if __name__ == "__main__":
    main()
