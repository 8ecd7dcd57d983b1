"""Canned replies: the brand's ready answers (`canned_replies.yml`), filled for one ticket.

A placeholder the ticket has no value for stays visible (``{tracking_url}``), so the agent
sees what to fill in before sending rather than a reply with a hole in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

PLACEHOLDERS = ("first_name", "order_number", "tracking_url", "agent_name")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_KEY = re.compile(r"[a-z0-9_]{1,40}")


class CannedRepliesError(ValueError):
    """The file is not usable; the message names the entry and what is wrong."""


@dataclass(frozen=True)
class CannedReply:
    """One ready answer."""

    key: str
    title: str
    text: str

    def filled(self, values: dict[str, str | None]) -> str:
        """The text with the values the ticket has; the others stay as placeholders."""
        return _PLACEHOLDER.sub(
            lambda match: values.get(match.group(1)) or match.group(0), self.text
        )


def load_canned_replies(path: Path) -> list[CannedReply]:
    """The replies in the file; none when it does not exist."""
    if not path.exists():
        return []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise CannedRepliesError(f"{path.name}: not valid YAML ({error})") from None
    entries = data.get("replies") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise CannedRepliesError(f"{path.name}: expected a list under 'replies'")
    replies: list[CannedReply] = []
    for index, entry in enumerate(entries):
        where = f"{path.name}: replies[{index}]"
        if not isinstance(entry, dict) or set(entry) != {"key", "title", "text"}:
            raise CannedRepliesError(f"{where}: needs exactly key, title and text")
        key, title, text = (str(entry[k]).strip() for k in ("key", "title", "text"))
        if not _KEY.fullmatch(key) or any(r.key == key for r in replies):
            raise CannedRepliesError(f"{where}: key {key!r} is not a unique lower-case name")
        if not title or not text:
            raise CannedRepliesError(f"{where}: title and text must not be empty")
        unknown = sorted(set(_PLACEHOLDER.findall(text)) - set(PLACEHOLDERS))
        if unknown:
            raise CannedRepliesError(
                f"{where}: unknown placeholder {{{unknown[0]}}} "
                f"(known: {', '.join('{' + p + '}' for p in PLACEHOLDERS)})"
            )
        replies.append(CannedReply(key, title, text))
    return replies
