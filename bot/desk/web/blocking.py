"""Runs the desk's synchronous domain calls (SQLAlchemy underneath) off the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


async def run_blocking(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Calls `function` in a worker thread, so one slow query does not stall every page.

    Args:
        function: a synchronous call (a store's method, a report's figures).
        *args: its positional arguments.
        **kwargs: its keyword arguments.

    Returns:
        What `function` returned; what it raised is raised here.
    """
    return await asyncio.to_thread(function, *args, **kwargs)
