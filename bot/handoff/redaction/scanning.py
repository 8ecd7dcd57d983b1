"""The scan every kind of redaction shares: a pattern, a handler per match, and placeholders."""

from __future__ import annotations

import re
from collections.abc import Callable

_EMAIL_TAG = "[email]"
_PHONE_TAG = "[phone]"
_CARD_TAG = "[card]"
_IBAN_TAG = "[iban]"
_ADDRESS_TAG = "[address]"
_TAX_CODE_TAG = "[tax_code]"
_VAT_TAG = "[vat_number]"
_CIRCULAR = "[circular]"

# A handler looks at one regex match and returns ``(end, replacement)``: the text
# from the match start to ``end`` becomes ``replacement``. ``None`` means "no
# match here after all"; the scan then tries again one character further on.
_Handler = Callable[[str, "re.Match[str]"], "tuple[int, str] | None"]


def _scan(text: str, pattern: re.Pattern[str], handler: _Handler) -> str:
    """Apply ``handler`` to every match of ``pattern``, left to right.

    Unlike `re.sub`, a handler can shorten a match or reject it so that the search
    resumes inside it, and lookbehinds always see the original text.

    Args:
        text: The text to scan.
        pattern: What to look for.
        handler: Decides what each match becomes.

    Returns:
        The text with the handler's replacements applied.
    """
    pieces: list[str] = []
    copied = 0
    search_from = 0
    while search_from <= len(text):
        match = pattern.search(text, search_from)
        if match is None:
            break
        result = handler(text, match)
        if result is None:
            search_from = match.start() + 1
            continue
        end, replacement = result
        pieces.append(text[copied : match.start()])
        pieces.append(replacement)
        copied = end
        search_from = max(end, match.start() + 1)
    pieces.append(text[copied:])
    return "".join(pieces)


def _glued_after(text: str, end: int) -> bool:
    """Whether the digits ending at ``end`` continue into a longer token.

    True for a letter or digit right after (``12345678AB``) and for a decimal part
    (``12345678,90``, ``10:30``).
    """
    if end >= len(text):
        return False
    char = text[end]
    if char.isalnum() or char == "_":
        return True
    return char in ".,:" and end + 1 < len(text) and text[end + 1].isdigit()
