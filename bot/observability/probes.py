"""What a process's three probe URLs answer, whatever its web framework.

``/healthz``: 200 ``{"alive": true}`` whenever the process serves HTTP. ``/readyz``: 200
``{"ready": true, "checks": {...}}`` when every readiness check passes, else 503 with each
check's outcome. ``/metrics``: the process's metrics in Prometheus text format.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from bot.observability.health import Readiness, liveness
from bot.observability.metrics import CONTENT_TYPE, Metrics, current

HEALTHZ, READYZ, METRICS = "/healthz", "/readyz", "/metrics"


@dataclass
class Probes:
    """A process's readiness checks and metrics."""

    readiness: Readiness
    metrics: Metrics = field(default_factory=current)

    @staticmethod
    def healthz() -> tuple[int, dict[str, Any]]:
        """The liveness answer."""
        return 200, liveness()

    async def readyz(self) -> tuple[int, dict[str, Any]]:
        """The readiness answer: status and body."""
        report = await self.readiness.report()
        return report.status, report.body()

    async def metrics_text(self) -> tuple[bytes, str]:
        """The metrics and their content type (collected off the event loop)."""
        return await asyncio.to_thread(self.metrics.exposition), CONTENT_TYPE
