"""The action server's services: the composition root's (`bot.app_context`), built on first use.

Every action calls `get_services()`; the first call builds them (settings, database schema,
order back end), the later ones get the same `Services`, the one the server's readiness
checks (`bot.app_context.acquire_shared`).
"""

from __future__ import annotations

from functools import lru_cache

from bot.app_context import Services, acquire_shared


@lru_cache(maxsize=1)
def get_services() -> Services:
    """The action server's one `Services`, built on the first call (shared with its probes)."""
    return acquire_shared()
