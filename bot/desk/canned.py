"""Canned replies: the brand's ready answers (`canned_replies.yml`), filled for one ticket.

Every reply is written in every brand language (its title and its text, ``it: ...``,
``en: ...``), like the facts of brand.yml; the file is checked at load, so a reply missing a
language stops the desk with the key and the language to add, rather than leaving an agent
without an answer in the customer's language. A ticket page offers the replies in the
ticket's language first (`offered_first`).

A placeholder the ticket has no value for stays visible (``{tracking_url}``), so the agent
sees what to fill in before sending rather than a reply with a hole in it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
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
    """One ready answer in one language.

    Attributes:
        key: the reply's name, the same in every language.
        language: the ISO 639-1 code it is written in.
        title: what the agent picks.
        text: what the customer reads, with placeholders.
    """

    key: str
    language: str
    title: str
    text: str

    def filled(self, values: Mapping[str, str | None]) -> str:
        """The text with the values the ticket has; the others stay as placeholders."""
        return _PLACEHOLDER.sub(
            lambda match: values.get(match.group(1)) or match.group(0), self.text
        )


def offered_first(
    replies: Sequence[CannedReply], language: str
) -> list[tuple[str, list[CannedReply]]]:
    """The replies grouped by language: `language`'s first, then the others in file order."""
    groups: dict[str, list[CannedReply]] = {}
    for reply in replies:
        groups.setdefault(reply.language, []).append(reply)
    order = sorted(groups, key=lambda code: code != language)  # stable: keeps the rest
    return [(code, groups[code]) for code in order]


def pick(replies: Sequence[CannedReply], key: str | None, language: str) -> CannedReply | None:
    """The reply `key` in `language`, else in the first language that has it; None if none."""
    named = [reply for reply in replies if reply.key == key]
    return next((r for r in named if r.language == language), named[0] if named else None)


def _forms(entry: dict, field: str, where: str, languages: Sequence[str]) -> dict[str, str]:
    """The field's form in every brand language, each stripped and not empty."""
    value = entry[field]
    example = ", ".join(f"{code}: ..." for code in languages)
    if not isinstance(value, dict):
        raise CannedRepliesError(
            f"{where}: {field} must be given in every brand language ({example})")
    for code in value:
        if str(code) not in languages:
            raise CannedRepliesError(f"{where}: {field} in {str(code)!r}: not a brand language "
                                     f"({', '.join(languages)})")
    forms: dict[str, str] = {}
    for code in languages:
        if code not in value:
            raise CannedRepliesError(f"{where}: {field} in {code!r} is missing "
                                     "(every brand language needs its own)")
        text = str(value[code] if value[code] is not None else "").strip()
        if not text:
            raise CannedRepliesError(f"{where}: {field} in {code!r} must not be empty")
        forms[code] = text
    return forms


def _shown(names: set[str]) -> str:
    return ", ".join("{" + name + "}" for name in sorted(names)) or "none"


def load_canned_replies(path: Path, languages: Sequence[str]) -> list[CannedReply]:
    """The replies in the file, each in every one of the brand's `languages`.

    Returned in file order, and within one key in the order of `languages`. None when the
    file does not exist.

    Raises:
        CannedRepliesError: naming the entry (and the language) that is wrong.
    """
    if not languages:
        raise ValueError("the brand's languages are needed to check canned replies")
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
    keys: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"{path.name}: replies[{index}]"
        if not isinstance(entry, dict) or set(entry) != {"key", "title", "text"}:
            raise CannedRepliesError(f"{where}: needs exactly key, title and text")
        key = str(entry["key"]).strip()
        if not _KEY.fullmatch(key) or key in keys:
            raise CannedRepliesError(f"{where}: key {key!r} is not a unique lower-case name")
        keys.add(key)
        where = f"{where} ({key})"
        titles = _forms(entry, "title", where, languages)
        texts = _forms(entry, "text", where, languages)
        used: dict[str, set[str]] = {}
        for code, text in texts.items():
            found = set(_PLACEHOLDER.findall(text))
            unknown = sorted(found - set(PLACEHOLDERS))
            if unknown:
                raise CannedRepliesError(
                    f"{where}: text in {code!r}: unknown placeholder {{{unknown[0]}}} "
                    f"(known: {', '.join('{' + p + '}' for p in PLACEHOLDERS)})"
                )
            used[code] = found
        first = languages[0]
        for code, found in used.items():
            if found != used[first]:
                raise CannedRepliesError(
                    f"{where}: text in {code!r} has the placeholders {_shown(found)}, "
                    f"but in {first!r} {_shown(used[first])}: every language needs the same")
        replies.extend(CannedReply(key, code, titles[code], texts[code]) for code in languages)
    return replies
