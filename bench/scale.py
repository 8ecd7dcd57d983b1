"""Scale benchmark: one Rasa process against two behind HAProxy, and SQLite against PostgreSQL.

Each layout is started the way production starts it, `nightdesk up [--processes N]`, and
given the same load: 20 concurrent conversations, 1,000 messages in all, first through the
signed Messenger webhook (answers recorded by the fake Graph API in this process), then
through the web chat (each conversation a cookie-keeping client). Layouts:

1. one Rasa process on SQLite (the default), no load balancer;
2. one Rasa process on PostgreSQL + Redis (`up`, lock store and Graph pause on Redis);
3. two Rasa processes on PostgreSQL + Redis behind HAProxy (`up --processes 2`).

Printed per layout and path: throughput, POST-to-answer p50/p95, CPU-seconds per answered
message of our processes (every process `up` started, HAProxy included: the fair measure
when all share the same two cores) and of the PostgreSQL and Redis servers (the machine's
own: other work on it shows up there), peak RSS of all our processes. Then the ratios, and a
projection on paper of what N hosts of 2 cores would carry.

Run: `.venv/bin/python bench/scale.py` (BENCH_MESSAGES for a shorter run; PostgreSQL on
BENCH_POSTGRES_URL's server gets a database of its own, `nightdesk_bench_scale`, emptied;
Redis on BENCH_REDIS_URL, database 15). Nothing is asserted.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import aiohttp
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

import messenger_load as load  # noqa: E402  (bench/ is this script's folder)

from bot.store import create_db_engine  # noqa: E402
from bot.store.schema import drop_schema  # noqa: E402
from tests.fakes.fake_graph import DEFAULT_TOKEN, FakeGraphApi  # noqa: E402
from tests.fakes.fake_graph_server import FakeGraphServer  # noqa: E402

MESSAGES = int(os.environ.get("BENCH_MESSAGES", "1000"))
CONVERSATIONS = 20
POSTGRES_SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
BASE_PORT = 17000
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


# ----------------------------------------------------------------- processes and /proc

def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of a live process, or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def tree(root: int) -> list[int]:
    """`root` and every process under it."""
    parents = {pid: stat[0] for pid in _all_pids() if (stat := _stat(pid))}
    found, frontier = [root], [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        found.extend(children)
        frontier.extend(children)
    return found


def named(*names: str) -> list[int]:
    """Processes whose command name is one of `names` (the database and Redis servers)."""
    found = []
    for pid in _all_pids():
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() in names:
                found.append(pid)
        except (FileNotFoundError, ProcessLookupError):
            continue
    return found


def cpu_seconds(pids: list[int]) -> float:
    return sum(stat[1] for pid in pids if (stat := _stat(pid)))


def peak_rss_mb(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            total += load.peak_rss_mb(pid)
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


# ----------------------------------------------------------------- layouts

@dataclass(frozen=True)
class Layout:
    """One way of running the product, and where its doors are."""

    name: str
    processes: int
    database_url: str
    redis_url: str | None

    @property
    def front(self) -> str:
        """Where customers' traffic goes: HAProxy's public port, or the servers themselves."""
        return f"http://127.0.0.1:{BASE_PORT}" if self.processes > 1 else ""

    @property
    def webhook_url(self) -> str:
        return f"{self.front or f'http://127.0.0.1:{BASE_PORT + 6}'}/webhooks/messenger/webhook"

    @property
    def webchat_url(self) -> str:
        return f"{self.front or f'http://127.0.0.1:{BASE_PORT + 5}'}/webhooks/webchat/webhook"

    def ready_urls(self) -> list[str]:
        urls = [f"http://127.0.0.1:{BASE_PORT + 5 + 100 * n}/webhooks/health/readyz"
                for n in range(self.processes)]
        urls.append(f"http://127.0.0.1:{BASE_PORT + 6}/readyz")
        return urls

    def environment(self, graph_url: str, home: Path) -> dict[str, str]:
        env = {
            **os.environ,
            "NIGHTDESK_HOME": str(PROJECT),
            "DATABASE_URL": self.database_url,
            "RASA_URL": f"http://127.0.0.1:{BASE_PORT + 5}",
            "ACTION_SERVER_URL": f"http://127.0.0.1:{BASE_PORT + 55}/webhook",
            "RASA_AUTH_TOKEN": uuid.uuid4().hex,
            "DESK_URL": f"http://127.0.0.1:{BASE_PORT + 80}",
            "NIGHTDESK_PUBLIC_PORT": str(BASE_PORT),
            "NIGHTDESK_DESK_PORT": str(BASE_PORT + 88),
            "NIGHTDESK_INTERNAL_PORT": str(BASE_PORT + 500),
            "MESSENGER_INGRESS_PORT": str(BASE_PORT + 6),
            "GRAPH_API_URL": graph_url,
            "PAGE_ACCESS_TOKEN": DEFAULT_TOKEN,
            "APP_SECRET": load.APP_SECRET,
            "VERIFY_TOKEN": uuid.uuid4().hex,
            "META_APP_ID": "555000111222333",
            "ORDERS_BACKEND": "sql",
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        }
        env.pop("REDIS_URL", None)
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        return env


def bench_postgres_url() -> str:
    """A database of the benchmark's own on the PostgreSQL server, emptied."""
    name = "nightdesk_bench_scale"
    server = create_engine(POSTGRES_SERVER, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        if not connection.execute(text("select 1 from pg_database where datname = :name"),
                                  {"name": name}).scalar():
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    return make_url(POSTGRES_SERVER).set(database=name).render_as_string(hide_password=False)


def empty_database(url: str) -> None:
    engine = create_db_engine(url)
    drop_schema(engine)
    with engine.begin() as connection:
        connection.execute(text("drop table if exists events"))
    engine.dispose()


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


@contextmanager
def running(layout: Layout, graph_url: str, home: Path) -> Iterator[subprocess.Popen]:
    """`nightdesk up` for the layout, until every server is ready; stopped afterwards."""
    log = open(home / f"{layout.name.replace(' ', '-')}.log", "w")  # noqa: SIM115
    command = [str(PROJECT / ".venv" / "bin" / "nightdesk"), "up",
               "--processes", str(layout.processes)]
    process = subprocess.Popen(command, env=layout.environment(graph_url, home), cwd=PROJECT,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 900
        while not all(_ready(url) for url in layout.ready_urls()):
            if process.poll() is not None:
                raise RuntimeError(f"{layout.name}: nightdesk up exited; see {log.name}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{layout.name}: not ready after 15 minutes; see {log.name}")
            time.sleep(1)
        yield process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


# ----------------------------------------------------------------- load

async def webchat_closed_loop(url: str) -> dict[str, object]:
    """Each of 20 browsers sends its next message once the answer to the last one came."""
    latencies: list[float] = []
    failures = 0
    per_conversation = MESSAGES // CONVERSATIONS

    async def browser(number: int) -> None:
        nonlocal failures
        jar = aiohttp.CookieJar(unsafe=True)  # the cookie of a loopback address
        timeout = aiohttp.ClientTimeout(total=load.REPLY_TIMEOUT)
        async with aiohttp.ClientSession(cookie_jar=jar, timeout=timeout) as session:
            for index in range(per_conversation):
                started = time.perf_counter()
                async with session.post(url, json={"message": load.text_for(number, index)}
                                        ) as response:
                    await response.read()
                    if response.status != 200:
                        failures += 1
                        continue
                latencies.append((time.perf_counter() - started) * 1000)

    started = time.monotonic()
    await asyncio.gather(*(browser(number) for number in range(CONVERSATIONS)))
    return {"latency": latencies, "elapsed": time.monotonic() - started, "failed": failures}


@dataclass
class Figures:
    """One path through one layout."""

    layout: str
    path: str
    answered: int
    elapsed: float
    p50: float
    p95: float
    our_cpu: float
    server_cpu: float
    rss_mb: float

    @property
    def rate(self) -> float:
        return self.answered / self.elapsed if self.elapsed else float("nan")

    @property
    def cpu_per_message(self) -> float:
        return self.our_cpu / self.answered if self.answered else float("nan")

    @property
    def server_cpu_per_message(self) -> float:
        return self.server_cpu / self.answered if self.answered else float("nan")

    def line(self) -> str:
        return (f"{self.layout:<28} {self.path:<9} {self.rate:6.1f}/s  "
                f"p50 {self.p50:7.1f} ms  p95 {self.p95:7.1f} ms  "
                f"CPU {self.cpu_per_message * 1000:6.1f} ms/msg (+ db/redis "
                f"{self.server_cpu_per_message * 1000:5.1f})  RSS {self.rss_mb:6.0f} MB  "
                f"({self.answered} answered)")


async def measure(layout: Layout, root: int, replies: load.Replies) -> list[Figures]:
    """The webhook path, then the web chat path, on a running layout."""
    ours = tree(root)
    servers = named("postgres", "redis-server")
    watcher = asyncio.create_task(replies.watch())
    results = []
    try:
        warm_up = time.time()
        async with aiohttp.ClientSession() as session:
            for number in range(2 * layout.processes):  # each Rasa process answers once
                psid = f"70000000000000{number:02d}"
                await load.post_webhook(session, layout.webhook_url,
                                        load.dm_body(psid, "hi", int(warm_up * 1000)))
                await replies.first_answer(psid, warm_up)
        paths = (("webhook", lambda: load.messenger_closed_loop(layout.webhook_url, replies)),
                 ("web chat", lambda: webchat_closed_loop(layout.webchat_url)))
        for path, run in paths:
            cpu_before, servers_before = cpu_seconds(ours), cpu_seconds(servers)
            outcome = await run()
            latency = outcome["latency"]
            results.append(Figures(
                layout.name, path, len(latency), outcome["elapsed"],
                load.percentile(latency, 50), load.percentile(latency, 95),
                cpu_seconds(ours) - cpu_before, cpu_seconds(servers) - servers_before,
                peak_rss_mb(ours)))
            print(results[-1].line(), flush=True)
    finally:
        watcher.cancel()
    return results


def seed_orders(database_url: str) -> None:
    """The demo shop's (order, e-mail) pairs the conversations ask about (`up` seeded it)."""
    engine = create_db_engine(database_url)
    with engine.connect() as connection:
        load.ORDERS[:] = connection.execute(text(
            "select o.number, c.email from shop_orders o join shop_customers c "
            "on c.id = o.customer_id order by o.number")).all()[:CONVERSATIONS]
    engine.dispose()


def project(figures: list[Figures]) -> None:
    """What N hosts of 2 cores would carry, from the CPU cost per message."""
    print("== on paper: hosts of 2 cores, each running what layout 3 runs per core")
    two = {f.path: f for f in figures if f.layout.startswith("2 Rasa")}
    for path, found in two.items():
        per_core = 1 / found.cpu_per_message if found.cpu_per_message else float("nan")
        print(f"{path:<9} {found.cpu_per_message * 1000:.1f} CPU-ms per message -> "
              f"{per_core:.0f} messages/s per core; 2 cores {2 * per_core:.0f}/s; "
              f"N hosts ~{2 * per_core:.0f}·N/s while PostgreSQL keeps up "
              f"({found.server_cpu_per_message * 1000:.1f} CPU-ms per message on its server "
              f"and Redis: one 2-core database host saturates near "
              f"{2 / found.server_cpu_per_message if found.server_cpu_per_message else 0:.0f}"
              "/s)")


def main() -> None:
    load.MESSAGES = MESSAGES  # the closed loop's total
    api = FakeGraphApi(DEFAULT_TOKEN, default_profile={"first_name": "Bench"})
    graph = FakeGraphServer(api)
    graph_url = graph.start_in_thread()
    home = Path(tempfile.mkdtemp(prefix="nightdesk-bench-scale-"))
    print(f"logs (kept): {home}; {CONVERSATIONS} conversations, {MESSAGES} messages per path")
    postgres = bench_postgres_url()
    layouts = [
        Layout("1 Rasa, SQLite", 1, f"sqlite:///{home / 'bench.db'}", None),
        Layout("1 Rasa, PostgreSQL+Redis", 1, postgres, REDIS_URL),
        Layout("2 Rasa+HAProxy, PG+Redis", 2, postgres, REDIS_URL),
    ]
    figures: list[Figures] = []
    try:
        for layout in layouts:
            if layout.database_url.startswith("postgresql"):
                empty_database(layout.database_url)
            api.reset()
            with running(layout, graph_url, home) as process:
                seed_orders(layout.database_url)
                figures.extend(asyncio.run(measure(layout, process.pid, load.Replies(api))))
    finally:
        graph.stop_thread()
    print("== ratios (same run)")
    by = {(f.layout, f.path): f for f in figures}
    for path in ("webhook", "web chat"):
        sqlite, pg, two = (by.get((layout.name, path)) for layout in layouts)
        if sqlite and pg:
            print(f"{path:<9} PostgreSQL+Redis over SQLite (1 process): "
                  f"{(pg.cpu_per_message - sqlite.cpu_per_message) * 1000:+.1f} CPU-ms per "
                  f"message in our processes, {pg.server_cpu_per_message * 1000:.1f} in theirs")
        if pg and two:
            print(f"{path:<9} 2 processes / 1: throughput x{two.rate / pg.rate:.2f}, p50 "
                  f"x{two.p50 / pg.p50:.2f}, CPU per message x"
                  f"{two.cpu_per_message / pg.cpu_per_message:.2f}, RSS x"
                  f"{two.rss_mb / pg.rss_mb:.2f}")
    project(figures)


if __name__ == "__main__":
    main()
