"""Messenger load benchmark: signed webhooks through our channel to the Send API, vs stock REST.

Full path on this machine: signed webhook POSTs -> our Messenger channel (inbox, worker) ->
Rasa -> action server -> Send API call recorded by the fake Graph API (in this process, on
loopback). Then the same load through stock Rasa's REST channel, same server, same model.

Prints, for 20 concurrent conversations and 1,000 messages:
- webhook ack latency p50/p99 (the 200 never waits for NLU), in a closed loop (each
  conversation sends its next message once the previous one was answered) and in a burst
  (every message posted at once, so the ack is measured with the whole backlog queued);
- time from the POST to the first Send API call of the answer, p50/p95, and throughput;
- the model's own cost per message (its runs per message under the load, counted by the Rasa
  process's metrics, times one run's time with nothing else running: 60 messages sent one at
  a time) against the CPU per message of every server process, and the ratio;
- the same conversations through the REST channel of our server (time to the HTTP answer),
  and the ratios;
- the same through stock Rasa (`python -m rasa run` with Rasa's own SQL tracker store on
  SQLite and its REST channel, same model and action server), and our ratios to it;
- peak RSS of the Rasa process.

Run with `make bench` (or `.venv/bin/python bench/messenger_load.py`); SQLite by default,
or BENCH_DATABASE_URL=postgresql://... (a database of its own: it is emptied). Nothing is
asserted.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import aiohttp
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from bot.messenger.signature import sign  # noqa: E402
from bot.orders.seed import seed_demo_shop  # noqa: E402
from bot.runtime.processes import (  # noqa: E402
    ManagedProcess,
    running_action_server,
    running_servers,
    wait_until_ready,
)
from bot.runtime.training import rasa_environment, train_if_needed  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.store import create_db_engine  # noqa: E402
from bot.store.schema import drop_schema  # noqa: E402
from tests.fakes.fake_graph import DEFAULT_TOKEN, FakeGraphApi  # noqa: E402
from tests.fakes.fake_graph_server import FakeGraphServer  # noqa: E402

CONVERSATIONS = 20
MESSAGES = 1000
BURST_PER_CONVERSATION = 10
APP_SECRET = "bench-app-secret"
PAGE_ID = "104852338912345"
TEXTS = [
    "hi", "where is my order {order}?", "{email}", "how long does shipping to Germany take?",
    "how do I return these shoes?", "when will I get my refund", "thanks", "are you a bot?",
    "how much is express shipping to France", "bye",
]
"""One conversation's messages; each conversation asks about its own demo-shop order (20
conversations proving one order at once would rightly trip the per-order proof limit)."""

ORDERS: list[tuple[str, str]] = []
"""(order number, e-mail) of the demo shop, one per conversation; filled after seeding."""


def text_for(conversation: int, index: int) -> str:
    """The `index`th message of conversation number `conversation`."""
    order, email = ORDERS[conversation % len(ORDERS)]
    return TEXTS[index % len(TEXTS)].format(order=order, email=email)
REPLY_TIMEOUT = 60.0


def percentile(values: list[float], share: int) -> float:
    """The `share`th percentile (1-99) of `values`."""
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100)[share - 1]


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident set size (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_processes() -> dict[int, str]:
    """This process's children (the servers it started): pid -> command line."""
    children = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            if parent == os.getpid():
                command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ")
                children[int(stat.parent.name)] = command.decode(errors="replace")
        except (OSError, ValueError, IndexError):
            continue  # it ended meanwhile
    return children


def process_label(command: str) -> str:
    """A server's short name, from its command line."""
    if "bot.messenger.ingress" in command:
        return "receiver"
    if " actions" in command:
        return "actions"
    return "rasa" if " rasa " in command else command[:40]


async def model_figures(rasa_url: str) -> dict[str, tuple[float, float]]:
    """The Rasa process's model time so far, by part: (seconds, runs), from its metrics."""
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{rasa_url}/webhooks/health/metrics") as response:
            exposition = await response.text()
    figures: dict[str, list[float]] = {}
    for family in text_string_to_metric_families(exposition):
        if family.name not in {"nightdesk_model_seconds", "nightdesk_model_runs"}:
            continue
        for sample in family.samples:
            if sample.name.endswith("_total"):
                slot = 0 if family.name == "nightdesk_model_seconds" else 1
                figures.setdefault(sample.labels["part"], [0.0, 0.0])[slot] = sample.value
    return {part: (seconds, runs) for part, (seconds, runs) in figures.items()}


def model_delta(before: dict[str, tuple[float, float]],
                after: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
    """Model seconds and runs between two readings, by part."""
    return {part: (after[part][0] - before.get(part, (0.0, 0.0))[0],
                   after[part][1] - before.get(part, (0.0, 0.0))[1]) for part in after}


def dm_body(psid: str, text: str, timestamp: int) -> bytes:
    """A one-message page webhook, as Meta sends it."""
    return json.dumps({
        "object": "page",
        "entry": [{
            "id": PAGE_ID, "time": timestamp,
            "messaging": [{
                "sender": {"id": psid}, "recipient": {"id": PAGE_ID}, "timestamp": timestamp,
                "message": {"mid": f"m_{uuid.uuid4().hex}", "text": text},
            }],
        }],
    }).encode()


@dataclass
class Replies:
    """Watches the fake Graph API: per customer, when each `mark_seen` and message arrived.

    Events of one conversation are processed one at a time, so the first `mark_seen` after a
    POST opens that message's answer, and the first message after it is the answer's first.
    """

    api: FakeGraphApi
    calls: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    _seen: int = 0
    _changed: dict[str, asyncio.Event] = field(default_factory=dict)

    def _event(self, psid: str) -> asyncio.Event:
        return self._changed.setdefault(psid, asyncio.Event())

    async def watch(self) -> None:
        """The one poller of the fake's call list; wakes the waiters of customers it saw.

        Waiters sleep on an event instead of polling, so the load generator itself does not
        burn the CPU (and delay its own timings) while 20 conversations wait.
        """
        while True:
            calls = self.api.calls
            while self._seen < len(calls):
                call = calls[self._seen]
                self._seen += 1
                body = call.json if isinstance(call.json, dict) else {}
                # no failures are injected here; the status may not be set yet (still answering)
                if call.endpoint != "me/messages":
                    continue
                psid = (body.get("recipient") or {}).get("id")
                if "message" in body:
                    self.calls.setdefault(psid, []).append(("message", call.at))
                elif body.get("sender_action") == "mark_seen":
                    self.calls.setdefault(psid, []).append(("seen", call.at))
                else:
                    continue
                self._event(psid).set()
            await asyncio.sleep(0.005)

    def _answer_after(self, psid: str, posted_at: float) -> float | None:
        opened = None
        for kind, at in self.calls.get(psid, []):
            if opened is None and kind == "seen" and at >= posted_at:
                opened = at
            elif opened is not None and kind == "message":
                return at
        return None

    async def first_answer(self, psid: str, posted_at: float) -> float | None:
        """Waits for the first message of the answer to a message POSTed at `posted_at`."""
        deadline = time.monotonic() + REPLY_TIMEOUT
        changed = self._event(psid)
        while True:
            changed.clear()
            answered = self._answer_after(psid, posted_at)
            if answered is not None:
                return answered
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                await asyncio.wait_for(changed.wait(), timeout=left)
            except asyncio.TimeoutError:
                return None

    def answered(self, psid: str) -> int:
        """How many of the customer's messages have been answered so far."""
        count, opened = 0, False
        for kind, _ in self.calls.get(psid, []):
            if kind == "seen":
                opened = True
            elif opened:
                count, opened = count + 1, False
        return count


async def post_webhook(session: aiohttp.ClientSession, url: str, body: bytes) -> float:
    """POSTs a signed body; returns the ack latency in ms."""
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(APP_SECRET, body)}
    started = time.perf_counter()
    async with session.post(url, data=body, headers=headers) as response:
        await response.read()
        if response.status != 200:
            raise RuntimeError(f"webhook answered {response.status}")
    return (time.perf_counter() - started) * 1000


async def messenger_closed_loop(url: str, replies: Replies) -> dict[str, object]:
    """Each conversation sends its next message when the previous one got its answer."""
    acks: list[float] = []
    to_send_api: list[float] = []
    timeouts = 0
    per_conversation = MESSAGES // CONVERSATIONS

    async def conversation(session: aiohttp.ClientSession, number: int) -> None:
        nonlocal timeouts
        psid = f"9{number:015d}{uuid.uuid4().int % 1000:03d}"
        for index in range(per_conversation):
            sent_at = time.time()
            body = dm_body(psid, text_for(number, index), int(sent_at * 1000))
            acks.append(await post_webhook(session, url, body))
            first = await replies.first_answer(psid, sent_at)
            if first is None:
                timeouts += 1
                continue
            to_send_api.append((first - sent_at) * 1000)

    started = time.monotonic()
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(conversation(session, number) for number in range(CONVERSATIONS)))
    elapsed = time.monotonic() - started
    return {"acks": acks, "latency": to_send_api, "timeouts": timeouts, "elapsed": elapsed}


async def messenger_burst(url: str, replies: Replies) -> dict[str, object]:
    """Every message posted at once (20 at a time); ack latency with the backlog queued."""
    psids = [f"8{index:015d}{uuid.uuid4().int % 1000:03d}" for index in range(CONVERSATIONS)]
    bodies = []
    base = int(time.time() * 1000)
    for turn in range(BURST_PER_CONVERSATION):
        for number, psid in enumerate(psids):
            bodies.append(dm_body(psid, text_for(number, turn), base + turn * 100 + number))
    acks: list[float] = []
    started = time.monotonic()
    async with aiohttp.ClientSession() as session:
        queue = list(bodies)

        async def poster() -> None:
            while queue:
                acks.append(await post_webhook(session, url, queue.pop(0)))

        await asyncio.gather(*(poster() for _ in range(CONVERSATIONS)))
    posted = time.monotonic() - started
    deadline = time.monotonic() + REPLY_TIMEOUT * 2
    while time.monotonic() < deadline and any(
        replies.answered(psid) < BURST_PER_CONVERSATION for psid in psids
    ):
        await asyncio.sleep(0.05)
    drained = time.monotonic() - started
    unanswered = sum(max(BURST_PER_CONVERSATION - replies.answered(p), 0) for p in psids)
    return {"acks": acks, "posted": posted, "drained": drained, "unanswered": unanswered}


async def rest_closed_loop(rasa_url: str) -> dict[str, object]:
    """The same conversations through stock Rasa's REST channel (answer in the response)."""
    latencies: list[float] = []
    per_conversation = MESSAGES // CONVERSATIONS
    url = f"{rasa_url}/webhooks/rest/webhook"

    async def conversation(session: aiohttp.ClientSession, number: int) -> None:
        sender = f"rest-{number}-{uuid.uuid4().hex[:6]}"
        for index in range(per_conversation):
            started = time.perf_counter()
            payload = {"sender": sender, "message": text_for(number, index)}
            async with session.post(url, json=payload) as response:
                await response.read()
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.monotonic()
    timeout = aiohttp.ClientTimeout(total=REPLY_TIMEOUT)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        await asyncio.gather(*(conversation(session, number) for number in range(CONVERSATIONS)))
    return {"latency": latencies, "elapsed": time.monotonic() - started}


async def run(settings, rasa_pid: int, replies: Replies) -> dict[str, float]:
    url = f"{settings.messenger.ingress_url}/webhooks/messenger/webhook"
    watcher = asyncio.create_task(replies.watch())
    try:
        # warm-up: one conversation through each path
        warm_up = time.time()
        async with aiohttp.ClientSession() as session:
            await post_webhook(session, url, dm_body("7000000000000001", "hi",
                                                     int(warm_up * 1000)))
        await replies.first_answer("7000000000000001", warm_up)
        await rest_closed_loop_warmup(settings.rasa_url)

        servers = {pid: process_label(command) for pid, command in child_processes().items()}
        cpu_before = {pid: cpu_seconds(pid) for pid in servers}
        model_before = await model_figures(settings.rasa_url)
        closed = await messenger_closed_loop(url, replies)
        model_loaded = model_delta(model_before, await model_figures(settings.rasa_url))
        cpu_used = {servers[pid]: cpu_seconds(pid) - cpu_before[pid] for pid in servers}
        rss_messenger = peak_rss_mb(rasa_pid)
        model_quiet_before = await model_figures(settings.rasa_url)
        await rest_one_at_a_time(settings.rasa_url)
        model_quiet = model_delta(model_quiet_before, await model_figures(settings.rasa_url))
        burst = await messenger_burst(url, replies)
        rss_burst = peak_rss_mb(rasa_pid)
        rest = await rest_closed_loop(settings.rasa_url)
        rss_rest = peak_rss_mb(rasa_pid)
    finally:
        watcher.cancel()

    messages = MESSAGES // CONVERSATIONS * CONVERSATIONS
    print(f"== Messenger channel, {CONVERSATIONS} concurrent conversations, {messages} messages "
          "(closed loop: each sends its next message once answered)")
    acks, latency = closed["acks"], closed["latency"]
    print(f"webhook ack:              p50 {percentile(acks, 50):6.1f} ms   "
          f"p99 {percentile(acks, 99):6.1f} ms   max {max(acks):6.1f} ms")
    print(f"POST -> Send API call:    p50 {percentile(latency, 50):6.1f} ms   "
          f"p95 {percentile(latency, 95):6.1f} ms   ({closed['timeouts']} unanswered)")
    messenger_rate = messages / closed["elapsed"]
    print(f"throughput:               {messenger_rate:.1f} messages/s "
          f"({closed['elapsed']:.1f} s)")
    print(f"peak RSS of Rasa:         {rss_messenger:.0f} MB")
    report_model_share(messages, cpu_used, model_loaded, model_quiet)
    burst_acks = burst["acks"]
    print(f"== burst: {len(burst_acks)} webhooks posted at once, 20 at a time")
    print(f"webhook ack:              p50 {percentile(burst_acks, 50):6.1f} ms   "
          f"p99 {percentile(burst_acks, 99):6.1f} ms   max {max(burst_acks):6.1f} ms")
    print(f"all posted in {burst['posted']:.1f} s, answered after {burst['drained']:.1f} s "
          f"({len(burst_acks) / burst['drained']:.1f} messages/s, {burst['unanswered']} "
          f"unanswered); peak RSS {rss_burst:.0f} MB")
    rest_latency = rest["latency"]
    rest_rate = len(rest_latency) / rest["elapsed"]
    print(f"== Rasa's REST channel on our server, same model, {CONVERSATIONS} conversations, "
          f"{len(rest_latency)} messages")
    print(f"POST -> HTTP answer:      p50 {percentile(rest_latency, 50):6.1f} ms   "
          f"p95 {percentile(rest_latency, 95):6.1f} ms")
    print(f"throughput:               {rest_rate:.1f} messages/s ({rest['elapsed']:.1f} s); "
          f"peak RSS {rss_rest:.0f} MB")
    print("== Messenger / REST")
    print(f"answer latency p50 x{percentile(latency, 50) / percentile(rest_latency, 50):.2f}, "
          f"p95 x{percentile(latency, 95) / percentile(rest_latency, 95):.2f}; "
          f"throughput x{messenger_rate / rest_rate:.2f}")
    return {"messenger_rate": messenger_rate, "rest_rate": rest_rate,
            "messenger_p50": percentile(latency, 50), "rest_p50": percentile(rest_latency, 50)}


QUIET_MESSAGES = 60
"""Messages sent one at a time (nothing else running) to time the model alone."""


async def rest_one_at_a_time(rasa_url: str) -> None:
    """The bench's conversations again, one message at a time through the REST channel."""
    async with aiohttp.ClientSession() as session:
        for index in range(QUIET_MESSAGES):
            payload = {"sender": f"quiet-{index // len(TEXTS)}-{uuid.uuid4().hex[:6]}",
                       "message": text_for(index // len(TEXTS), index)}
            async with session.post(f"{rasa_url}/webhooks/rest/webhook",
                                    json=payload) as response:
                await response.read()


def report_model_share(messages: int, cpu_used: dict[str, float],
                       model_loaded: dict[str, tuple[float, float]],
                       model_quiet: dict[str, tuple[float, float]]) -> None:
    """The model's own cost per message against what the whole path costs.

    The model's own cost: how often it ran per message under the load (its runs counted by
    the Rasa process), times how long one run takes with nothing else running (the quiet
    REST messages). The path's cost: CPU seconds of every server process per message.
    """
    print("== the model's own cost and the whole path's, per answered message (closed loop)")
    own = 0.0
    for part, label in (("understanding", "reading the message"),
                        ("next_action", "choosing an action")):
        seconds, runs = model_loaded.get(part, (0.0, 0.0))
        quiet_seconds, quiet_runs = model_quiet.get(part, (0.0, 0.0))
        alone = quiet_seconds / quiet_runs * 1000 if quiet_runs else float("nan")
        own += runs / messages * alone
        under_load = seconds / runs * 1000 if runs else float("nan")
        print(f"model, {label + ':':21} {runs / messages:4.2f} runs per message, "
              f"{alone:5.2f} ms a run alone ({under_load:5.2f} ms under the load)")
    total = sum(cpu_used.values()) / messages * 1000
    parts = ", ".join(f"{name} {seconds / messages * 1000:.1f}"
                      for name, seconds in sorted(cpu_used.items()))
    print(f"the model's own cost:     {own:6.1f} ms per message")
    print(f"CPU of our processes:     {total:6.1f} ms per message ({parts}) = "
          f"x{total / own:.2f} of the model's own cost")


async def rest_closed_loop_warmup(rasa_url: str) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{rasa_url}/webhooks/rest/webhook",
                                json={"sender": "warm-up", "message": "hi"}) as response:
            await response.read()


STOCK_RASA_URL = "http://127.0.0.1:16107"


def stock_rasa(settings, model: Path, tmp: Path) -> ManagedProcess:  # noqa: ANN001
    """Stock `python -m rasa run`: Rasa's SQL tracker store, lock store and REST channel."""
    endpoints, credentials = tmp / "stock-endpoints.yml", tmp / "stock-credentials.yml"
    endpoints.write_text(
        f"action_endpoint:\n  url: {settings.action_server_url}\n"
        f"tracker_store:\n  type: SQL\n  dialect: sqlite\n  db: {tmp / 'stock-trackers.db'}\n")
    credentials.write_text("rest:\n")
    command = [sys.executable, "-m", "rasa", "run", "--model", str(model),
               "--endpoints", str(endpoints), "--credentials", str(credentials),
               "--interface", "127.0.0.1", "--port", STOCK_RASA_URL.rsplit(":", 1)[1]]
    process = subprocess.Popen(command, cwd=PROJECT, env=rasa_environment(settings),
                               stdout=(tmp / "logs" / "stock-rasa.log").open("ab"),
                               stderr=subprocess.STDOUT, start_new_session=True)
    return ManagedProcess("stock Rasa", process, f"{STOCK_RASA_URL}/")


def report_stock(rest: dict[str, object], rss: float, ours: dict[str, float]) -> None:
    latency = rest["latency"]
    rate = len(latency) / rest["elapsed"]
    print(f"== stock Rasa (python -m rasa run: its SQL tracker store on SQLite, its REST "
          f"channel), same model and action server, {CONVERSATIONS} conversations, "
          f"{len(latency)} messages")
    print(f"POST -> HTTP answer:      p50 {percentile(latency, 50):6.1f} ms   "
          f"p95 {percentile(latency, 95):6.1f} ms")
    print(f"throughput:               {rate:.1f} messages/s ({rest['elapsed']:.1f} s); "
          f"peak RSS {rss:.0f} MB")
    print("== ours / stock Rasa's REST")
    print(f"Messenger throughput x{ours['messenger_rate'] / rate:.2f}, "
          f"our REST channel x{ours['rest_rate'] / rate:.2f}; answer latency p50: Messenger "
          f"x{ours['messenger_p50'] / percentile(latency, 50):.2f}, our REST "
          f"x{ours['rest_p50'] / percentile(latency, 50):.2f}")


def main() -> None:
    api = FakeGraphApi(DEFAULT_TOKEN, default_profile={"first_name": "Bench"})
    server = FakeGraphServer(api)
    graph_url = server.start_in_thread()
    tmp = Path(tempfile.mkdtemp(prefix="nightdesk-bench-messenger-"))
    print(f"server logs and database (kept): {tmp}")
    settings = load_settings({
        "NIGHTDESK_HOME": str(PROJECT),
        "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp / 'bench.db'}",
        "RASA_URL": "http://127.0.0.1:16105",
        "ACTION_SERVER_URL": "http://127.0.0.1:16155/webhook",
        "RASA_AUTH_TOKEN": uuid.uuid4().hex,
        "GRAPH_API_URL": graph_url,
        "PAGE_ACCESS_TOKEN": DEFAULT_TOKEN,
        "APP_SECRET": APP_SECRET,
        "VERIFY_TOKEN": uuid.uuid4().hex,
        "META_APP_ID": "555000111222333",
        "MESSENGER_INGRESS_PORT": "16106",
    })
    try:
        model = train_if_needed(settings)
        engine = create_db_engine(settings.database_url)
        if engine.dialect.name == "postgresql":  # a database of its own: start empty
            drop_schema(engine)
            with engine.begin() as connection:
                connection.execute(text("drop table if exists events"))
        seed_demo_shop(engine, datetime.now(timezone.utc))
        with engine.connect() as connection:
            ORDERS.extend(connection.execute(text(
                "select o.number, c.email from shop_orders o join shop_customers c "
                "on c.id = o.customer_id order by o.number"
            )).all()[:CONVERSATIONS])
        with running_servers(settings, model, log_dir=tmp / "logs", timeout=600) as (_, rasa):
            ours = asyncio.run(run(settings, rasa.process.pid, Replies(api)))
        with running_action_server(settings, tmp / "logs" / "stock-actions.log"):
            stock = stock_rasa(settings, model, tmp)
            try:
                wait_until_ready(stock, 600)
                asyncio.run(rest_closed_loop_warmup(STOCK_RASA_URL))
                rest = asyncio.run(rest_closed_loop(STOCK_RASA_URL))
                rss = peak_rss_mb(stock.process.pid)
            finally:
                stock.stop()
        report_stock(rest, rss, ours)
        with engine.connect() as connection:
            statuses = dict(connection.execute(text(
                "select status, count(*) from messenger_inbox group by status")).all())
        print(f"inbox at the end: {statuses}")
    finally:
        server.stop_thread()


if __name__ == "__main__":
    main()
