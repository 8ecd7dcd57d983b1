"""The probes of a Sanic process (Rasa server, action server) whose services are shared.

`SharedProbes` takes the process's `Services` from the composition root (`acquire_shared`)
in the background once the server starts, so the server answers /healthz at once; /readyz
says "services: not ready" until they are built (a failed build is tried again at the next
/readyz), then checks the database (and Redis when set) and the process's own checks. The
process's metrics get the inbox's depth and oldest pending age once the services exist.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from bot.app_context import Services, acquire_shared, release_shared, service_checks
from bot.observability.health import Check, NotReady, Readiness
from bot.observability.metrics import Metrics, current
from bot.observability.probes import Probes

logger = logging.getLogger(__name__)


class SharedProbes:
    """Readiness and metrics of a process on the shared services.

    Args:
        own_checks: the process's own checks (a model loaded), run beside the services'.
        metrics: the process's metrics (`current()` by default).
    """

    def __init__(self, own_checks: Iterable[Check] = (), metrics: Metrics | None = None) -> None:
        self.own_checks = tuple(own_checks)
        self.metrics = metrics or current()
        self.services: Services | None = None
        self._service_checks: tuple[Check, ...] = ()
        self._building: asyncio.Task[None] | None = None
        self.probes = Probes(Readiness(self._checks), self.metrics)

    def _checks(self) -> list[Check]:
        return [Check("services", self.ensure_services), *self._service_checks,
                *self.own_checks]

    async def ensure_services(self) -> None:
        """Builds the services unless built (one build at a time); raises until they are."""
        if self.services is not None:
            return
        if self._building is None or self._building.done():
            self._building = asyncio.ensure_future(self._build())
        await asyncio.shield(self._building)
        if self.services is None:
            raise NotReady("not built")

    def start(self) -> None:
        """Starts building the services in the background (the server serves meanwhile)."""
        self._building = asyncio.ensure_future(self._build())

    async def _build(self) -> None:
        try:
            services = await asyncio.to_thread(acquire_shared)
        except Exception as error:  # noqa: BLE001 - readiness says so; tried again later
            logger.error("probes: the services could not be built (%s)", type(error).__name__)
            return
        self.services = services
        self._service_checks = service_checks(services)
        self.metrics.watch_inbox(services.inbox.pending_summary)

    async def stop(self) -> None:
        """Lets go of the shared services (the server stops)."""
        if self._building is not None and not self._building.done():
            self._building.cancel()
        if self.services is not None:
            self.services = None
            await release_shared()
