"""Which Rasa servers are running: every one must get a model `nightdesk promote` puts live.

`nightdesk up` records the Rasa servers it starts in var/rasa_instances.json (one for the
single-process layout, N for `--processes N`: the addresses of `ProcessLayout.instance`, the
ones it starts) and removes the record when it stops. Where systemd runs the servers
(deploy/: nightdesk-rasa@N), NIGHTDESK_RASA_INSTANCES lists them. Without either, RASA_URL is
the one server.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

from bot.settings import Settings

RECORD = Path("var") / "rasa_instances.json"
"""Under the project directory: what the running `nightdesk up` started."""


def record_path(settings: Settings) -> Path:
    """Where `nightdesk up` keeps its record of the Rasa servers it runs."""
    return settings.project_dir / RECORD


def record_instances(settings: Settings, urls: Sequence[str]) -> Path:
    """Notes the Rasa servers `nightdesk up` runs now (instance 0 first)."""
    path = record_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(json.dumps({"rasa_servers": list(urls)}, indent=2) + "\n",
                       encoding="utf-8")
    os.replace(partial, path)
    return path


def forget_instances(settings: Settings) -> None:
    """Removes the record when `nightdesk up` stops."""
    record_path(settings).unlink(missing_ok=True)


def rasa_instances(settings: Settings) -> tuple[str, ...]:
    """Every running Rasa server's own URL.

    NIGHTDESK_RASA_INSTANCES when set, else the running `nightdesk up`'s record, else RASA_URL.
    """
    if settings.rasa_instances:
        return settings.rasa_instances
    path = record_path(settings)
    if path.exists():
        servers = json.loads(path.read_text(encoding="utf-8")).get("rasa_servers") or []
        if servers:
            return tuple(str(url) for url in servers)
    return (settings.rasa_url,)
