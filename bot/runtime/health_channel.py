"""The Rasa server's probe URLs, as a small input channel (credentials.yml: `HealthInput`).

Rasa mounts it at ``/webhooks/health/``:

* ``GET /webhooks/health/healthz``: 200 ``{"alive": true}`` while the server serves HTTP;
* ``GET /webhooks/health/readyz``: 200 when a model is loaded and the shared services, the
  database (and Redis, with REDIS_URL) answer; else 503 with the check that failed;
* ``GET /webhooks/health/metrics``: the process's metrics, the model served among them
  (``nightdesk_model_info{model="<file>"} 1``, which follows `nightdesk promote`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint

from bot.observability.health import condition_check
from bot.observability.sanic_probes import add_probe_routes
from bot.runtime.process_probes import SharedProbes


def loaded_model(app: Any) -> str | None:
    """The file name of the model the app's agent serves, None without one."""
    agent = getattr(app.ctx, "agent", None)
    if agent is None or not agent.is_ready():
        return None
    return agent.model_name


class HealthInput(InputChannel):
    """The channel of the probe URLs (no messages)."""

    @classmethod
    def name(cls) -> str:
        """Rasa's name for the channel (and its URL prefix)."""
        return "health"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> HealthInput:
        """Built from its `credentials.yml` entry (no settings of its own)."""
        return cls()

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        """The probe routes, and the services' start and stop."""
        health = Blueprint("health", __name__)
        served: dict[str, Any] = {}
        shared = SharedProbes([condition_check(
            "model", lambda: "app" in served and loaded_model(served["app"]) is not None,
            "no model loaded")])
        add_probe_routes(health, lambda: shared.probes)

        @health.listener("after_server_start")
        async def start(app: Any, _: Any) -> None:
            served["app"] = app
            shared.metrics.watch_model(lambda: loaded_model(app))
            shared.start()

        @health.listener("before_server_stop")
        async def stop(_: Any, __: Any) -> None:
            await shared.stop()

        return health
