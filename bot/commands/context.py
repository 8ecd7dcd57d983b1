"""The services of one `nightdesk` command run, built once from the composition root."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app_context import Services


@lru_cache(maxsize=1)
def command_services() -> Services:
    """The command's services (`bot.app_context.build`), built on first use, once per run.

    Built lazily so that `nightdesk --help`, or a command that needs no database, opens none.
    """
    from bot.app_context import build

    return build()
