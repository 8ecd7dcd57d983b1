"""Personal-data redaction for log lines and handoff transcripts.

Customers paste e-mail addresses, phone numbers, card numbers, IBANs and postal
addresses into the chat. Nothing of that may reach a log file or a transcript that
leaves the desk, so every such text goes through `redact` first, which swaps each
item for a placeholder: ``[email]``, ``[phone]``, ``[card]``, ``[iban]`` or
``[address]``.

The rules lean towards keeping what an agent needs to help: order numbers
(``10023``), prices (``59.90``), dates, times, bare postcodes and tracking codes
that mix letters and digits stay as they are. Card numbers must start with 2 to 6,
be grouped like a card and pass the Luhn check, and IBANs must pass the mod-97
check, so a mistyped number is left alone rather than guessed at. A phone number is
a run of 8 to 15 digits, so any other long bare number (a timestamp, a numeric id)
is redacted as ``[phone]`` too.

The kinds are applied in a fixed order: e-mail, IBAN, card, address, phone. IBANs
and cards come before phones so the looser phone rule can never eat half of them;
addresses come before phones so a house number next to a postcode is not read as a
phone number.

`redact_card_numbers` replaces card numbers alone, for the transcripts kept on the desk.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["contains_personal_data", "redact", "redact_card_numbers", "redact_mapping"]

_EMAIL_TAG = "[email]"
_PHONE_TAG = "[phone]"
_CARD_TAG = "[card]"
_IBAN_TAG = "[iban]"
_ADDRESS_TAG = "[address]"
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


# --- e-mail -------------------------------------------------------------------------

_EMAIL_RE = re.compile(r"(?<![\w.%+'-])[\w.%+'-]+@(?:[\w-]+\.)+[^\W\d_]{2,}(?![\w-])")


# --- IBAN ---------------------------------------------------------------------------

_IBAN_RE = re.compile(r"(?<![^\W_])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){11,30}(?![^\W_])")
_IBAN_SHAPE = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")


def _iban_is_valid(compact: str) -> bool:
    """Check an IBAN without spaces against ISO 13616 shape and mod-97."""
    candidate = compact.upper()
    if not _IBAN_SHAPE.fullmatch(candidate):
        return False
    rearranged = candidate[4:] + candidate[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


def _iban_handler(text: str, match: re.Match[str]) -> tuple[int, str] | None:
    """Replace the longest valid IBAN that starts at the match.

    The pattern may run on into a following word (``... 456 EUR``), so shorter
    candidates ending at a space are tried too.
    """
    raw = match.group()
    ends = [len(raw)] + [i for i in range(len(raw) - 1, 0, -1) if raw[i] == " "]
    for end in ends:
        if _iban_is_valid(raw[:end].replace(" ", "")):
            return match.start() + end, _IBAN_TAG
    return None


# --- payment cards ------------------------------------------------------------------

_CARD_RUN_RE = re.compile(r"(?<!\w)(?<!\d[ \-.,])\d+(?!\d)(?:[ \-]\d+(?!\d))*")
_DIGITS_RE = re.compile(r"\d+")


def _luhn_is_valid(digits: str) -> bool:
    """Luhn (mod 10) check of a string of digits."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _card_shaped(lengths: list[int]) -> bool:
    """Whether digit groups of these lengths are laid out like a card number.

    One unbroken group, groups of four with a shorter or equal last group
    (Visa, Mastercard, 19-digit cards), or 4-6-5 / 4-6-4 (Amex, Diners).
    """
    if len(lengths) == 1:
        return True
    if lengths in ([4, 6, 5], [4, 6, 4]):
        return True
    return all(length == 4 for length in lengths[:-1]) and 1 <= lengths[-1] <= 4


def _is_card(run: str, groups: list[tuple[int, int]], first: int, last: int) -> bool:
    """Whether the digit groups ``first..last`` of a run form a valid card number."""
    window = groups[first : last + 1]
    lengths = [end - start for start, end in window]
    digits = "".join(run[start:end] for start, end in window)
    # Card networks issue numbers starting with 2 to 6 (Mastercard 2-series, Amex,
    # Diners, JCB, Visa, Mastercard, Maestro, Discover, UnionPay); the rule keeps
    # most long numeric ids and timestamps out.
    if not 13 <= len(digits) <= 19 or digits[0] not in "23456" or not _card_shaped(lengths):
        return False
    return _luhn_is_valid(digits)


def _card_handler(text: str, match: re.Match[str]) -> tuple[int, str]:
    """Replace the valid card numbers inside a run of digit groups."""
    run = match.group()
    groups = [(group.start(), group.end()) for group in _DIGITS_RE.finditer(run)]
    if _glued_after(text, match.end()):
        groups.pop()
    pieces: list[str] = []
    copied = 0
    first = 0
    while first < len(groups):
        # A card-shaped window has at most five groups (4-4-4-4-3).
        for last in range(min(len(groups) - 1, first + 4), first - 1, -1):
            if _is_card(run, groups, first, last):
                pieces.append(run[copied : groups[first][0]])
                pieces.append(_CARD_TAG)
                copied = groups[last][1]
                first = last + 1
                break
        else:
            first += 1
    pieces.append(run[copied:])
    return match.end(), "".join(pieces)


# --- postal addresses ---------------------------------------------------------------

_LETTER = r"[^\W\d_]"
_UPPER = r"[A-ZÀ-ÖØ-ÞĀĂĄĆČĎĐĘĚŁŃŇŐŒŘŚŠŤŮŰŸŹŻŽ]"
_WORD = rf"{_LETTER}[\w'’.\-]*"
_CAPWORD = rf"{_UPPER}[\w'’\-]*"
_NAME = rf"{_WORD}(?:[ \t]+{_WORD}){{0,4}}"
_CITY = rf"{_LETTER}[\w'’.\-]*(?:[ \t]+{_LETTER}[\w'’.\-]*){{0,3}}(?:[ \t]*\([A-Z]{{2}}\))?"
_HOUSE = (
    r"(?:(?i:n[°º]?|nr|no)\.?[ \t]*)?\d{1,5}(?!\d)"
    r"(?:[ ]?[A-Za-z](?![^\W_]))?(?:[/\-](?:\d{1,4}[A-Za-z]?|[A-Za-z])(?![^\W_]))?"
)
_POSTCODE = r"(?:[A-Z]{1,2}-)?(?:\d{4}[ ]?[A-Z]{2}(?![^\W_])|\d{4,5}(?![\d\w]))"
_UK_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]?[ \t]*\d[A-Z]{2}(?![^\W_])"
_US_ZIP = r"\d{5}(?:-\d{4})?(?!\d)"
_EU_TAIL = (
    rf"(?:,?\s*(?:[-–][ \t]*)?{_POSTCODE}[ \t]+(?P<tcity>{_CITY})"
    rf"|,?\s*{_CITY},?\s+{_POSTCODE})"
)
_STREET_FIRST_TYPES = (
    r"via|viale|v\.le|piazza|p\.zza|p\.za|piazzale|corso|c\.so|largo|vicolo|vico"
    r"|strada|contrada|lungomare|lungotevere|borgo|salita|calle|avenida|avda|plaza"
    r"|paseo|camino|carrer|passeig|rua|travessa|rue|avenue|boulevard|bd|place"
    r"|chemin|allée|allee|quai|impasse|cours"
)
_NUMBER_FIRST_TYPES = (
    r"rue|avenue|av|boulevard|bd|bld|place|chemin|allée|allee|quai|impasse|route"
    r"|cours|passage|square|via|viale|calle|avenida|rua"
)
_STREET_SUFFIXES = (
    r"straße|strasse|str\.|weg|platz|allee|gasse|ring|damm|ufer|chaussee|steig"
    r"|pfad|markt|graben|straat|laan|gracht|plein|kade|vej|gade|gatan|vägen|gata|veien"
)
_ENGLISH_TYPES = (
    r"street|st|road|rd|avenue|ave|lane|ln|drive|dr|boulevard|blvd|way|place|pl"
    r"|square|sq|court|ct|terrace|crescent|close|parkway|pkwy|highway|hwy|row"
    r"|gardens|mews|walk|grove|hill"
)

_ADDRESS_PATTERNS = (
    # "Via Roma 12, 20121 Milano", "Calle Mayor 5, 28013 Madrid"
    re.compile(rf"(?<![^\W_])(?i:{_STREET_FIRST_TYPES})\.?[ \t]+{_NAME},?[ \t]+{_HOUSE}{_EU_TAIL}"),
    # "12 rue de Rivoli 75001 Paris"
    re.compile(
        r"(?<![^\W_])\d{1,5}(?!\d)(?:[ \t]?(?i:bis|ter)(?![^\W_]))?,?[ \t]+"
        rf"(?i:{_NUMBER_FIRST_TYPES})\.?[ \t]+{_NAME}{_EU_TAIL}"
    ),
    # "Hauptstraße 5, 10115 Berlin", "Berliner Straße 12a, 10713 Berlin"
    re.compile(
        rf"(?<![^\W_])(?:{_CAPWORD}[ \t]+){{0,2}}(?:{_LETTER}[\w'’\-]*?)?"
        rf"(?i:{_STREET_SUFFIXES})\.?[ \t]+{_HOUSE}{_EU_TAIL}"
    ),
    # "221B Baker Street, London NW1 6XE", "1600 Amphitheatre Parkway, Mountain
    # View, CA 94043"
    re.compile(
        r"(?<![^\W_])\d{1,5}[A-Za-z]?(?:[/\-]\d{1,4}[A-Za-z]?)?(?![^\W_])[ \t]+"
        rf"(?:{_WORD}[ \t]+){{1,4}}(?i:{_ENGLISH_TYPES})\.?(?![^\W_])"
        r"(?:,?[ \t]+(?i:apt|apartment|suite|unit|flat)\.?[ \t]*\w+)?"
        rf"(?:,?\s*{_CITY}(?:,?[ \t]+[A-Z]{{2}})?,?\s+(?:{_UK_POSTCODE}|{_US_ZIP})"
        rf"|,?\s*{_UK_POSTCODE}(?:[ \t]+(?P<tcity>{_CITY}))?"
        rf"|,?\s*[A-Z]{{2}}[ \t]+{_US_ZIP})"
    ),
)
_NON_SPACE_RE = re.compile(r"\S+")


def _address_handler(text: str, match: re.Match[str]) -> tuple[int, str]:
    """Replace an address, trimming words that were only swept up as its city.

    The city pattern takes up to four words. Words after the first are dropped when
    another address starts there, and trailing lowercase words ("Milano e poi") are
    dropped too; a sentence's full stop is left outside the placeholder.
    """
    end = match.end()
    start, city_end = match.span("tcity") if "tcity" in match.re.groupindex else (-1, -1)
    if start != -1 and city_end == end:
        words = [word.span() for word in _NON_SPACE_RE.finditer(text, start, city_end)]
        keep = 1
        for index in range(1, len(words)):
            previous = text[words[index - 1][0] : words[index - 1][1]]
            if previous.endswith(".") and len(previous) > 3:
                break  # "Milano. Ordine ...": a full stop, not "St. Gallen"
            if any(pattern.match(text, words[index][0]) for pattern in _ADDRESS_PATTERNS):
                break
            keep = index + 1
        while keep > 1 and text[words[keep - 1][0]].islower():
            keep -= 1
        end = words[keep - 1][1]
    while end > match.start() + 1 and text[end - 1] in ".,":
        end -= 1
    return end, _ADDRESS_TAG


# --- phone numbers ------------------------------------------------------------------

_SEP = r"[ \u00a0.\-/]"
_PHONE_RUN_RE = re.compile(
    rf"(?<![\w+])(?<!\d[ \u00a0.,:\-/])(?:\+[ ]?)?(?:\(\d{{1,6}}\)|\d+(?!\d))"
    rf"(?:{_SEP}?\(\d{{1,6}}\)|(?:{_SEP}|(?<=\)))\d+(?!\d))*"
)
_THOUSANDS_RE = re.compile(r"\d{1,3}(?:\.\d{3})+")

# Numbers that look like a phone number to the run pattern but are something else.
# They are hidden behind placeholders while phones are looked for.
_DAY_MONTH_YEAR_RE = re.compile(
    r"(?<![\d.\-/])(\d{1,2})([\-/.])(\d{1,2})\2(\d{4}|\d{2})(?!\d|[.\-/]\d)"
)
_YEAR_MONTH_DAY_RE = re.compile(r"(?<![\d.\-/])(\d{4})([\-/.])(\d{1,2})\2(\d{1,2})(?!\d|[.\-/]\d)")
_NOT_PHONES = (
    # 20261122
    re.compile(r"(?<!\d)(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?!\d)"),
    # 10:30, 10:30:15,123
    re.compile(r"(?<!\d)\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d{1,6})?)?(?!\d)"),
    # 59.90, 1.299,00
    re.compile(r"(?<![\d.,])\d+(?:[.,]\d{3})*[.,]\d{2}(?!\d|[.,]\d)"),
    # € 1299, 1299 EUR
    re.compile(r"(?:[€$£¥]|\b(?:EUR|USD|GBP|CHF)\b)[ \u00a0]?\d[\d.,]*"),
    re.compile(r"(?<![\d.,])\d[\d.,]*[ \u00a0]?(?:[€$£¥]|(?i:eur|usd|gbp|chf|euros?|dollars?)\b)"),
    # 192.168.100.200
    re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?!\d|\.\d)"),
)
_MASK_OPEN = "\ue000"
_MASK_CLOSE = "\ue001"
_MASK_BASE = 0xF0000
_MASK_RE = re.compile(f"{_MASK_OPEN}(.){_MASK_CLOSE}", re.DOTALL)


def _plausible_date(first: int, second: int) -> bool:
    """Whether two numbers can be day and month in either order."""
    return (1 <= first <= 31 and 1 <= second <= 12) or (1 <= first <= 12 and 1 <= second <= 31)


def _mask_non_phones(text: str) -> tuple[str, list[str]]:
    """Hide dates, times, prices and IP addresses behind digit-free placeholders.

    Returns:
        The masked text and the hidden originals, in placeholder order.
    """
    hidden: list[str] = []

    def hide(original: str) -> str:
        hidden.append(original)
        return f"{_MASK_OPEN}{chr(_MASK_BASE + len(hidden) - 1)}{_MASK_CLOSE}"

    def hide_date(match: re.Match[str], day_month: tuple[int, int]) -> str:
        return hide(match.group()) if _plausible_date(*day_month) else match.group()

    text = _YEAR_MONTH_DAY_RE.sub(lambda m: hide_date(m, (int(m.group(4)), int(m.group(3)))), text)
    text = _DAY_MONTH_YEAR_RE.sub(lambda m: hide_date(m, (int(m.group(1)), int(m.group(3)))), text)
    for pattern in _NOT_PHONES:
        text = pattern.sub(lambda m: hide(m.group()), text)
    return text, hidden


def _unmask(text: str, hidden: list[str]) -> str:
    """Put back what `_mask_non_phones` hid."""
    return _MASK_RE.sub(lambda m: hidden[ord(m.group(1)) - _MASK_BASE], text)


def _phone_handler(text: str, match: re.Match[str]) -> tuple[int, str]:
    """Replace a run of digits that reads as a phone number; keep anything else."""
    run = match.group()
    keep = (match.end(), run)
    lengths = [len(group) for group in _DIGITS_RE.findall(run)]
    if not 8 <= sum(lengths) <= 15 or _glued_after(text, match.end()):
        return keep
    before = text[: match.start()].rstrip(" \u00a0")
    if before.endswith(("€", "$", "£", "¥")):
        return keep
    if not run.startswith("+") and len(lengths) > 1:
        separators = set(re.sub(r"[\d()]", "", run))
        if _THOUSANDS_RE.fullmatch(run):
            return keep  # 12.345.678, an amount
        if all(length == 5 for length in lengths) and separators <= {"-", "/"}:
            return keep  # 10023-10025, a range of order numbers
        if sum(lengths) >= 13 and _card_shaped(lengths):
            return keep  # a mistyped card number is not a phone number either
    return match.end(), _PHONE_TAG


def _redact_phones(text: str) -> str:
    """Replace phone numbers, leaving dates, times, prices and amounts alone."""
    if _MASK_OPEN in text or _MASK_CLOSE in text:
        return _scan(text, _PHONE_RUN_RE, _phone_handler)
    masked, hidden = _mask_non_phones(text)
    return _unmask(_scan(masked, _PHONE_RUN_RE, _phone_handler), hidden)


# --- public API ---------------------------------------------------------------------


def redact(text: str) -> str:
    """Replace personal data in a text with placeholders.

    E-mail addresses become ``[email]``, IBANs ``[iban]``, payment card numbers
    ``[card]``, street addresses with a postcode ``[address]`` and phone numbers
    ``[phone]``. Order numbers, prices, dates, times, bare postcodes and tracking
    codes are kept. Redacting twice gives the same result as redacting once.

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
    if not any(char.isdigit() for char in text):
        return text
    text = _scan(text, _IBAN_RE, _iban_handler)
    text = _scan(text, _CARD_RUN_RE, _card_handler)
    for pattern in _ADDRESS_PATTERNS:
        text = _scan(text, pattern, _address_handler)
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
        number, IBAN or street address.
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
