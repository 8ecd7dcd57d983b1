"""The real HAProxy on a rendered layout, in front of small loopback servers.

Tiny aiohttp servers stand for the two Rasa servers, the webhook receiver and the desk (each
records what it was asked and answers its readiness URL, 200 or 503 as the test says);
HAProxy (Debian's, `haproxy -db`) runs the configuration `bot.runtime.haproxy_config`
renders, the same template as deploy/haproxy/nightdesk.cfg. No Rasa is started here.
Nothing is timed: what depends on HAProxy's health checks is waited for, with a generous
bound.
"""

from __future__ import annotations

import asyncio
import http.client
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from bot.runtime.haproxy_config import (
    DESK_MAX_BODY_BYTES,
    MESSENGER_MAX_BODY_BYTES,
    RASA_READY_PATH,
    READY_PATH,
    WEBCHAT_MAX_BODY_BYTES,
    HaproxyLayout,
    haproxy_binary,
    render_haproxy_config,
)
from tests.integration.conftest import port

HAPROXY = haproxy_binary()
pytestmark = pytest.mark.skipif(HAPROXY is None,
                                reason="haproxy is not installed (apt-get install haproxy)")

RASA_PORTS = (port(15905), port(15915))
RECEIVER_PORT = port(15906)
DESK_PORT = port(15980)
PUBLIC_PORT = port(15900)
DESK_FRONT_PORT = port(15988)
INTERNAL_PORT = port(15901)
SECOND_PUBLIC_PORT = port(15902)
SECOND_INTERNAL_PORT = port(15903)
SECOND_DESK_FRONT_PORT = port(15904)
WAIT_SECONDS = 60
"""The bound on waiting for HAProxy's health checks to notice a change (they need ~4 s)."""


@dataclass
class FakeServer:
    """One stand-in process: what reached it (readiness probes aside) and whether it is ready."""

    name: str
    listen_port: int
    ready_path: str
    ready: bool = True
    seen: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    """(method, path with query, headers) of every request but the readiness probes."""

    async def handle(self, request: web.Request) -> web.Response:
        if request.path == self.ready_path:
            return web.Response(status=200 if self.ready else 503, text=self.name)
        await request.read()
        self.seen.append((request.method, request.path_qs, dict(request.headers)))
        return web.json_response({"server": self.name})

    def paths(self) -> list[str]:
        return [path for _, path, _ in self.seen]


class FakeServers:
    """The stand-ins, served by one event loop in a thread."""

    def __init__(self, servers: list[FakeServer]) -> None:
        self.servers = servers
        self._loop = asyncio.new_event_loop()
        self._runners: list[web.AppRunner] = []
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(30)

    async def _start(self) -> None:
        for server in self.servers:
            app = web.Application(client_max_size=4 * 1024 * 1024)
            app.router.add_route("*", "/{tail:.*}", server.handle)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", server.listen_port).start()
            self._runners.append(runner)

    def stop(self) -> None:
        async def cleanup() -> None:
            for runner in self._runners:
                await runner.cleanup()

        asyncio.run_coroutine_threadsafe(cleanup(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(30)


@dataclass
class Balancer:
    """A running HAProxy and the stand-ins behind it."""

    rasa: tuple[FakeServer, FakeServer]
    receiver: FakeServer
    desk: FakeServer

    def forget(self) -> None:
        for server in (*self.rasa, self.receiver, self.desk):
            server.seen.clear()


def ask(listen_port: int, method: str, path: str, body: bytes | None = None,
        headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """One HTTP request on a fresh connection: the status and the body of the answer."""
    connection = http.client.HTTPConnection("127.0.0.1", listen_port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {WAIT_SECONDS} s: {what}")


def readiness(internal_port: int) -> int:
    try:
        return ask(internal_port, "GET", "/haproxy/readyz")[0]
    except OSError:
        return 0


def layout(public: int, desk_front: int, internal: int, rest_channel: bool) -> HaproxyLayout:
    return HaproxyLayout(
        rasa_servers=tuple(f"127.0.0.1:{number}" for number in RASA_PORTS),
        receiver=f"127.0.0.1:{RECEIVER_PORT}",
        desk=f"127.0.0.1:{DESK_PORT}",
        public_bind=f"127.0.0.1:{public}",
        desk_bind=f"127.0.0.1:{desk_front}",
        internal_bind=f"127.0.0.1:{internal}",
        rest_channel=rest_channel,
        receiver_expected=True,
        run_as=None,
        origin="The HAProxy routing test.",
    )


@pytest.fixture(scope="module")
def fakes() -> Iterator[FakeServers]:
    servers = FakeServers([
        FakeServer("rasa0", RASA_PORTS[0], RASA_READY_PATH),
        FakeServer("rasa1", RASA_PORTS[1], RASA_READY_PATH),
        FakeServer("receiver", RECEIVER_PORT, READY_PATH),
        FakeServer("desk", DESK_PORT, READY_PATH),
    ])
    servers.start()
    try:
        yield servers
    finally:
        servers.stop()


def run_haproxy(config: HaproxyLayout, directory: Path, internal: int) -> subprocess.Popen:
    path = directory / "haproxy.cfg"
    path.write_text(render_haproxy_config(config), encoding="utf-8")
    assert HAPROXY is not None
    process = subprocess.Popen([HAPROXY, "-db", "-f", str(path)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: process.poll() is not None or readiness(internal) == 200,
                   "HAProxy says every server is ready")
    except AssertionError:
        process.kill()
        raise
    assert process.poll() is None, process.stdout.read().decode() if process.stdout else ""
    return process


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def balancer(fakes: FakeServers, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Balancer]:
    rasa0, rasa1, receiver, desk = fakes.servers
    process = run_haproxy(layout(PUBLIC_PORT, DESK_FRONT_PORT, INTERNAL_PORT, True),
                          tmp_path_factory.mktemp("haproxy"), INTERNAL_PORT)
    try:
        yield Balancer((rasa0, rasa1), receiver, desk)
    finally:
        stop(process)


def test_the_web_chat_goes_round_robin_to_both_rasa_servers(balancer: Balancer) -> None:
    balancer.forget()
    for _ in range(10):
        assert ask(PUBLIC_PORT, "GET", "/webhooks/webchat/session")[0] == 200
    assert [len(server.seen) for server in balancer.rasa] == [5, 5]
    for path in ("/webhooks/webchat/", "/webhooks/webchat/static/chat.js",
                 "/webhooks/webchat/agent_messages?after=3"):
        assert ask(PUBLIC_PORT, "GET", path)[0] == 200, path
    status, _ = ask(PUBLIC_PORT, "POST", "/webhooks/webchat/webhook", b'{"message": "hi"}',
                    {"Content-Type": "application/json"})
    assert status == 200
    assert "/webhooks/webchat/agent_messages?after=3" in (
        balancer.rasa[0].paths() + balancer.rasa[1].paths())


def test_the_messenger_webhook_goes_to_the_receiver_with_forwarded_headers(
        balancer: Balancer) -> None:
    balancer.forget()
    status, body = ask(PUBLIC_PORT, "POST", "/webhooks/messenger/webhook", b'{"object":"page"}',
                       {"Content-Type": "application/json"})
    assert (status, body) == (200, b'{"server": "receiver"}')
    ((method, path, headers),) = balancer.receiver.seen
    assert (method, path) == ("POST", "/webhooks/messenger/webhook")
    assert headers["X-Forwarded-For"] == "127.0.0.1"
    assert headers["X-Forwarded-Proto"] == "http"
    assert ask(PUBLIC_PORT, "GET", "/webhooks/messenger/webhook?hub.mode=subscribe")[0] == 200
    assert not balancer.rasa[0].seen and not balancer.rasa[1].seen


def test_an_upstream_tls_terminators_proto_is_kept(balancer: Balancer) -> None:
    balancer.forget()
    ask(PUBLIC_PORT, "GET", "/webhooks/webchat/session", headers={"X-Forwarded-Proto": "https"})
    (_, _, headers), = balancer.rasa[0].seen + balancer.rasa[1].seen
    assert headers["X-Forwarded-Proto"] == "https"


@pytest.mark.parametrize("path", [
    "/conversations/someone/tracker?token=x", "/conversations/someone/messages", "/model",
    "/model/parse", "/status", "/version", "/", "/metrics", "/readyz", "/healthz",
    "/webhooks/health/metrics", "/webhooks/health/readyz", "/webhooks/health/healthz",
    "/webhooks/models/load?token=x", "/webhooks/messenger/webhook/extra",
    "/webhooks/webchat/static/../../status", "/webhooks/webchat/static/%2e%2e/%2e%2e/status",
    "/webhooks/webchat", "/webhooks/webchatx/",
])
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_every_other_path_is_refused_on_the_public_port(
        balancer: Balancer, path: str, method: str) -> None:
    balancer.forget()
    status, _ = ask(PUBLIC_PORT, method, path, b"{}" if method == "POST" else None)
    assert status in {403, 404}
    assert not any(server.seen for server in (*balancer.rasa, balancer.receiver, balancer.desk))


def test_only_get_head_and_post_reach_the_web_chat(balancer: Balancer) -> None:
    balancer.forget()
    for method in ("PUT", "DELETE", "PATCH", "OPTIONS"):
        assert ask(PUBLIC_PORT, method, "/webhooks/webchat/webhook", b"{}")[0] == 405, method
    assert not balancer.rasa[0].seen and not balancer.rasa[1].seen


@pytest.mark.parametrize(("path", "limit"), [
    ("/webhooks/webchat/webhook", WEBCHAT_MAX_BODY_BYTES),
    ("/webhooks/rest/webhook", WEBCHAT_MAX_BODY_BYTES),
    ("/webhooks/messenger/webhook", MESSENGER_MAX_BODY_BYTES),
])
def test_a_body_over_our_own_limit_is_refused_with_413(
        balancer: Balancer, path: str, limit: int) -> None:
    balancer.forget()
    assert ask(PUBLIC_PORT, "POST", path, b"x" * limit)[0] == 200
    assert ask(PUBLIC_PORT, "POST", path, b"x" * (limit + 1))[0] == 413
    reached = balancer.rasa[0].seen + balancer.rasa[1].seen + balancer.receiver.seen
    assert len(reached) == 1


def test_a_body_without_a_length_is_refused(balancer: Balancer) -> None:
    balancer.forget()
    # the whole chunked request in one write: HAProxy answers 411 and closes as soon as it has
    # the headers, so a client sending the chunks one by one may find the connection gone
    request = (b"POST /webhooks/webchat/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"2\r\n{}\r\n0\r\n\r\n")
    with socket.create_connection(("127.0.0.1", PUBLIC_PORT), timeout=30) as connection:
        connection.sendall(request)
        status_line = connection.makefile("rb").readline()
    assert status_line.split()[1] == b"411", status_line
    assert not balancer.rasa[0].seen and not balancer.rasa[1].seen


def test_the_desk_frontend_serves_the_desk_but_not_its_metrics_or_health(
        balancer: Balancer) -> None:
    balancer.forget()
    assert ask(DESK_FRONT_PORT, "GET", "/tickets")[1] == b'{"server": "desk"}'
    (_, _, headers), = balancer.desk.seen
    assert headers["X-Forwarded-For"] == "127.0.0.1"
    for path in ("/metrics", "/healthz", "/readyz"):
        assert ask(DESK_FRONT_PORT, "GET", path)[0] == 404, path
    assert ask(DESK_FRONT_PORT, "POST", "/login", b"x" * (DESK_MAX_BODY_BYTES + 1))[0] == 413
    assert len(balancer.desk.seen) == 1


def test_the_internal_frontend_reaches_rasas_http_api_without_proxy_headers(
        balancer: Balancer) -> None:
    balancer.forget()
    for _ in range(2):
        status, _ = ask(INTERNAL_PORT, "GET", "/conversations/someone/tracker?token=x")
        assert status == 200
    assert [server.paths() for server in balancer.rasa] == [
        ["/conversations/someone/tracker?token=x"]] * 2
    (_, _, headers) = balancer.rasa[0].seen[0]
    assert "X-Forwarded-For" not in headers


def test_a_rasa_server_that_is_not_ready_gets_no_traffic_until_it_is_again(
        balancer: Balancer) -> None:
    rasa0, rasa1 = balancer.rasa
    rasa1.ready = False
    try:
        wait_until(lambda: readiness(INTERNAL_PORT) == 503, "HAProxy sees rasa1 down")
        balancer.forget()
        for _ in range(10):
            assert ask(PUBLIC_PORT, "GET", "/webhooks/webchat/session")[0] == 200
        assert (len(rasa0.seen), len(rasa1.seen)) == (10, 0)
    finally:
        rasa1.ready = True
    wait_until(lambda: readiness(INTERNAL_PORT) == 200, "HAProxy sees rasa1 up again")
    balancer.forget()
    for _ in range(10):
        ask(PUBLIC_PORT, "GET", "/webhooks/webchat/session")
    assert (len(rasa0.seen), len(rasa1.seen)) == (5, 5)


def test_with_the_rest_channel_off_its_path_is_refused_too(
        fakes: FakeServers, tmp_path: Path) -> None:
    process = run_haproxy(
        layout(SECOND_PUBLIC_PORT, SECOND_DESK_FRONT_PORT, SECOND_INTERNAL_PORT, False),
        tmp_path, SECOND_INTERNAL_PORT)
    try:
        rasa = fakes.servers[:2]
        for server in rasa:
            server.seen.clear()
        assert ask(SECOND_PUBLIC_PORT, "POST", "/webhooks/rest/webhook", b"{}")[0] == 404
        assert ask(SECOND_PUBLIC_PORT, "GET", "/webhooks/rest/")[0] == 404
        assert ask(SECOND_PUBLIC_PORT, "GET", "/webhooks/webchat/session")[0] == 200
        assert sum(len(server.seen) for server in rasa) == 1
    finally:
        stop(process)
