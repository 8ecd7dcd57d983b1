"""The public face of redaction: `redact` applies every kind in a fixed order (see the package)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.handoff.redaction.addresses import (
    _ADDRESS_PATTERNS,
    _SHORT_ADDRESS_RE,
    _address_handler,
    _short_address_handler,
)
from bot.handoff.redaction.identifiers import (
    _CARD_RUN_RE,
    _EMAIL_RE,
    _IBAN_RE,
    _TAX_CODE_RE,
    _VAT_LABELLED_RE,
    _VAT_RE,
    _card_handler,
    _iban_handler,
    _tax_code_handler,
    _vat_handler,
    _vat_labelled_handler,
)
from bot.handoff.redaction.phones import _redact_phones
from bot.handoff.redaction.scanning import _CIRCULAR, _EMAIL_TAG, _scan

# --- public API ---------------------------------------------------------------------


def redact(text: str) -> str:
    """Replace personal data in a text with placeholders.

    E-mail addresses become ``[email]``, codici fiscali ``[tax_code]``, IBANs
    ``[iban]``, payment card numbers ``[card]``, partite IVA ``[vat_number]``, street
    addresses (with a postcode, or Italian ones with a house number) ``[address]``
    and phone numbers ``[phone]``. Order numbers, prices, dates, times, bare
    postcodes and tracking codes are kept. Redacting twice gives the same result as
    redacting once.

    Args:
        text: Any text: a chat message, a log line, a traceback.

    Returns:
        The text with every item of personal data replaced.

    Raises:
        TypeError: If ``text`` is not a string.
    """
    if not isinstance(text, str):
        raise TypeError(f"redact() needs a str, not {type(text).__name__}")
    if "@" in text:
        text = _EMAIL_RE.sub(_EMAIL_TAG, text)
    text = _scan(text, _TAX_CODE_RE, _tax_code_handler)
    if not any(char.isdigit() for char in text):
        return text
    text = _scan(text, _IBAN_RE, _iban_handler)
    text = _scan(text, _CARD_RUN_RE, _card_handler)
    text = _scan(text, _VAT_LABELLED_RE, _vat_labelled_handler)
    text = _scan(text, _VAT_RE, _vat_handler)
    for pattern in _ADDRESS_PATTERNS:
        text = _scan(text, pattern, _address_handler)
    text = _scan(text, _SHORT_ADDRESS_RE, _short_address_handler)
    return _redact_phones(text)


def redact_card_numbers(text: str) -> str:
    """Replace payment card numbers only (``[card]``), the same way `redact` finds them.

    For texts kept for the people who answer the customer (a ticket's transcript): they may
    need an address or a phone number, but nobody on the desk needs a card number, and it
    must not be stored.
    """
    if not any(char.isdigit() for char in text):
        return text
    return _scan(text, _CARD_RUN_RE, _card_handler)


def contains_personal_data(text: str) -> bool:
    """Tell whether `redact` would change a text.

    Args:
        text: The text to check.

    Returns:
        True if the text holds at least one e-mail address, phone number, card
        number, IBAN, street address, tax code or VAT number.
    """
    return redact(text) != text


def redact_mapping(obj: Any) -> Any:
    """Redact every string inside a nested structure, returning a new structure.

    Dicts (and other mappings, returned as dicts), lists, tuples (named tuples keep
    their type), sets and frozensets are rebuilt with their strings redacted; dict
    keys are redacted too, so two keys that redact alike collapse into one. Other
    values (numbers, None, bytes, objects) are returned as they are. A container
    that contains itself is cut off with ``"[circular]"``.

    Args:
        obj: A log payload or a JSON-like transcript.

    Returns:
        A redacted copy of ``obj``; ``obj`` itself is not changed.
    """
    return _redact_nested(obj, set())


def _redact_nested(obj: Any, active: set[int]) -> Any:
    """Recursive part of `redact_mapping`; ``active`` holds the open containers."""
    if isinstance(obj, str):
        return redact(obj)
    if not isinstance(obj, (Mapping, list, tuple, set, frozenset)):
        return obj
    if id(obj) in active:
        return _CIRCULAR
    active.add(id(obj))
    try:
        if isinstance(obj, Mapping):
            return {
                _redact_nested(key, active): _redact_nested(value, active)
                for key, value in obj.items()
            }
        items = [_redact_nested(item, active) for item in obj]
        if isinstance(obj, tuple):
            return type(obj)(*items) if hasattr(obj, "_fields") else tuple(items)
        if isinstance(obj, frozenset):
            return frozenset(items)
        if isinstance(obj, set):
            return set(items)
        return items
    finally:
        active.discard(id(obj))
