"""Crash recovery benchmark: kill -9 of Rasa under load, holding messages, a DM behind junk.

Stack: the webhook receiver, the action server and the Rasa server on a temporary SQLite
database with the demo shop seeded, Messenger configured against the fake Graph API (in this
process, on loopback), the clock frozen at the tests' night (the team is closed), and
MESSENGER_HOLDING_AFTER_SECONDS=5.

1. Kill -9 mid-load, exactly once. 150 conversations x 6 messages of ordinary customer
   wording (English and Italian), each body delivered 3 times as Meta may do (again 1 s and
   10 s later), posted at a steady 30 bodies/s. Once about 300 messages are answered (inbox
   rows 'done'), the Rasa process gets SIGKILL and is started again at once, as a supervisor
   would. Prints what was posted, stored, answered, lost and replied twice (Send API texts
   beyond what Rasa's tracker holds; user messages twice in a tracker = turns run twice),
   the holding messages, and the times from the kill to the first Send API call, the first
   holding message (with its bound) and the first real answer, the restart time, the wall
   time.
2. A new DM behind 1,000 junk events: with Rasa idle, 1,000 junk texts (keyboard mash, emoji,
   long random strings) from 5 senders in bodies of 50 events, then one new customer's
   "hi, where is my order 10023?". Prints the DM's time from POST to its first answer, how
   much junk was done then, and how long the junk backlog took to drain.
3. The machine: cores, load, SQLite; ERROR and Traceback counts in the stack's logs.

Run with `make bench` (or `.venv/bin/python bench/crash_recovery.py [--conversations N]
[--junk N]`); about 10 minutes on 2 cores. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import os
import random
import re
import signal
import statistics
import string
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from sqlalchemy import bindparam, select, text
from sqlalchemy.engine import Engine

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from bot.messenger.ingress import WEBHOOK_PATH, create_app  # noqa: E402
from bot.orders.seed import seed_demo_shop  # noqa: E402
from bot.runtime.processes import (  # noqa: E402
    ManagedProcess,
    start_action_server,
    start_messenger_ingress,
    start_rasa_server,
    wait_until_ready,
)
from bot.runtime.training import train_if_needed  # noqa: E402
from bot.settings import Settings, load_settings  # noqa: E402
from bot.store import create_db_engine  # noqa: E402
from bot.store.tables import InboxEventRow, MessengerSendRow  # noqa: E402
from tests import messenger_payloads as payloads  # noqa: E402
from tests.fakes.fake_graph import DEFAULT_TOKEN, FakeGraphApi  # noqa: E402
from tests.fakes.fake_graph_server import FakeGraphServer  # noqa: E402
from tests.frozen_time import NIGHT  # noqa: E402

CONVERSATIONS = 150
TURNS = 6
DUPLICATE_DELAYS = (0.0, 1.0, 10.0)
"""When each delivery of a body is posted, in seconds after the first (Meta's duplicates)."""
BODIES_PER_SECOND = 30
KILL_AFTER_ANSWERED = 300
HOLD_AFTER_SECONDS = 5
CHECK_SECONDS = float(inspect.signature(create_app).parameters["check_seconds"].default)
"""How often the receiver's holding watch looks (its default)."""
DRAIN_LIMIT_SECONDS = 480.0
"""Longest wait, after the restart and the last POST, for every message to be answered."""
JUNK_EVENTS = 1000
JUNK_SENDERS = 5
JUNK_PER_BODY = 50
JUNK_DRAIN_LIMIT_SECONDS = 420.0
QUIET_SECONDS = 3.0
PORTS = {"rasa": 16305, "actions": 16355, "ingress": 16306}
SEED = 20261202
HOLDING = "utter_holding_message"
DOMAIN = yaml.safe_load((PROJECT / "domain.yml").read_text(encoding="utf-8"))["responses"]

ENGLISH = [
    ["hi", "hello, anyone there?", "good evening", "hi there"],
    ["how long does shipping to Italy take?", "how long does delivery to Italy take",
     "how many days for shipping to Italy?"],
    ["do you ship to Germany?", "can you deliver to Germany", "do you ship to Spain?"],
    ["where is my order {order}?", "hi, where is my order {order}?",
     "has my order {order} shipped yet?"],
    ["thanks", "thanks a lot", "great, thank you!"],
    ["bye", "ciao", "ok bye, good night"],
]
ITALIAN = [
    ["ciao", "buonasera", "ciao, sei sveglia?", "salve, buonasera"],
    ["quanto costa la spedizione?", "quanto costa la spedizione in Germania?",
     "quanto costa spedire in Francia?"],
    ["quanto ci vuole per la spedizione in Italia?", "spedite in Germania?",
     "in quanti giorni arriva in Italia?"],
    ["dov'è il mio ordine {order}?", "ciao, dov'è il mio ordine {order}?",
     "il mio ordine {order} è partito?"],
    ["grazie", "grazie mille", "perfetto, ti ringrazio"],
    ["ciao ciao", "buonanotte, a domani", "a domani allora"],
]
"""One list per turn: conversation n speaks English when n is even, Italian when odd."""


def matches(texts: list[str], name: str) -> bool:
    """Whether one of `texts` is a variation of response `name` (placeholders as wildcards)."""
    patterns = [
        re.compile(re.sub(r"\\\{\w+\\\}", ".*", re.escape(v["text"])) + "$", re.S)
        for v in DOMAIN[name]
        if "text" in v
    ]
    return any(p.match(t) for t in texts for p in patterns)


def is_holding(message_text: str) -> bool:
    """Whether a text the page sent is a holding message."""
    return matches([message_text], HOLDING)


def percentile(values: list[float], share: int) -> float:
    """The `share`th percentile (1-99) of `values`."""
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100)[share - 1]


def seconds(value: float | None) -> str:
    """`value` as seconds, or "never"."""
    return "never" if value is None else f"{value:.1f} s"


@dataclass
class Stack:
    """The three processes of the stack; Rasa is the one killed and started again."""

    settings: Settings
    model: Path
    log_dir: Path
    processes: dict[str, ManagedProcess] = field(default_factory=dict)

    def start(self, name: str) -> float:
        """Starts one process and waits until it answers; the seconds it took."""
        starters: dict[str, Callable[[], ManagedProcess]] = {
            "actions": lambda: start_action_server(self.settings, self.log_dir / "actions.log"),
            "rasa": lambda: start_rasa_server(self.settings, self.model,
                                              self.log_dir / "rasa.log"),
            "ingress": lambda: start_messenger_ingress(self.settings,
                                                       self.log_dir / "ingress.log"),
        }
        self.processes[name] = starters[name]()
        return wait_until_ready(self.processes[name], 600)

    def kill(self, name: str) -> None:
        """kill -9, and reaps it."""
        process = self.processes[name].process
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def stop(self) -> None:
        """Stops every process it started, the last started first."""
        for managed in reversed(list(self.processes.values())):
            managed.stop()


@dataclass(frozen=True)
class Sent:
    """One Send API message call the fake Graph API received."""

    psid: str
    at: float
    text: str


class Graph:
    """What the fake Graph API received, read from its call list."""

    def __init__(self, api: FakeGraphApi) -> None:
        self.api = api

    def send_calls(self, since: float = 0.0) -> list[tuple[float, str, dict[str, Any]]]:
        """(time, recipient, body) of every Send API POST (sender actions too) from `since`."""
        found = []
        for call in self.api.calls_to("me/messages", "POST"):
            body = call.json if isinstance(call.json, dict) else {}
            if call.at >= since:
                found.append((call.at, str((body.get("recipient") or {}).get("id")), body))
        return found

    def messages(self, since: float = 0.0) -> list[Sent]:
        """Messages delivered (sender actions left out), in order."""
        sent = []
        for call in self.api.calls_to("me/messages", "POST"):
            body = call.json if isinstance(call.json, dict) else {}
            if not call.applied or "message" not in body or call.at < since:
                continue
            message = body["message"]
            words = message.get("text")
            if words is None:
                words = ((message.get("attachment") or {}).get("payload") or {}).get("text", "")
            sent.append(Sent(str(body["recipient"].get("id")), call.at, str(words)))
        return sent

    def last_call_at(self) -> float:
        """When the last call of any kind arrived (0 when none did)."""
        calls = self.api.calls
        return calls[-1].at if calls else 0.0


def inbox_statuses(engine: Engine, psids: list[str]) -> Counter:
    """Inbox rows of these conversations, by status."""
    query = text("select status, count(*) from messenger_inbox where conversation_id in :ids "
                 "group by status").bindparams(bindparam("ids", expanding=True))
    with engine.connect() as connection:
        return Counter(dict(connection.execute(query, {"ids": psids}).all()))


def inbox_rows(engine: Engine, psids: list[str]) -> list[dict[str, Any]]:
    query = text("select event_id, conversation_id, kind, status, attempts from messenger_inbox "
                 "where conversation_id in :ids").bindparams(bindparam("ids", expanding=True))
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(query, {"ids": psids}).mappings()]


def tracker_events(engine: Engine, psids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Rasa's stored events per conversation, in order."""
    query = text("select sender_id, data from events where sender_id in :ids order by id"
                 ).bindparams(bindparam("ids", expanding=True))
    found: dict[str, list[dict[str, Any]]] = {psid: [] for psid in psids}
    with engine.connect() as connection:
        for sender_id, data in connection.execute(query, {"ids": psids}):
            found[sender_id].append(json.loads(data))
    return found


def open_cases(engine: Engine, psids: list[str]) -> dict[str, list[str]]:
    """Reasons of the cases opened per conversation."""
    query = text("select conversation_id, reason from handoff_tickets where conversation_id in "
                 ":ids order by id").bindparams(bindparam("ids", expanding=True))
    cases: dict[str, list[str]] = {}
    with engine.connect() as connection:
        for conversation_id, reason in connection.execute(query, {"ids": psids}):
            cases.setdefault(conversation_id, []).append(reason)
    return cases


def cut_turns(engine: Engine, psids: list[str], killed_at: float) -> tuple[int, int, int]:
    """Turns the kill cut short: run again, had sent replies before it, had a send in flight.

    Read from the send ledger: a turn tried more than once whose messages started before the
    kill had already spoken to the customer when Rasa died (the case exactly-once is about).
    """
    inbox, sends = InboxEventRow.__table__, MessengerSendRow.__table__
    with engine.connect() as connection:
        again = [row[0] for row in connection.execute(select(inbox.c.event_id).where(
            inbox.c.conversation_id.in_(psids), inbox.c.attempts > 1))]
        rows = connection.execute(select(
            sends.c.event_id, sends.c.started_at, sends.c.finished_at
        ).where(sends.c.event_id.in_(again))).all() if again else []
    killed = datetime.fromtimestamp(killed_at, timezone.utc)
    spoke = {row.event_id for row in rows if row.started_at < killed}
    in_flight = {row.event_id for row in rows if row.started_at < killed
                 and (row.finished_at is None or row.finished_at > killed)}
    return len(again), len(spoke), len(in_flight)


@dataclass(frozen=True)
class Delivery:
    """One POST of the plan: when (seconds from the start), the signed body, whose it is."""

    offset: float
    raw: bytes
    headers: dict[str, str]


@dataclass
class Posting:
    """What the poster saw: ack latencies, statuses, errors, when it finished."""

    acks: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    errors: Counter = field(default_factory=Counter)
    finished: float | None = None


def conversation_texts(number: int, order: str) -> list[str]:
    """The six messages of conversation `number`, asking about `order`."""
    turns = ENGLISH if number % 2 == 0 else ITALIAN
    return [choices[(number // 2 + index) % len(choices)].format(order=order)
            for index, choices in enumerate(turns)]


def load_plan(psids: list[str], orders: list[str]) -> list[Delivery]:
    """Every delivery of every message, turn by turn across conversations, in time order.

    Message i (of all of them) is first posted at i / rate seconds, rate = bodies per second
    / deliveries per body, and again after each of `DUPLICATE_DELAYS`.
    """
    rate = BODIES_PER_SECOND / len(DUPLICATE_DELAYS)
    base_ms = payloads.now_ms()
    texts = [conversation_texts(number, orders[number % len(orders)])
             for number in range(len(psids))]
    plan = []
    for turn in range(TURNS):
        for number, psid in enumerate(psids):
            first = (turn * len(psids) + number) / rate
            body = payloads.dm(texts[number][turn], psid, base_ms + int(first * 1000))
            raw, headers = payloads.signed(body)
            plan.extend(Delivery(first + delay, raw, headers) for delay in DUPLICATE_DELAYS)
    return sorted(plan, key=lambda delivery: delivery.offset)


async def post(session: aiohttp.ClientSession, url: str, raw: bytes, headers: dict[str, str],
               posting: Posting) -> None:
    """One POST; its ack time and status (or error) go to `posting`."""
    started = time.perf_counter()
    try:
        async with session.post(url, data=raw, headers=headers) as response:
            await response.read()
            posting.statuses[response.status] += 1
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:
        posting.errors[type(error).__name__] += 1
        return
    posting.acks.append((time.perf_counter() - started) * 1000)


async def post_plan(url: str, plan: list[Delivery], posting: Posting) -> None:
    """Posts each delivery at its time (a steady rate), without waiting for earlier acks."""
    loop = asyncio.get_running_loop()
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        started = loop.time()
        tasks = []
        for delivery in plan:
            delay = started + delivery.offset - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(
                post(session, url, delivery.raw, delivery.headers, posting)))
        await asyncio.gather(*tasks)
    posting.finished = time.time()


@dataclass
class Crash:
    """When Rasa was killed and back, and what the inbox held at the kill."""

    killed_at: float = 0.0
    ready_at: float = 0.0
    restart_seconds: float = 0.0
    at_kill: Counter = field(default_factory=Counter)


async def kill_and_restart(stack: Stack, engine: Engine, psids: list[str], kill_after: int,
                           crash: Crash) -> None:
    """Waits for `kill_after` answered messages, kills Rasa, starts it again at once.

    Kills it anyway after `DRAIN_LIMIT_SECONDS`, so a stuck bot cannot hang the benchmark.
    """
    deadline = time.monotonic() + DRAIN_LIMIT_SECONDS
    while (await asyncio.to_thread(inbox_statuses, engine, psids))["done"] < kill_after:
        if time.monotonic() > deadline:
            print(f"(fewer than {kill_after} answered after {DRAIN_LIMIT_SECONDS:.0f} s: "
                  "killing anyway)")
            break
        await asyncio.sleep(0.2)
    await asyncio.to_thread(stack.kill, "rasa")
    crash.killed_at = time.time()
    crash.at_kill = await asyncio.to_thread(inbox_statuses, engine, psids)
    crash.restart_seconds = await asyncio.to_thread(stack.start, "rasa")
    crash.ready_at = time.time()


async def settle(engine: Engine, graph: Graph, psids: list[str], expected: int,
                 limit: float) -> bool:
    """Waits until `expected` rows are all finished and nothing was sent for a moment."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        statuses = await asyncio.to_thread(inbox_statuses, engine, psids)
        unfinished = statuses["pending"] + statuses["processing"]
        if sum(statuses.values()) >= expected and not unfinished \
                and time.time() - graph.last_call_at() > QUIET_SECONDS:
            return True
        await asyncio.sleep(0.5)
    return False


def first_after(times: list[float], moment: float) -> float | None:
    """Seconds from `moment` to the first of `times` after it."""
    later = [at for at in times if at >= moment]
    return min(later) - moment if later else None


def exactly_once(events: dict[str, list[dict[str, Any]]], sent: list[Sent]) -> dict[str, Any]:
    """Per conversation: bot texts sent beyond the tracker's, turns twice, turns unanswered."""
    by_psid: dict[str, list[str]] = {}
    for message in sent:
        if not is_holding(message.text):
            by_psid.setdefault(message.psid, []).append(message.text)
    beyond = short = twice = unanswered = 0
    conversations_beyond: list[str] = []
    for psid, stored in events.items():
        mids = [e.get("message_id") for e in stored if e["event"] == "user"]
        twice += sum(count - 1 for count in Counter(mids).values() if count > 1)
        bot_texts = [e["text"] for e in stored if e["event"] == "bot" and e.get("text")]
        delivered = by_psid.get(psid, [])
        if len(delivered) > len(bot_texts):
            beyond += len(delivered) - len(bot_texts)
            conversations_beyond.append(psid)
        short += max(len(bot_texts) - len(delivered), 0)
        replied = True
        for event in stored:  # a user message followed by no bot text before the next one
            if event["event"] == "user":
                unanswered += not replied
                replied = False
            elif event["event"] == "bot" and event.get("text"):
                replied = True
        unanswered += not replied
    return {"beyond": beyond, "short": short, "twice": twice, "unanswered": unanswered,
            "conversations_beyond": conversations_beyond, "user_turns": sum(
                1 for stored in events.values() for e in stored if e["event"] == "user")}


async def crash_under_load(stack: Stack, engine: Engine, graph: Graph,
                           conversations: int) -> None:
    """Part 1 and 2: the load, the kill, the restart; then every figure."""
    with engine.connect() as connection:
        orders = [row[0] for row in connection.execute(text(
            "select number from shop_orders order by number"))]
    orders = ["10023", *[order for order in orders if order != "10023"]]
    psids = [payloads.new_psid() for _ in range(conversations)]
    plan = load_plan(psids, orders)
    messages = conversations * TURNS
    kill_after = KILL_AFTER_ANSWERED * conversations // CONVERSATIONS
    url = f"{stack.settings.messenger.ingress_url}{WEBHOOK_PATH}"
    print(f"== 1. kill -9 of Rasa under load: {conversations} conversations x {TURNS} messages "
          f"(English and Italian), each body delivered {len(DUPLICATE_DELAYS)} times "
          f"(+{DUPLICATE_DELAYS[1]:g} s, +{DUPLICATE_DELAYS[2]:g} s), {BODIES_PER_SECOND} "
          f"bodies/s; SIGKILL once {kill_after} are answered, restarted at once",
          flush=True)
    posting, crash = Posting(), Crash()
    started = time.time()
    await asyncio.gather(post_plan(url, plan, posting),
                         kill_and_restart(stack, engine, psids, kill_after, crash))
    settled = await settle(engine, graph, psids, messages, DRAIN_LIMIT_SECONDS)
    finished = time.time()

    rows = await asyncio.to_thread(inbox_rows, engine, psids)
    events = await asyncio.to_thread(tracker_events, engine, psids)
    cases = await asyncio.to_thread(open_cases, engine, psids)
    sent = [m for m in graph.messages(started) if m.psid in set(psids)]
    calls = [at for at, psid, _ in graph.send_calls(started) if psid in set(psids)]
    statuses = Counter(row["status"] for row in rows)
    once = exactly_once(events, sent)
    holding = [m for m in sent if is_holding(m.text)]
    real = [m.at for m in sent if not is_holding(m.text)]
    tried_again, spoke, in_flight = await asyncio.to_thread(
        cut_turns, engine, psids, crash.killed_at)
    not_done = len(rows) - statuses["done"]

    acks = posting.acks
    print(f"posted: {len(plan)} bodies ({messages} messages x {len(DUPLICATE_DELAYS)}) in "
          f"{(posting.finished or finished) - started:.1f} s; answers {dict(posting.statuses)}"
          f"{', errors ' + str(dict(posting.errors)) if posting.errors else ''}; ack p50 "
          f"{percentile(acks, 50):.1f} ms, p99 {percentile(acks, 99):.1f} ms, max "
          f"{max(acks, default=float('nan')):.0f} ms")
    print(f"stored once: {len(rows)} inbox rows for {messages} messages "
          f"({len(plan) - len(rows)} duplicate deliveries dropped); by status {dict(statuses)}")
    print(f"at the kill: {dict(crash.at_kill)}; turns run again after it: {tried_again}, of "
          f"which {spoke} had sent replies before the kill and {in_flight} had a Send API call "
          f"in flight at it")
    print(f"answered: {statuses['done']} of {messages} inbox rows done"
          f"{'' if settled else f' (gave up waiting after {DRAIN_LIMIT_SECONDS:.0f} s)'}; "
          f"{once['user_turns']} user turns in Rasa's trackers")
    print(f"lost: {not_done} inbox rows not done + {once['unanswered']} turns with no bot "
          f"text in the tracker (of {len(cases)} conversations with a case: "
          f"{dict(Counter(r for reasons in cases.values() for r in reasons))})")
    print(f"duplicated replies: {once['beyond']} bot texts sent beyond the trackers' (in "
          f"{len(once['conversations_beyond'])} conversations, holding messages left out); "
          f"{once['twice']} user messages twice in a tracker (turns run twice); "
          f"{once['short']} tracker texts never sent")
    before_kill = [m for m in holding if m.at < crash.killed_at]
    print(f"holding messages: {len(holding)} to {len({m.psid for m in holding})} conversations "
          f"({len(before_kill)} before the kill, while Rasa was up)")
    print(f"Rasa restart (process start to /status answering, model load): "
          f"{crash.restart_seconds:.1f} s")
    killed = crash.killed_at
    print(f"kill -> first Send API call: {seconds(first_after(calls, killed))}; "
          f"kill -> Rasa ready again: {crash.ready_at - killed:.1f} s; "
          f"kill -> first real answer: {seconds(first_after(real, killed))}")
    told = [m.at for m in holding if m.at >= killed]
    last_told = max(told) - killed if told else None
    print(f"== 2. kill -> first holding message: {seconds(first_after(told, killed))}, the last "
          f"of them: {seconds(last_told)} (MESSENGER_HOLDING_AFTER_"
          f"SECONDS={HOLD_AFTER_SECONDS}; the receiver looks every {CHECK_SECONDS:g} s and tells "
          f"those that waited {HOLD_AFTER_SECONDS} s, so the first is due at most "
          f"{CHECK_SECONDS:g} s after the kill when a message already waited {HOLD_AFTER_SECONDS}"
          f" s, and at most {CHECK_SECONDS + HOLD_AFTER_SECONDS:g} s after it arrived for any "
          f"message, plus the look itself and the Send API call)")
    print(f"kill -> last answer sent: {seconds(max(real, default=killed) - killed)}; "
          f"total wall time of the load: {finished - started:.1f} s", flush=True)


def junk_text(rng: random.Random) -> str:
    """A keyboard mash, a run of emoji, or a long random string."""
    kind = rng.randrange(3)
    if kind == 0:
        rows = ["qwertyuiop", "asdfghjkl", "zxcvbnm", "1234567890"]
        return "".join(rng.choice(rng.choice(rows)) for _ in range(rng.randint(4, 30)))
    if kind == 1:
        return "".join(chr(rng.randint(0x1F600, 0x1F64F)) for _ in range(rng.randint(1, 12)))
    alphabet = string.ascii_letters + string.digits + string.punctuation + "   "
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(200, 600)))


def junk_bodies(senders: list[str], count: int) -> list[tuple[bytes, dict[str, str]]]:
    """`count` junk text events in bodies of `JUNK_PER_BODY`, each from one of `senders`."""
    rng = random.Random(SEED)
    base = payloads.now_ms()
    items = []
    for index in range(count):
        item = payloads.dm(junk_text(rng), senders[index % len(senders)], base + index)
        items.extend(item["entry"][0]["messaging"])
    bodies = []
    for start in range(0, len(items), JUNK_PER_BODY):
        body = {"object": "page", "entry": [{
            "id": payloads.PAGE_ID, "time": base, "messaging": items[start:start + JUNK_PER_BODY],
        }]}
        bodies.append(payloads.signed(body))
    return bodies


async def dm_behind_junk(stack: Stack, engine: Engine, graph: Graph, junk: int) -> None:
    """Part 3: 1,000 junk events, then one new customer's DM; its answer time; the drain."""
    senders = [payloads.new_psid() for _ in range(JUNK_SENDERS)]
    bodies = junk_bodies(senders, junk)
    customer = payloads.new_psid()
    url = f"{stack.settings.messenger.ingress_url}{WEBHOOK_PATH}"
    print(f"== 3. a new DM behind junk: {junk} junk text events from {JUNK_SENDERS} senders in "
          f"{len(bodies)} bodies of {JUNK_PER_BODY}, then a new customer's "
          f"\"hi, where is my order 10023?\"", flush=True)
    posting = Posting()
    started = time.time()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        for raw, headers in bodies:
            await post(session, url, raw, headers, posting)
        junk_posted = time.time()
        raw, headers = payloads.signed(payloads.dm("hi, where is my order 10023?", customer))
        dm_posted = time.time()
        await post(session, url, raw, headers, posting)
    answer_at = None
    deadline = time.monotonic() + JUNK_DRAIN_LIMIT_SECONDS
    while answer_at is None and time.monotonic() < deadline:
        answers = [m.at for m in graph.messages(dm_posted) if m.psid == customer]
        answer_at = min(answers) if answers else None
        await asyncio.sleep(0.02)
    at_answer = await asyncio.to_thread(inbox_statuses, engine, senders)
    drained = await settle(engine, graph, senders, junk, JUNK_DRAIN_LIMIT_SECONDS)
    drained_at = time.time() - (QUIET_SECONDS if drained else 0)
    statuses = await asyncio.to_thread(inbox_statuses, engine, senders)
    cases = await asyncio.to_thread(open_cases, engine, senders)
    junk_sent = [m for m in graph.messages(started) if m.psid in set(senders)]
    print(f"posted in {junk_posted - started:.1f} s; answers {dict(posting.statuses)}"
          f"{', errors ' + str(dict(posting.errors)) if posting.errors else ''}; ack p50 "
          f"{percentile(posting.acks, 50):.0f} ms, max {max(posting.acks, default=0):.0f} ms")
    first = None if answer_at is None else answer_at - dm_posted
    print(f"new DM, POST -> first Send API answer: {seconds(first)}; junk at that moment: "
          f"{at_answer['done']} done, {at_answer['pending'] + at_answer['processing']} still "
          f"pending ({dict(at_answer)})")
    if drained:
        print(f"junk backlog drained {drained_at - started:.1f} s after its first POST; rows "
              f"{dict(statuses)}")
    else:
        print(f"junk backlog not drained after waiting {JUNK_DRAIN_LIMIT_SECONDS:.0f} s: rows "
              f"{dict(statuses)}")
    reasons = Counter(r for found in cases.values() for r in found)
    print(f"the junk got {len(junk_sent)} messages from the page "
          f"({sum(is_holding(m.text) for m in junk_sent)} holding); cases {dict(reasons)}",
          flush=True)


def log_problems(log_dir: Path) -> None:
    """ERROR and Traceback counts per log file."""
    print(f"== logs in {log_dir}")
    for path in sorted(log_dir.glob("*.log")):
        content = path.read_text(encoding="utf-8", errors="replace")
        print(f"{path.name}: {content.count('ERROR')} ERROR, {content.count('Traceback')} "
              f"Traceback")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=CONVERSATIONS)
    parser.add_argument("--junk", type=int, default=JUNK_EVENTS)
    args = parser.parse_args()
    begun = time.monotonic()
    api = FakeGraphApi(DEFAULT_TOKEN, profiles={}, default_profile={"first_name": "Bench"})
    server = FakeGraphServer(api)
    graph_url = server.start_in_thread()
    tmp = Path(tempfile.mkdtemp(prefix="nightdesk-bench-crash-"))
    print(f"server logs and database (kept): {tmp}")
    settings = load_settings({
        **os.environ,
        "NIGHTDESK_HOME": str(PROJECT),
        "DATABASE_URL": f"sqlite:///{tmp / 'bench.db'}",
        "RASA_URL": f"http://127.0.0.1:{PORTS['rasa']}",
        "ACTION_SERVER_URL": f"http://127.0.0.1:{PORTS['actions']}/webhook",
        "RASA_AUTH_TOKEN": uuid.uuid4().hex,
        "ORDERS_BACKEND": "sql",
        "NIGHTDESK_FROZEN_NOW": NIGHT,
        "GRAPH_API_URL": graph_url,
        "PAGE_ACCESS_TOKEN": DEFAULT_TOKEN,
        "APP_SECRET": payloads.APP_SECRET,
        "VERIFY_TOKEN": payloads.VERIFY_TOKEN,
        "META_APP_ID": payloads.APP_ID,
        "MESSENGER_INGRESS_PORT": str(PORTS["ingress"]),
        "MESSENGER_HOLDING_AFTER_SECONDS": str(HOLD_AFTER_SECONDS),
    })
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load[0]:.2f} / {load[1]:.2f} at the "
          f"start; database SQLite (one file); clock frozen at {NIGHT}; "
          f"MESSENGER_HOLDING_AFTER_SECONDS={HOLD_AFTER_SECONDS}", flush=True)
    stack = Stack(settings, train_if_needed(settings), tmp / "logs")
    engine = create_db_engine(settings.database_url)
    seed_demo_shop(engine, settings.clock()())
    try:
        for name in ("actions", "rasa", "ingress"):
            took = stack.start(name)
            print(f"{name} ready in {took:.1f} s", flush=True)
        graph = Graph(api)
        asyncio.run(crash_under_load(stack, engine, graph, args.conversations))
        asyncio.run(dm_behind_junk(stack, engine, graph, args.junk))
    finally:
        stack.stop()
        server.stop_thread()
    log_problems(tmp / "logs")
    print(f"whole run: {time.monotonic() - begun:.0f} s")


if __name__ == "__main__":
    main()
