"""The action server: Rasa SDK's app on loopback, with the shared secret checked when set.

`rasa run actions` listens on every interface (0.0.0.0) and answers anyone who reaches the
port with the customers' trackers. This entry point builds the same Rasa SDK application and
serves it on ACTION_SERVER_HOST (127.0.0.1 by default). With ACTION_SERVER_TOKEN set, Rasa
sends it on every call (`token` of endpoints.yml's `action_endpoint`, as a query parameter)
and every route but `/health` answers 401 without it. Listening off loopback without a token
is refused at start.
"""

from __future__ import annotations

import argparse
import hmac
import logging
from collections.abc import Sequence
from typing import Any

from rasa_sdk.endpoint import create_app
from sanic import Blueprint, Sanic, response
from sanic.request import Request

from bot.handoff.log_redaction import install_log_redaction
from bot.observability.probes import HEALTHZ, METRICS, READYZ
from bot.observability.sanic_probes import add_probe_routes
from bot.runtime.process_probes import SharedProbes
from bot.settings import SettingsError, get_settings

logger = logging.getLogger(__name__)

LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})
OPEN_PATHS = frozenset({"/health", HEALTHZ, READYZ, METRICS})


def create_action_app(actions_package: str, token: str | None) -> Sanic:
    """Rasa SDK's action server app; with `token`, calls without it get 401.

    It also serves /healthz, /readyz (the shared services, the database, Redis when set)
    and /metrics, without the token.
    """
    app = create_app(actions_package, cors_origins=None)
    shared = SharedProbes()
    probes = Blueprint("probes")
    add_probe_routes(probes, lambda: shared.probes)
    app.blueprint(probes)

    @app.listener("after_server_start")
    async def build_services(_: Sanic, __: Any) -> None:
        shared.start()

    @app.listener("before_server_stop")
    async def release_services(_: Sanic, __: Any) -> None:
        await shared.stop()

    if token:
        expected = token.encode()

        @app.middleware("request")
        async def require_token(request: Request) -> Any:
            if request.path in OPEN_PATHS:
                return None
            given = (request.args.get("token") or "").encode()
            if not hmac.compare_digest(given, expected):
                return response.json({"error": "missing or wrong action server token"},
                                     status=401)
            return None

    return app


def check_exposure(host: str, token: str | None) -> None:
    """Refuses an action server reachable from other hosts without the shared secret.

    Raises:
        SettingsError: `host` is not loopback and no token is set.
    """
    if host not in LOOPBACK and not token:
        raise SettingsError(
            f"ACTION_SERVER_HOST={host}: set ACTION_SERVER_TOKEN in .env (the same value for "
            "Rasa and the action server) before serving actions off loopback"
        )


def main(argv: Sequence[str] | None = None) -> None:
    """Serves the actions until interrupted."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--actions", default="actions", help="the actions package")
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--host", help="override ACTION_SERVER_HOST")
    args = parser.parse_args(argv)
    install_log_redaction()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)-8s %(name)s - "
                                                   "%(message)s")
    settings = get_settings()
    host = args.host or settings.action_server_host
    check_exposure(host, settings.action_server_token)
    app = create_action_app(args.actions, settings.action_server_token)
    logger.info("Action server on http://%s:%d (%s)", host, args.port,
                "token required" if settings.action_server_token else "loopback, no token")
    app.run(host, args.port, workers=1, access_log=False)


if __name__ == "__main__":
    main()
