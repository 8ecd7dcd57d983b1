"""`nightdesk up --processes N`: N Rasa servers, each with its action server, behind HAProxy.

The production layout of deploy/ on one machine, for trying it and for the tests:

* instance n (0..N-1) of the Rasa server listens on RASA_URL's port + 100·n and uses its own
  action server on ACTION_SERVER_URL's port + 100·n: 5n05 and 5n55 with the defaults, the
  ports of nightdesk-rasa@n and nightdesk-actions@n;
* one Messenger webhook receiver (when Messenger is set up) and one desk, whose RASA_URL is
  HAProxy's internal frontend (127.0.0.1:NIGHTDESK_INTERNAL_PORT), and whose
  DESK_TRUSTED_PROXIES lists 127.0.0.1 (HAProxy's X-Forwarded-For);
* HAProxy (Debian's package) in the foreground on var/haproxy.cfg, rendered from the same
  template as deploy/haproxy/nightdesk.cfg (`bot.runtime.haproxy_config`): the public
  frontend on NIGHTDESK_PUBLIC_HOST:NIGHTDESK_PUBLIC_PORT, the desk's on
  NIGHTDESK_DESK_PORT.

Several Rasa processes share conversations only through PostgreSQL and Redis, so the layout
is refused (`LayoutRefused`, before anything starts) without a PostgreSQL DATABASE_URL and a
REDIS_URL, without haproxy, or when two of its listeners would share a port.
"""

from __future__ import annotations

import dataclasses
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import ip_address, ip_network
from pathlib import Path
from urllib.parse import SplitResult, urlsplit, urlunsplit

from bot.runtime.haproxy_config import (
    RASA_READY_PATH,
    READY_PATH,
    HaproxyLayout,
    haproxy_binary,
    instance_port,
    render_haproxy_config,
)
from bot.runtime.processes import (
    ManagedProcess,
    listen_host,
    listen_port,
    start_action_server,
    start_desk,
    start_haproxy,
    start_messenger_ingress,
    start_rasa_server,
)
from bot.runtime.supervisor import Child
from bot.settings import Settings

MAX_PROCESSES = 9
"""Instances are numbered by one digit, as the systemd units' (5N05, 5N55)."""
HAPROXY_READY_PATH = "/haproxy/readyz"
"""On the internal frontend: 200 once HAProxy sees every Rasa server and the desk ready."""
RASA_READY_SECONDS = 600
"""How long a Rasa server may take to answer (N models load at once on shared cores)."""


class LayoutRefused(ValueError):
    """The several-process layout cannot run with these settings on this machine (why, how)."""


@dataclass(frozen=True)
class ProcessLayout:
    """What `nightdesk up --processes N` runs, from the settings.

    Attributes:
        settings: the settings of `nightdesk up` itself.
        processes: N, the number of Rasa servers (and action servers).
        haproxy: the haproxy executable.
        config_path: where the rendered HAProxy configuration is written (var/haproxy.cfg).
    """

    settings: Settings
    processes: int
    haproxy: str
    config_path: Path

    def instance(self, number: int) -> Settings:
        """The settings of Rasa server `number` and its action server (their own ports)."""
        rasa = urlsplit(self.settings.rasa_url)
        actions = urlsplit(self.settings.action_server_url)
        return dataclasses.replace(
            self.settings,
            rasa_url=_with_port(rasa, instance_port(listen_port(self.settings.rasa_url), number)),
            action_server_url=_with_port(
                actions, instance_port(listen_port(self.settings.action_server_url), number)),
        )

    @property
    def internal_url(self) -> str:
        """HAProxy's loopback frontend to the Rasa servers."""
        return f"http://127.0.0.1:{self.settings.load_balancer.internal_port}"

    @property
    def public_url(self) -> str:
        """HAProxy's public frontend (web chat, Messenger webhook)."""
        balancer = self.settings.load_balancer
        return f"http://{balancer.public_host}:{balancer.public_port}"

    @property
    def desk_url(self) -> str:
        """HAProxy's desk frontend."""
        balancer = self.settings.load_balancer
        return f"http://{balancer.public_host}:{balancer.desk_port}"

    def front(self) -> Settings:
        """The receiver's and the desk's settings: Rasa through HAProxy, which they trust."""
        proxies = self.settings.desk_trusted_proxies
        if not any(ip_address("127.0.0.1") in network for network in proxies):
            proxies = (*proxies, ip_network("127.0.0.1/32"))
        return dataclasses.replace(self.settings, rasa_url=self.internal_url,
                                   desk_trusted_proxies=proxies)

    def haproxy_layout(self) -> HaproxyLayout:
        """The template's values for this machine."""
        settings = self.settings
        balancer = settings.load_balancer
        return HaproxyLayout(
            rasa_servers=tuple(urlsplit(self.instance(n).rasa_url).netloc
                               for n in range(self.processes)),
            receiver=f"{settings.messenger.ingress_host}:{settings.messenger.ingress_port}",
            desk=f"{listen_host(settings.desk_url)}:{listen_port(settings.desk_url)}",
            public_bind=f"{balancer.public_host}:{balancer.public_port}",
            desk_bind=f"{balancer.public_host}:{balancer.desk_port}",
            internal_bind=f"127.0.0.1:{balancer.internal_port}",
            rest_channel=settings.rest_channel != "off",
            receiver_expected=settings.messenger.configured,
            run_as=None,
            origin=f"Written by `nightdesk up --processes {self.processes}`: it is rewritten "
                   "at every start.",
        )

    def ports(self) -> dict[str, int]:
        """Every listener of the layout and its port."""
        settings = self.settings
        balancer = settings.load_balancer
        found: dict[str, int] = {}
        for number in range(self.processes):
            instance = self.instance(number)
            found[f"Rasa server {number} (RASA_URL + {100 * number})"] = listen_port(
                instance.rasa_url)
            found[f"action server {number} (ACTION_SERVER_URL + {100 * number})"] = listen_port(
                instance.action_server_url)
        if settings.messenger.configured:
            found["webhook receiver (MESSENGER_INGRESS_PORT)"] = settings.messenger.ingress_port
        found["desk (DESK_URL)"] = listen_port(settings.desk_url)
        found["HAProxy public frontend (NIGHTDESK_PUBLIC_PORT)"] = balancer.public_port
        found["HAProxy desk frontend (NIGHTDESK_DESK_PORT)"] = balancer.desk_port
        found["HAProxy internal frontend (NIGHTDESK_INTERNAL_PORT)"] = balancer.internal_port
        return found

    def write_config(self) -> Path:
        """Renders the HAProxy configuration into `config_path` and has haproxy check it.

        Raises:
            LayoutRefused: haproxy finds the configuration invalid (its words).
        """
        self.config_path.parent.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(render_haproxy_config(self.haproxy_layout()),
                                    encoding="utf-8")
        check = subprocess.run([self.haproxy, "-c", "-q", "-f", str(self.config_path)],
                               capture_output=True, text=True, timeout=60)
        if check.returncode != 0:
            raise LayoutRefused(f"haproxy refuses {self.config_path}: "
                                f"{(check.stderr or check.stdout).strip()}")
        return self.config_path

    def children(self, model: Path, log_dir: Path) -> list[Child]:
        """What the supervisor runs: action servers, Rasa servers, receiver, desk, HAProxy."""
        children: list[Child] = []
        for number in range(self.processes):
            children.append(Child(_action_server(self.instance(number), number, log_dir), 300))
        for number in range(self.processes):
            children.append(Child(_rasa_server(self.instance(number), number, model, log_dir),
                                  RASA_READY_SECONDS))
        front = self.front()
        if front.messenger.configured:
            children.append(Child(lambda: start_messenger_ingress(
                front, log_dir / "ingress.log", ready_path=READY_PATH), 300))
        children.append(Child(lambda: start_desk(front, log_dir / "desk.log",
                                                 ready_path=READY_PATH), 60))
        ready = f"{self.internal_url}{HAPROXY_READY_PATH}"
        children.append(Child(lambda: start_haproxy(
            self.settings, self.haproxy, self.config_path, ready, log_dir / "haproxy.log"),
            RASA_READY_SECONDS))
        return children


def _action_server(settings: Settings, number: int, log_dir: Path
                   ) -> Callable[[], ManagedProcess]:
    return lambda: start_action_server(settings, log_dir / f"actions-{number}.log",
                                       name=f"action server {number}", ready_path=READY_PATH)


def _rasa_server(settings: Settings, number: int, model: Path, log_dir: Path
                 ) -> Callable[[], ManagedProcess]:
    return lambda: start_rasa_server(settings, model, log_dir / f"rasa-{number}.log",
                                     name=f"Rasa server {number}", ready_path=RASA_READY_PATH)


def _with_port(parts: SplitResult, port: int) -> str:
    return urlunsplit(parts._replace(netloc=f"{parts.hostname or '127.0.0.1'}:{port}"))


def plan_layout(settings: Settings, processes: int) -> ProcessLayout:
    """The layout for `processes` Rasa servers, once it is known it can run.

    Raises:
        LayoutRefused: not PostgreSQL, no Redis, no haproxy, too many processes, or two
            listeners on one port; the message says what to change.
    """
    if not 2 <= processes <= MAX_PROCESSES:
        raise LayoutRefused(f"--processes: from 2 to {MAX_PROCESSES} Rasa servers behind "
                            f"HAProxy, or 1 for the single-process layout; got {processes}")
    why = f"--processes {processes} runs {processes} Rasa servers that share conversations"
    if not settings.database_url.startswith(("postgresql://", "postgresql+")):
        raise LayoutRefused(
            f"{why} through one database: DATABASE_URL must be PostgreSQL "
            "(postgresql://user:password@host:5432/name); SQLite serves one process")
    if not settings.redis_url:
        raise LayoutRefused(
            f"{why} and their locks through Redis: set REDIS_URL "
            "(redis://127.0.0.1:6379/0)")
    haproxy = haproxy_binary()
    if haproxy is None:
        raise LayoutRefused(
            f"{why} behind HAProxy, which is not installed: sudo apt-get install haproxy "
            "(Debian's package; nightdesk starts it itself, its own service can stay off)")
    layout = ProcessLayout(settings, processes, haproxy,
                           settings.project_dir / "var" / "haproxy.cfg")
    by_port: dict[int, str] = {}
    for name, port in layout.ports().items():
        if port in by_port:
            raise LayoutRefused(
                f"{by_port[port]} and {name} would both listen on port {port}: change one "
                "of them in .env (under --processes, RASA_URL and ACTION_SERVER_URL are "
                "instance 0's own addresses, and instance n's ports are 100·n above)")
        by_port[port] = name
    return layout
