"""Messenger texts cut or split to Messenger's lengths, at natural boundaries."""

from __future__ import annotations

import re

from bot.messenger.graph_limits import MAX_TEXT_LENGTH

_ELLIPSIS = "…"
_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s)")


def shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending with "…" when it was cut.

    Cuts at the last space of the allowed part when there is one in its second half.
    """
    if len(text) <= limit:
        return text
    if limit <= 1:
        return text[:limit]
    head = text[: limit - 1]
    space = head.rfind(" ")
    if space >= limit // 2:
        head = head[:space]
    return head.rstrip() + _ELLIPSIS


def _cut_point(text: str, limit: int) -> int:
    """Where to end the next part of a text longer than `limit`: an index in 1..limit.

    Prefers, among boundaries in the second half of the allowed part: a paragraph break, a
    line break, the end of a sentence, a space; with none, a hard cut at `limit`.
    """
    floor = max(limit // 2, 1)
    window = text[: limit + 1]
    for separator in ("\n\n", "\n"):
        index = window.rfind(separator, floor, limit + 1)
        if index >= floor:
            return index
    sentence_ends = [m.end() for m in _SENTENCE_END.finditer(window) if floor <= m.end() <= limit]
    if sentence_ends:
        return sentence_ends[-1]
    for index in range(limit, floor - 1, -1):
        if window[index].isspace():
            return index
    return limit


def split_text(text: str, limit: int = MAX_TEXT_LENGTH) -> list[str]:
    """`text` split into parts of at most `limit` characters, at natural boundaries.

    Args:
        text: the message; leading and trailing white space is dropped.
        limit: the longest part allowed (Messenger's limit by default).

    Returns:
        The parts in order; one part when the text fits. White space at a cut is dropped, so
        joining the parts with single spaces gives the text back up to white space.

    Raises:
        ValueError: the text is empty or only white space.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    rest = text.strip()
    if not rest:
        raise ValueError("cannot send an empty text")
    parts: list[str] = []
    while len(rest) > limit:
        cut = _cut_point(rest, limit)
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    parts.append(rest)
    return parts
