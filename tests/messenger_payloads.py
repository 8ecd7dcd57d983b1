"""Meta webhook bodies for tests: the recorded fixtures, made fresh and signed like Meta does.

The fixtures in tests/fixtures/messenger/ keep the shapes of Meta's reference payloads. Tests
need new ids and current times for each conversation, so `fresh` rewrites PSIDs, message
ids, comment ids and timestamps in a copy, keeping everything else.
"""

from __future__ import annotations

import copy
import json
import time
import uuid
from pathlib import Path
from typing import Any

from bot.clock import parse_instant
from bot.messenger.signature import sign
from tests.frozen_time import NIGHT

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "messenger"
PAGE_ID = "104852338912345"
APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"
APP_ID = "555000111222333"


def load(name: str) -> dict[str, Any]:
    """A fixture as recorded."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


def new_psid() -> str:
    """A fresh customer PSID (digits, like Meta's)."""
    return str(7_000_000_000_000_000 + uuid.uuid4().int % 10**15)


_NIGHT_MS = int(parse_instant(NIGHT).timestamp() * 1000)
_STARTED = time.monotonic()


def now_ms(offset_seconds: float = 0) -> int:
    """Meta's timestamp for a message sent now, shifted by `offset_seconds`, in epoch ms.

    The test stacks' clock is frozen at `NIGHT`; Meta's clock starts there too and moves on
    with the test session, so messages keep their order and stay inside the 24-hour window.
    """
    return _NIGHT_MS + int((time.monotonic() - _STARTED + offset_seconds) * 1000)


def fresh(
    name: str,
    psid: str | None = None,
    timestamp: int | None = None,
    **replacements: Any,
) -> dict[str, Any]:
    """A fixture with new ids and times: every customer id becomes `psid`, every `mid` and
    comment id a new one, every `timestamp`/`time` `timestamp`; `replacements` set keys
    (e.g. text="...") wherever they occur."""
    body = copy.deepcopy(load(name))
    psid = psid or new_psid()
    timestamp = timestamp or now_ms()
    _rewrite(body, psid, timestamp, replacements)
    return body


def _rewrite(node: Any, psid: str, timestamp: int, replacements: dict[str, Any]) -> None:
    if isinstance(node, list):
        for item in node:
            _rewrite(item, psid, timestamp, replacements)
        return
    if not isinstance(node, dict):
        return
    for key, value in list(node.items()):
        if key in replacements:
            node[key] = replacements[key]
        elif key in ("sender", "recipient", "from") and isinstance(value, dict):
            if value.get("id") and value["id"] != PAGE_ID:
                value["id"] = psid
        elif key == "mid" or (key == "comment_id" and isinstance(value, str)):
            node[key] = f"{'m' if key == 'mid' else PAGE_ID + '_'}{uuid.uuid4().hex}"
        elif key == "timestamp" and isinstance(value, int):
            node[key] = timestamp if value > 10**11 else timestamp // 1000
        elif key == "created_time" and isinstance(value, int):
            node[key] = timestamp // 1000
        elif key == "time" and isinstance(value, int):
            node[key] = timestamp
        else:
            _rewrite(value, psid, timestamp, replacements)


def dm(text: str, psid: str, timestamp: int | None = None) -> dict[str, Any]:
    """A one-message DM body (the shape of dm_text.json)."""
    return fresh("dm_text", psid, timestamp, text=text)


def signed(body: dict[str, Any] | bytes, secret: str = APP_SECRET) -> tuple[bytes, dict[str, str]]:
    """The raw body and the headers Meta sends with it."""
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return raw, {"Content-Type": "application/json", "X-Hub-Signature-256": sign(secret, raw)}
