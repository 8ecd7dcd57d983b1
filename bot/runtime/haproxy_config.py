"""The HAProxy configuration of nightdesk's several-process layout, from one template.

`bot/runtime/haproxy.cfg.j2` is the layout (frontends, routes, what is refused, limits,
health checks); `render_haproxy_config(layout)` fills it in. Two callers: `nightdesk up
--processes N` (`bot.runtime.process_layout`) writes var/haproxy.cfg for this machine's
ports, and `production_layout(2)` is deploy/haproxy/nightdesk.cfg, the file Debian's
haproxy runs in production (a test checks the two agree). For another number of instances:

    python -m bot.runtime.haproxy_config --instances 3 > /etc/haproxy/nightdesk.cfg

Nothing here imports Rasa.
"""

from __future__ import annotations

import argparse
import shutil
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATE = Path(__file__).with_name("haproxy.cfg.j2")

RASA_READY_PATH = "/webhooks/health/readyz"
"""The Rasa server's readiness URL (model loaded, database and Redis reachable)."""
READY_PATH = "/readyz"
"""The readiness URL of the action server, the webhook receiver and the desk."""

MESSENGER_MAX_BODY_BYTES = 256 * 1024
"""The receiver's own limit (bot.messenger.webhook.DEFAULT_MAX_BODY_BYTES, credentials.yml)."""
WEBCHAT_MAX_BODY_BYTES = 16384
"""The web chat channel's limit (credentials.yml's max_body_bytes); the REST channel's too."""
DESK_MAX_BODY_BYTES = 64 * 1024
"""The desk's own limit (bot.desk.web.factory.MAX_REQUEST_BYTES)."""

INSTANCE_PORT_STEP = 100
"""Instance N's ports are the first's plus N times this: 5N05 and 5N55, as the systemd units."""

PRODUCTION_RASA_PORT = 5005
PRODUCTION_RECEIVER = "127.0.0.1:5006"
"""nightdesk-ingress.service: MESSENGER_INGRESS_HOST:MESSENGER_INGRESS_PORT of the .env."""
PRODUCTION_DESK = "127.0.0.1:8080"
"""nightdesk-desk.service's --host and --port."""
PRODUCTION_PUBLIC_PORT = 8000
PRODUCTION_DESK_PORT = 8088
PRODUCTION_INTERNAL_PORT = 5000
"""deploy/nightdesk.env's NIGHTDESK_PUBLIC_PORT, NIGHTDESK_DESK_PORT, NIGHTDESK_INTERNAL_PORT
(its RASA_URL is the internal frontend)."""


@dataclass(frozen=True)
class HaproxyLayout:
    """What the template needs: where each process listens and each frontend binds.

    Attributes:
        rasa_servers: "host:port" of each Rasa server, instance 0 first.
        receiver: "host:port" of the Messenger webhook receiver.
        desk: "host:port" of the agents' desk.
        public_bind: the public frontend's bind ("host:port", ":port" for every interface).
        desk_bind: the desk frontend's bind.
        internal_bind: the loopback frontend our own processes reach Rasa through.
        rest_channel: whether the public frontend routes the REST channel (REST_CHANNEL is
            not off).
        receiver_expected: whether the internal readiness URL waits for the receiver too.
        run_as: the user (and group) HAProxy drops to after binding, or None to stay as is.
        origin: one line saying where this file comes from, for its header.
    """

    rasa_servers: tuple[str, ...]
    receiver: str
    desk: str
    public_bind: str
    desk_bind: str
    internal_bind: str
    rest_channel: bool
    receiver_expected: bool
    run_as: str | None
    origin: str
    rasa_ready_path: str = RASA_READY_PATH
    ready_path: str = READY_PATH
    messenger_max_body: int = MESSENGER_MAX_BODY_BYTES
    webchat_max_body: int = WEBCHAT_MAX_BODY_BYTES
    desk_max_body: int = DESK_MAX_BODY_BYTES


def instance_port(first_port: int, instance: int) -> int:
    """The port of instance `instance` when instance 0 listens on `first_port`."""
    return first_port + INSTANCE_PORT_STEP * instance


def render_haproxy_config(layout: HaproxyLayout) -> str:
    """The HAProxy configuration for `layout`."""
    if not layout.rasa_servers:
        raise ValueError("the layout needs at least one Rasa server")
    environment = Environment(
        loader=FileSystemLoader(TEMPLATE.parent), undefined=StrictUndefined,
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, autoescape=False,
    )
    return environment.get_template(TEMPLATE.name).render(layout=layout)


def production_layout(instances: int) -> HaproxyLayout:
    """The production layout of deploy/: `instances` Rasa servers run by nightdesk-rasa@N."""
    return HaproxyLayout(
        rasa_servers=tuple(f"127.0.0.1:{instance_port(PRODUCTION_RASA_PORT, n)}"
                           for n in range(instances)),
        receiver=PRODUCTION_RECEIVER,
        desk=PRODUCTION_DESK,
        public_bind=f":{PRODUCTION_PUBLIC_PORT}",
        desk_bind=f":{PRODUCTION_DESK_PORT}",
        internal_bind=f"127.0.0.1:{PRODUCTION_INTERNAL_PORT}",
        rest_channel=False,
        receiver_expected=True,
        run_as="haproxy",
        origin=(f"Made by `python -m bot.runtime.haproxy_config --instances {instances}` from "
                "bot/runtime/haproxy.cfg.j2:\n# change the template, not this file. Rasa servers: "
                f"nightdesk-rasa@0..{instances - 1}, each with nightdesk-actions@N."),
    )


def haproxy_binary() -> str | None:
    """The haproxy executable (Debian puts it in /usr/sbin, not always on PATH), or None."""
    found = shutil.which("haproxy")
    if found:
        return found
    debian = Path("/usr/sbin/haproxy")
    return str(debian) if debian.exists() else None


def main(argv: list[str] | None = None) -> int:
    """Prints the production configuration for --instances Rasa servers."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--instances", type=int, choices=range(1, 10), default=2,
                        metavar="1-9", help="Rasa servers (nightdesk-rasa@0..N-1)")
    args = parser.parse_args(argv)
    print(render_haproxy_config(production_layout(args.instances)), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
